// PUBLISH inspection (policy mqttFilter.inspectPublish) in the real Envoy 1.40, the filter sent by
// mqtt-xds over ECDS, SotW and Delta, in front of a real aedes broker, with real mqtt.js clients:
// a PUBLISH within the limit reaches the broker, one past it closes the client and moves the
// counter in /stats/prometheus, and a tenant's own limit and topic prefixes apply on its chain,
// to PUBLISH topics and SUBSCRIBE topic filters (MQTT 3.1.1 and 5).
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tls from 'node:tls';
import mqtt from 'mqtt';
import { withOverrides } from '../../src/config';
import type { ControlPlane } from '../../src/main';
import { startBrokers, startEnvoy, stopBrokers, untilHealthy, waitFor, type EnvoyHandle, type TestBroker } from '../support';
import { TestCa } from '../support/certs';
import { MQTT_FILTER_STATS } from '../support/metric-names';
import { connectPacket, otherPacket, utf8Field } from '../support/mqtt-packets';
import { planeConfig, startPlane, writeBrokersFile } from './plane';

const SHARED_LIMIT = 1024;
const ACME_LIMIT = 256;

const policy = (sharedLimit: number, acme: { certFile: string; keyFile: string }): string =>
  [
    'unknownServerName: default',
    `mqttFilter: { enabled: true, inspectPublish: true, maxPublishPayloadBytes: ${sharedLimit}, firstPacketTimeoutMs: 5000 }`,
    'tenants:',
    '  acme:',
    '    serverNames: [mqtt.acme.test]',
    `    certFile: ${acme.certFile}`,
    `    keyFile: ${acme.keyFile}`,
    `    mqttFilter: { maxPublishPayloadBytes: ${ACME_LIMIT}, topicPrefixes: ["acme/", "b2b/"] }`,
    '',
  ].join('\n');

