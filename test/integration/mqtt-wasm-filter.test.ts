// The MQTT Wasm filter (wasm/mqtt-filter) in the real Envoy 1.40, in front of a real aedes broker:
// real mqtt.js clients connect through it, non-MQTT peers are closed, and its counters appear in
// Envoy's admin stats. A static bootstrap for now; mqtt-xds will send the filter over ECDS.
import net from 'node:net';
import mqtt from 'mqtt';
import { startBroker, waitFor, type TestBroker } from '../support';
import { startStaticEnvoy, type StaticEnvoy } from '../support/envoy-static';
import { mqttFilterBootstrap } from '../support/mqtt-filter-envoy';
import { connectPacket } from '../support/mqtt-packets';

const LISTENER = 'mqtt_wasm';
const FIRST_PACKET_TIMEOUT_MS = 1500;

/** Writes `chunks` to a raw TCP connection one by one; resolves with what came back once Envoy or the broker closes it. */
function rawExchange(
  port: number,
  chunks: readonly Uint8Array[],
  closeAfterReply = false,
): Promise<{ received: Buffer; closedByPeer: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    let ended = false;
    socket.on('data', (d: Buffer) => {
      received.push(d);
      if (closeAfterReply) {
        ended = true;
        socket.destroy();
        resolve({ received: Buffer.concat(received), closedByPeer: false });
      }
    });
    socket.on('error', reject);
    socket.on('close', () => {
      if (!ended) resolve({ received: Buffer.concat(received), closedByPeer: true });
    });
    socket.once('connect', () => {
      void (async () => {
        for (const chunk of chunks) {
          socket.write(chunk);
          // Separate reads on Envoy's side: the filter must buffer across them.
          await new Promise((r) => setTimeout(r, 15));
        }
      })();
    });
  });
}

function connectClient(port: number, options: mqtt.IClientOptions): Promise<mqtt.MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, connectTimeout: 10_000, ...options });
    client.once('connect', () => resolve(client));
    client.once('error', (err) => {
      client.end(true);
      reject(err);
    });
    client.once('close', () => reject(new Error(`${options.clientId}: closed before CONNACK`)));
  });
}

describe('MQTT Wasm filter in the real Envoy', () => {
  let broker: TestBroker;
  let envoy: StaticEnvoy;
  let port: number;
  const counter = async (name: string): Promise<number> => (await envoy.admin.stat(`wasmcustom.${name}`)) ?? -1;

  beforeAll(async () => {
    broker = await startBroker('wasm-broker');
    envoy = await startStaticEnvoy(
      mqttFilterBootstrap({
        listener: LISTENER,
        brokerPort: broker.port,
        filterConfig: { maxConnectBytes: 4096, maxClientIdBytes: 64, firstPacketTimeoutMs: FIRST_PACKET_TIMEOUT_MS },
      }),
      { componentLogLevel: 'wasm:debug' },
    );
    port = await envoy.listenerPort(LISTENER);
  });

  afterAll(async () => {
    await envoy?.stop();
    await broker?.stop();
  });

  it('lets an MQTT 3.1.1 client connect through, and its traffic after the CONNECT flow both ways', async () => {
    const client = await connectClient(port, { clientId: 'wasm-311', protocolVersion: 4 });
    try {
      const got = new Promise<string>((resolve) => client.on('message', (_topic, payload) => resolve(payload.toString())));
      await client.subscribeAsync('wasm/echo', { qos: 1 });
      await client.publishAsync('wasm/echo', 'through the filter', { qos: 1 });
      expect(await got).toBe('through the filter');
    } finally {
      await client.endAsync();
    }
    expect(await counter('mqtt_connect_total.protocol_version.4')).toBeGreaterThanOrEqual(1);
    expect(envoy.logs()).toContain('CONNECT accepted: protocol_version=4 client_id="wasm-311" clean_start=1 keep_alive_s=60');
  });

  it('lets an MQTT 3.1 (MQIsdp) client connect through', async () => {
    const client = await connectClient(port, { clientId: 'wasm-31', protocolVersion: 3, protocolId: 'MQIsdp' });
    await client.endAsync();
    expect(await counter('mqtt_connect_total.protocol_version.3')).toBe(1);
  });

  it("passes an MQTT 5 client's CONNECT on to the broker, whose own answer reaches the client", async () => {
    // aedes speaks 3.1.1 only: its CONNACK refusing version 5 proves the CONNECT went through.
    await expect(connectClient(port, { clientId: 'wasm-5', protocolVersion: 5 })).rejects.toThrow('Unacceptable protocol version');
    expect(await counter('mqtt_connect_total.protocol_version.5')).toBe(1);
  });

  it('buffers a CONNECT that arrives one byte per read, then passes it on', async () => {
    const packet = connectPacket({ level: 4, clientId: 'byte-by-byte' });
    const { received } = await rawExchange(
      port,
      [...packet].map((b) => Uint8Array.of(b)),
      true,
    );
    // CONNACK, session present 0, return code 0 (accepted).
    expect([...received]).toEqual([0x20, 0x02, 0x00, 0x00]);
  });

  it('closes a connection whose first bytes are not MQTT without opening one to the broker', async () => {
    const upstream = async (): Promise<[number, number]> => [
      (await envoy.admin.stat('cluster.broker.upstream_cx_total')) ?? -1,
      (await envoy.admin.stat('cluster.broker.upstream_cx_tx_bytes_total')) ?? -1,
    ];
    const before = await upstream();
    const { received, closedByPeer } = await rawExchange(port, [Buffer.from('GET /mqtt HTTP/1.1\r\nHost: broker\r\n\r\n')]);
    expect(closedByPeer).toBe(true);
    expect(received.length).toBe(0);
    expect(await counter('mqtt_connect_refused_total.reason.not_mqtt')).toBe(1);
    // Neither a byte nor a connection reached the broker.
    expect(await upstream()).toEqual(before);
  });

  it('closes an MQTT 5 CONNECT it refuses and logs the CONNACK reason code it stands for', async () => {
    const { closedByPeer } = await rawExchange(port, [connectPacket({ level: 5, clientId: 'x'.repeat(65) })]);
    expect(closedByPeer).toBe(true);
    expect(await counter('mqtt_connect_refused_total.reason.client_id_invalid')).toBe(1);
    expect(envoy.logs()).toContain('first packet refused: reason=client_id_invalid connack_reason=0x85');
  });

  it('closes a connection that sends no CONNECT within firstPacketTimeoutMs', async () => {
    const { closedByPeer, received } = await rawExchange(port, [connectPacket({ level: 4, clientId: 'slow' }).subarray(0, 4)]);
    expect(closedByPeer).toBe(true);
    expect(received.length).toBe(0);
    expect(await counter('mqtt_connect_refused_total.reason.first_packet_timeout')).toBe(1);
  });

  it("shows the filter's counters in Envoy's Prometheus stats, the version and reason as labels", async () => {
    await waitFor(async () => (await envoy.admin.get('/stats/prometheus')).includes('mqtt_connect_total{mqtt_protocol_version="4"}'), {
      timeoutMs: 10_000,
      intervalMs: 200,
      what: 'the MQTT counters in /stats/prometheus',
    });
    const text = await envoy.admin.get('/stats/prometheus');
    expect(text).toMatch(/^mqtt_connect_total\{mqtt_protocol_version="5"\} 1$/m);
    expect(text).toMatch(/^mqtt_connect_refused_total\{mqtt_refusal_reason="not_mqtt"\} 1$/m);
    expect(text).toMatch(/^mqtt_connect_refused_total\{mqtt_refusal_reason="first_packet_timeout"\} 1$/m);
  });
});
