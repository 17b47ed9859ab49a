// The capacity test broker's PROXY protocol front, end to end: the built broker (dist/)
// with --proxy-protocol required and optional, raw TCP sockets writing hand-built headers
// before real MQTT (mqtt.js over that socket, or raw CONNECT bytes), and GET /admin/proxy
// joining what each header said to the client id of its CONNECT.
import net from 'node:net';
import { MqttClient } from 'mqtt';
import { launchCapacityBroker, type LaunchedBroker } from '../tools/testbroker/launch';
import { tlv, v2Header } from '../support/proxy-header';
import { waitFor } from '../support/wait';

const HEADER_TIMEOUT_MS = 500;

/** An MQTT 3.1.1 client whose TCP stream begins with `header`; never reconnects. Resolves on CONNACK. */
function proxiedClient(broker: LaunchedBroker, clientId: string, header: Buffer | null): Promise<MqttClient> {
  const client = new MqttClient(
    () => {
      const socket = net.connect(broker.port, broker.host);
      // Written before mqtt.js writes CONNECT, so the header is the stream's first bytes.
      if (header) socket.write(header);
      return socket;
    },
    { clientId, protocolVersion: 4, clean: true, reconnectPeriod: 0, connectTimeout: 5000, keepalive: 30 },
  );
  client.on('error', () => undefined);
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve(client));
    client.once('close', () => {
      client.end(true);
      reject(new Error(`${clientId}: closed before CONNACK`));
    });
  });
}

/** A raw socket that writes `bytes`; resolves with everything it received once the broker closed it (or after `ms`). */
function rawExchange(broker: LaunchedBroker, bytes: Buffer, ms = 3000): Promise<{ received: Buffer; closedByBroker: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect(broker.port, broker.host, () => socket.write(bytes));
    const chunks: Buffer[] = [];
    let settled = false;
    const settle = (closedByBroker: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ received: Buffer.concat(chunks), closedByBroker });
    };
    const timer = setTimeout(() => settle(false), ms);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => settle(true));
  });
}

/** CONNECT, MQTT 3.1.1, clean session, keep-alive 30 s. */
function connectPacket(clientId: string): Buffer {
  const id = Buffer.from(clientId, 'utf8');
  const variable = Buffer.from([0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x1e]);
  const payload = Buffer.concat([Buffer.from([id.length >> 8, id.length & 0xff]), id]);
  return Buffer.concat([Buffer.from([0x10, variable.length + payload.length]), variable, payload]);
}

const CONNACK_ACCEPTED = Buffer.from([0x20, 0x02, 0x00, 0x00]);