describe.each(['sotw', 'delta'] as const)('PUBLISH inspection from mqtt-xds over %s ADS (real Envoy, aedes, mqtt.js)', (mode) => {
  const ca = new TestCa('mqtt-xds publish inspection CA');
  const listenerPem = ca.issue('mqtt.test', { commonName: 'mqtt.test', san: ['DNS:mqtt.test'] });
  const acmePem = ca.issue('mqtt.acme.test', { commonName: 'mqtt.acme.test', san: ['DNS:mqtt.acme.test'] });
  let brokers: TestBroker[];
  let plane: ControlPlane;
  let envoy: EnvoyHandle;
  let port: number;
  let policyFile: string;
  const clients: mqtt.MqttClient[] = [];
  const counter = async (name: string): Promise<number> => (await envoy.stat(`wasmcustom.${name}`)) ?? 0;

  /** An mqtt.js client over TLS, on the chain the server name picks; resolves once connected. */
  const connect = (servername: string, clientId: string, protocolVersion: 4 | 5 = 4): Promise<mqtt.MqttClient> =>
    new Promise((resolve, reject) => {
      const client = mqtt.connect(`mqtts://127.0.0.1:${port}`, {
        clientId,
        protocolVersion,
        reconnectPeriod: 0,
        connectTimeout: 10_000,
        ca: ca.ca.cert,
        servername,
      });
      clients.push(client);
      client.once('connect', () => resolve(client));
      client.once('error', reject);
      client.once('close', () => reject(new Error(`${clientId}: closed before CONNACK`)));
    });
  /** Publishes `bytes` of payload at QoS 1 on `topic` and waits for the PUBACK. */
  const publish = (client: mqtt.MqttClient, topic: string, bytes: number): Promise<unknown> =>
    client.publishAsync(topic, Buffer.alloc(bytes, 0x61), { qos: 1 });
  /** Publishes at QoS 0 and resolves once the connection closes (the filter closes it; no PUBACK to wait for). */
  const publishUntilClosed = (client: mqtt.MqttClient, topic: string, bytes: number): Promise<void> =>
    new Promise((resolve) => {
      client.once('close', () => resolve());
      client.publish(topic, Buffer.alloc(bytes, 0x62), { qos: 0 });
    });
  /** Subscribes on `client`, publishes `bytes` from `from`, resolves with the size that arrived. */
  const delivered = async (from: mqtt.MqttClient, to: mqtt.MqttClient, topic: string, bytes: number): Promise<number> => {
    const got = new Promise<number>((resolve) => to.on('message', (t, payload) => t === topic && resolve(payload.length)));
    await to.subscribeAsync(topic, { qos: 1 });
    await publish(from, topic, bytes);
    return got;
  };

  beforeAll(async () => {
    brokers = await startBrokers(1);
    const setup = await planeConfig();
    policyFile = path.join(setup.dir, 'policy.yaml');
    fs.writeFileSync(policyFile, policy(SHARED_LIMIT, acmePem));
    writeBrokersFile(setup.brokersFile, [{ broker: brokers[0], weight: 1 }]);
    const config = withOverrides(setup.config, {
      balancing: { mode: 'static', policyFile, minPushIntervalMs: 0 },
      listener: { tls: { certFile: listenerPem.certFile, keyFile: listenerPem.keyFile } },
    });
    ({ plane } = await startPlane(config));
    envoy = await startEnvoy({ mode, xdsPort: config.xds.port, waitReady: 'live', extraArgs: ['--component-log-level', 'wasm:debug'] });
    port = config.listener.port;
    await untilHealthy(envoy, 1, 'the broker healthy');
    await untilHealthy(envoy, 1, 'the acme pool healthy', undefined, 'mqtt_brokers.acme');
    await waitFor(() => envoy.listenerReady(port), { timeoutMs: 30_000, intervalMs: 200, what: 'the MQTT listener' });
  });

  afterAll(async () => {
    for (const c of clients) c.end(true);
    await envoy?.stop();
    await plane?.stop();
    await stopBrokers(brokers ?? []);
  });

  it("sends each chain's inspection settings over ECDS, the tenant's with its own limit, prefix and label", async () => {
    const dump = await envoy.getJson('/config_dump?resource=ecds_filters');
    const configuration = (name: string): unknown => {
      const f = (dump.configs ?? []).find((c: any) => c.ecds_filter?.name === name);
      return JSON.parse(f?.ecds_filter?.typed_config?.config?.configuration?.value ?? 'null');
    };
    expect(configuration('mqtt.mqtt_filter')).toMatchObject({ inspectPublish: true, maxPublishPayloadBytes: SHARED_LIMIT });
    expect(configuration('mqtt.mqtt_filter')).not.toHaveProperty('tenant');
    expect(configuration('mqtt.tenant.acme.mqtt_filter')).toMatchObject({
      inspectPublish: true,
      maxPublishPayloadBytes: ACME_LIMIT,
      topicPrefixes: 'acme/,b2b/',
      tenant: 'acme',
    });
  });

  it('lets a PUBLISH within the limit through to the broker, and closes the client on one past it', async () => {
    const sender = await connect('mqtt.test', `${mode}-sender`);
    const receiver = await connect('mqtt.test', `${mode}-receiver`);
    const topics: string[] = [];
    receiver.on('message', (t) => topics.push(t));
    await receiver.subscribeAsync('shared/big', { qos: 1 });
    expect(await delivered(sender, receiver, 'shared/ok', SHARED_LIMIT)).toBe(SHARED_LIMIT);
    await publishUntilClosed(sender, 'shared/big', SHARED_LIMIT + 1);
    expect(sender.connected).toBe(false);
    expect(await counter('mqtt_stream_closed_total.reason.payload_too_large')).toBe(1);
    // The receiver, on its own connection, is untouched and still gets messages; the oversize one
    // never reached the broker, so it never came (a later publisher's message did).
    const other = await connect('mqtt.test', `${mode}-other`);
    expect(await delivered(other, receiver, 'shared/again', 10)).toBe(10);
    expect(topics).toEqual(['shared/ok', 'shared/again']);
    expect(await counter('mqtt_publish_inspected_total')).toBeGreaterThanOrEqual(3);
    const text = await envoy.get('/stats/prometheus');
    expect(text).toMatch(/^mqtt_stream_closed_total\{mqtt_close_reason="payload_too_large"\} 1$/m);
    expect(text).toMatch(/^mqtt_publish_inspected_total\{\} [1-9]\d*$/m);
  });

  it("applies the tenant's own limit and topic prefix on its chain, and labels its counters with the tenant", async () => {
    const sender = await connect('mqtt.acme.test', `${mode}-acme-sender`);
    const receiver = await connect('mqtt.acme.test', `${mode}-acme-receiver`);
    expect(await delivered(sender, receiver, 'acme/ok', ACME_LIMIT)).toBe(ACME_LIMIT);
    // Within the shared limit, past the tenant's.
    await publishUntilClosed(sender, 'acme/big', ACME_LIMIT + 1);
    const outside = await connect('mqtt.acme.test', `${mode}-acme-outside`);
    await publishUntilClosed(outside, 'beta/x', 1);
    expect(await counter('mqtt_stream_closed_total.tenant.acme.reason.payload_too_large')).toBe(1);
    expect(await counter('mqtt_stream_closed_total.tenant.acme.reason.topic_not_allowed')).toBe(1);
    expect(await counter('mqtt_connect_total.tenant.acme.protocol_version.4')).toBe(3);
    const text = await envoy.get('/stats/prometheus');
    expect(text).toMatch(/^mqtt_stream_closed_total\{mqtt_tenant="acme",mqtt_close_reason="topic_not_allowed"\} 1$/m);
    expect(text).toMatch(/^mqtt_connect_total\{mqtt_tenant="acme",mqtt_protocol_version="4"\} 3$/m);
    expect(envoy.logs()).toContain('reason=topic_not_allowed disconnect_reason=0x87');
  });

  /** Sends `bytes` in one write over TLS to the chain `servername` picks; resolves with what came back once the peer closes. */
  const rawTls = (servername: string, bytes: Uint8Array): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      const got: Buffer[] = [];
      const socket = tls.connect({ host: '127.0.0.1', port, servername, ca: ca.ca.cert }, () => socket.write(bytes));
      socket.on('data', (d: Buffer) => got.push(d));
      socket.on('error', reject);
      socket.on('close', () => resolve(Buffer.concat(got)));
    });

  it("MQTT 5 on the tenant's chain: a SUBSCRIBE (with properties) outside its prefixes closes the connection before a byte reaches the broker; one inside reaches it", async () => {
    // aedes speaks 3.1.1 only, so no MQTT 5 client gets a session here: the CONNECT and the
    // SUBSCRIBE go in one write, which the filter judges whole before any byte goes on.
    const subscribe = (filter: string): Uint8Array =>
      otherPacket(0x82, [0, 1, 3, 0x0b, 0x07, 0x00, ...utf8Field('acme/ok'), 1, ...utf8Field(filter), 1]);
    const connect5 = connectPacket({ level: 5, clientId: `${mode}-raw5` });
    const before = await counter('mqtt_stream_closed_total.tenant.acme.reason.subscription_not_allowed');
    const sent = async (): Promise<number> => (await envoy.stat('cluster.mqtt_brokers.acme.upstream_cx_tx_bytes_total')) ?? 0;
    const sentBefore = await sent();
    const bytes = Buffer.concat([connect5, subscribe('b2b/+/in')]);
    await rawTls('mqtt.acme.test', bytes);
    // All of it went on to the broker (aedes then closes: it speaks 3.1.1 only), and nothing was counted.
    await waitFor(async () => (await sent()) - sentBefore === bytes.length, {
      timeoutMs: 10_000,
      intervalMs: 100,
      what: 'the CONNECT and SUBSCRIBE at the broker',
    });
    expect(await counter('mqtt_stream_closed_total.tenant.acme.reason.subscription_not_allowed')).toBe(before);
    const sentMid = await sent();
    await rawTls('mqtt.acme.test', Buffer.concat([connect5, subscribe('+/in')]));
    expect(await counter('mqtt_stream_closed_total.tenant.acme.reason.subscription_not_allowed')).toBe(before + 1);
    // None of that write reached the broker.
    expect(await sent()).toBe(sentMid);
  });

  it.each([4] as const)(
    "MQTT level %i: on the tenant's chain, subscriptions under its prefixes work end to end; one outside closes the connection, counted",
    async (level) => {
      const closedBefore = await counter('mqtt_stream_closed_total.tenant.acme.reason.subscription_not_allowed');
      const sender = await connect('mqtt.acme.test', `${mode}-acme-sub-sender-${level}`, level);
      const receiver = await connect('mqtt.acme.test', `${mode}-acme-sub-receiver-${level}`, level);
      const got: string[] = [];
      receiver.on('message', (t) => got.push(t));
      await receiver.subscribeAsync(['acme/room/#', 'b2b/+/in'], { qos: 1 });
      await publish(sender, 'acme/room/1', 5);
      await publish(sender, 'b2b/x/in', 5);
      await waitFor(() => got.length === 2, { timeoutMs: 10_000, intervalMs: 50, what: 'both messages at the subscriber' });
      expect(got.sort()).toEqual(['acme/room/1', 'b2b/x/in']);
      expect(receiver.connected).toBe(true);
      // A filter whose wildcard comes before the prefix ends: it would match other tenants' topics.
      const greedy = await connect('mqtt.acme.test', `${mode}-acme-greedy-${level}`, level);
      await new Promise<void>((resolve) => {
        greedy.once('close', () => resolve());
        greedy.subscribe(['acme/ok', '#'], { qos: 0 }, () => undefined);
      });
      expect(greedy.connected).toBe(false);
      expect(await counter('mqtt_stream_closed_total.tenant.acme.reason.subscription_not_allowed')).toBe(closedBefore + 1);
      const text = await envoy.get('/stats/prometheus');
      expect(text).toMatch(
        new RegExp(
          `^mqtt_stream_closed_total\\{mqtt_tenant="acme",mqtt_close_reason="subscription_not_allowed"\\} ${closedBefore + 1}$`,
          'm',
        ),
      );
      expect(envoy.logs()).toContain('reason=subscription_not_allowed disconnect_reason=0x8f');
      // The other clients' connections are untouched.
      expect(receiver.connected).toBe(true);
    },
  );

  it('applies a changed limit to new connections as an ECDS update: the Listener is not modified, an established client stays, under its old limit', async () => {
    const held = await connect('mqtt.test', `${mode}-held`);
    const modified = (await envoy.stat('listener_manager.listener_modified')) ?? 0;
    fs.writeFileSync(`${policyFile}.tmp`, policy(2 * SHARED_LIMIT, acmePem));
    fs.renameSync(`${policyFile}.tmp`, policyFile);
    await waitFor(
      async () => {
        const dump = await envoy.getJson('/config_dump?resource=ecds_filters');
        const f = (dump.configs ?? []).find((c: any) => c.ecds_filter?.name === 'mqtt.mqtt_filter');
        return JSON.parse(f?.ecds_filter?.typed_config?.config?.configuration?.value ?? '{}').maxPublishPayloadBytes === 2 * SHARED_LIMIT;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: 'the doubled limit in the ECDS filter config' },
    );
    const fresh = await connect('mqtt.test', `${mode}-fresh`);
    const receiver = await connect('mqtt.test', `${mode}-fresh-receiver`);
    expect(await delivered(fresh, receiver, 'shared/bigger', 2 * SHARED_LIMIT)).toBe(2 * SHARED_LIMIT);
    expect(await envoy.stat('listener_manager.listener_modified')).toBe(modified);
    // The established client was not closed by the update, and keeps the configuration it started with.
    expect(held.connected).toBe(true);
    await publishUntilClosed(held, 'shared/held', SHARED_LIMIT + 1);
  });

  it('exports every counter the Grafana dashboard reads under the name it reads', async () => {
    const names = new Set((await envoy.get('/stats/prometheus')).split('\n').map((l) => /^([a-z_]+)[{ ]/.exec(l)?.[1]));
    for (const name of MQTT_FILTER_STATS) expect(names).toContain(name);
  });
});