describe('capacity test broker: PROXY protocol', () => {
  let required: LaunchedBroker;
  let optional: LaunchedBroker;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    [required, optional] = await Promise.all([
      launchCapacityBroker({ name: 'pp-required', capacity: 100, proxyProtocol: 'required', proxyHeaderTimeoutMs: HEADER_TIMEOUT_MS }),
      launchCapacityBroker({ name: 'pp-optional', capacity: 100, proxyProtocol: 'optional' }),
    ]);
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
    await Promise.all([required?.stop(), optional?.stop()]);
  });

  it('records a v2 header with AUTHORITY and a custom 0xE0 TLV against the client id its CONNECT then sent', async () => {
    const header = v2Header({
      source: { address: '198.51.100.23', port: 53124 },
      destination: { address: '10.20.30.40', port: 1883 },
      tlvs: [tlv(0x02, 'broker-a.mqtt.example'), tlv(0xe0, 'tenant=blue')],
    });
    const { received, closedByBroker } = await rawExchange(required, Buffer.concat([header, connectPacket('raw-proxied')]), 1000);
    expect(received.subarray(0, 4)).toEqual(CONNACK_ACCEPTED);
    expect(closedByBroker).toBe(false);

    const report = await required.proxy({ clientId: 'raw-proxied' });
    expect(report).toMatchObject({ mode: 'required', maxHeaderBytes: 4096, headerTimeoutMs: HEADER_TIMEOUT_MS, historySize: 10_000 });
    expect(report.connections).toHaveLength(1);
    expect(report.connections[0]).toMatchObject({
      outcome: 'header',
      version: 2,
      command: 'proxy',
      family: 'inet4',
      transport: 'stream',
      source: { address: '198.51.100.23', port: 53124 },
      destination: { address: '10.20.30.40', port: 1883 },
      peer: { address: '127.0.0.1' },
      headerBytes: header.length,
      error: null,
      clientId: 'raw-proxied',
    });
    expect(report.connections[0].tlvs).toMatchObject({
      authority: 'broker-a.mqtt.example',
      custom: [{ type: 0xe0, hex: Buffer.from('tenant=blue').toString('hex'), utf8: 'tenant=blue' }],
    });
  });

  it('carries the MQTT stream after the header unchanged: a proxied subscriber gets a proxied publisher’s message', async () => {
    const header = (port: number): Buffer =>
      v2Header({
        source: { address: '2001:db8::5', port },
        destination: { address: '2001:db8::1', port: 1883 },
        tlvs: [tlv(0x01, 'mqtt')],
      });
    const sub = await proxiedClient(required, 'pp-sub', header(40001));
    const pub = await proxiedClient(required, 'pp-pub', header(40002));
    clients.push(sub, pub);
    await sub.subscribeAsync('pp/t', { qos: 1 });
    const got = new Promise<string>((resolve) => sub.once('message', (_topic, payload) => resolve(payload.toString())));
    await pub.publishAsync('pp/t', 'through the header', { qos: 1 });
    expect(await got).toBe('through the header');

    const [record] = (await required.proxy({ clientId: 'pp-sub' })).connections;
    expect(record).toMatchObject({ family: 'inet6', source: { address: '2001:db8::5', port: 40001 }, tlvs: { alpn: 'mqtt' } });
    expect((await required.clients()).map((c) => c.clientId)).toEqual(expect.arrayContaining(['pp-sub', 'pp-pub']));
  });

  it('accepts LOCAL, as Envoy’s health checks send it, and joins the id aedes assigned to an empty one', async () => {
    const before = (await required.proxy({ limit: 0 })).counts.local;
    const local = v2Header({ command: 'local' });
    const { received } = await rawExchange(required, Buffer.concat([local, connectPacket('')]), 1000);
    expect(received.subarray(0, 4)).toEqual(CONNACK_ACCEPTED);
    const report = await required.proxy();
    expect(report.counts.local).toBe(before + 1);
    const record = report.connections.filter((c) => c.command === 'local').at(-1);
    expect(record).toMatchObject({ outcome: 'header', source: null, destination: null, headerBytes: 16 });
    expect(record?.clientId).toEqual(expect.any(String));
    expect(record?.clientId).not.toBe('');
  });

  it('closes a connection without a header under required, and counts it by code', async () => {
    await expect(proxiedClient(required, 'plain-refused', null)).rejects.toThrow('closed before CONNACK');
    const report = await waitFor(
      async () => {
        const r = await required.proxy();
        return (r.counts.refused.PROXY_BAD_SIGNATURE ?? 0) >= 1 && r;
      },
      { what: 'a PROXY_BAD_SIGNATURE refusal', timeoutMs: 5000 },
    );
    const refused = report.connections.filter((c) => c.outcome === 'refused');
    expect(refused.at(-1)).toMatchObject({ error: { code: 'PROXY_BAD_SIGNATURE' }, clientId: null, tlvs: null });
    expect((await required.clients()).map((c) => c.clientId)).not.toContain('plain-refused');
    expect(await required.metrics()).toMatch(/^testbroker_proxy_refused_total\{code="PROXY_BAD_SIGNATURE",\} [1-9]/m);
  });

  it('closes a connection whose header does not arrive in time, and one whose header is too large', async () => {
    const partial = await rawExchange(required, v2Header().subarray(0, 10), HEADER_TIMEOUT_MS * 6);
    expect(partial.closedByBroker).toBe(true);
    const tooLarge = await rawExchange(required, v2Header({ tlvs: [tlv(0x04, Buffer.alloc(5000))] }), 3000);
    expect(tooLarge).toEqual({ received: Buffer.alloc(0), closedByBroker: true });
    const { counts } = await required.proxy({ limit: 0 });
    expect(counts.refused).toMatchObject({ PROXY_TIMEOUT: 1, PROXY_TOO_LARGE: 1 });
  });

  it('takes plain MQTT and PROXY headers alike under optional', async () => {
    const plain = await proxiedClient(optional, 'opt-plain', null);
    const proxied = await proxiedClient(
      optional,
      'opt-proxied',
      v2Header({ source: { address: '192.0.2.8', port: 1111 }, destination: { address: '192.0.2.9', port: 1883 } }),
    );
    clients.push(plain, proxied);
    const report = await optional.proxy();
    expect(report.mode).toBe('optional');
    expect(report.connections.find((c) => c.clientId === 'opt-plain')).toMatchObject({ outcome: 'absent', version: null, tlvs: null });
    expect(report.connections.find((c) => c.clientId === 'opt-proxied')).toMatchObject({
      outcome: 'header',
      source: { address: '192.0.2.8', port: 1111 },
    });
    expect(report.counts).toMatchObject({ absent: 1, headers: 1, refusedTotal: 0 });
  });

  it('answers a bad /admin/proxy query with 400 and the problem', async () => {
    const res = await fetch(`${required.adminUrl}/proxy?limit=lots`);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: 'FIELD_RANGE' } });
  });
});
