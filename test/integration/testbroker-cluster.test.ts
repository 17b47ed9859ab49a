// The capacity test brokers' cluster link (test/tools/testbroker/cluster-link.ts): a
// PUBLISH on one broker reaches the subscribers of every peer exactly once, directly and
// through the real Envoy, where a subscriber and a publisher land on different brokers.
import mqtt, { type MqttClient } from 'mqtt';
import { withOverrides } from '../../src/config';
import type { ControlPlane } from '../../src/main';
import { launchCapacityBroker, meshBrokers, type LaunchedBroker } from '../tools/testbroker/launch';
import { startEnvoy, untilHealthy, waitFor, type EnvoyHandle } from '../support';
import { planeConfig, startPlane } from './plane';
import * as fs from 'node:fs';

interface Received {
  readonly topic: string;
  readonly payload: string;
}

/** An MQTT 3.1.1 client that never reconnects; resolves on CONNACK. */
async function open(port: number, clientId: string, opened: MqttClient[]): Promise<{ client: MqttClient; received: Received[] }> {
  const client = mqtt.connect({
    host: '127.0.0.1',
    port,
    clientId,
    clean: true,
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
  });
  opened.push(client);
  const received: Received[] = [];
  client.on('message', (topic, payload) => received.push({ topic, payload: payload.toString('utf8') }));
  client.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
    client.once('close', () => reject(new Error(`${clientId} closed before CONNACK`)));
  });
  return { client, received };
}

const subscribe = (c: MqttClient, topic: string, qos: 0 | 1 = 1): Promise<unknown> => c.subscribeAsync(topic, { qos });

describe('capacity test brokers with a cluster link', () => {
  const opened: MqttClient[] = [];
  let brokers: LaunchedBroker[] = [];
  let plain: LaunchedBroker | undefined;

  beforeAll(async () => {
    brokers = await Promise.all(['ca', 'cb', 'cc'].map((name) => launchCapacityBroker({ name, capacity: 1000, clusterPort: 0 })));
    await meshBrokers(brokers);
  });

  afterAll(async () => {
    for (const c of opened) c.end(true);
    await Promise.all([...brokers, ...(plain ? [plain] : [])].map((b) => b.stop()));
  });

  it('delivers a PUBLISH on one broker to the subscribers of every broker exactly once, QoS 0 and 1', async () => {
    const subs = await Promise.all(brokers.map((b, i) => open(b.port, `sub-${i}`, opened)));
    await Promise.all(subs.map((s) => subscribe(s.client, 'mesh/#')));
    const pub = await open(brokers[0].port, 'pub-0', opened);
    for (let i = 0; i < 10; i++) await pub.client.publishAsync(`mesh/${i}`, `m${i}`, { qos: (i % 2) as 0 | 1 });
    // A last message from the same publisher: it travels the same link as the others.
    await pub.client.publishAsync('mesh/end', 'end', { qos: 1 });
    await waitFor(() => subs.every((s) => s.received.some((m) => m.topic === 'mesh/end')), { what: 'the last message on every broker' });
    await waitFor(() => subs.every((s) => s.received.length >= 11), { what: 'every message on every broker' });
    for (const s of subs) {
      expect(s.received.map((m) => m.payload).sort()).toEqual([...Array.from({ length: 10 }, (_, i) => `m${i}`), 'end'].sort());
    }
    const [a, b, c] = await Promise.all(brokers.map((x) => x.cluster()));
    expect(a.forwarded).toBe(22); // 11 messages × 2 peers
    expect(b.received).toBe(11);
    expect(c.received).toBe(11);
    expect(b.forwarded + c.forwarded).toBe(0);
    expect(a.dropped).toEqual({ queueFull: 0, tooLarge: 0, peerRemoved: 0 });
    // The metrics page carries the same counts, for a dashboard of the link.
    const [pageA, pageB] = await Promise.all([brokers[0].metrics(), brokers[1].metrics()]);
    expect(pageA).toContain('testbroker_cluster_forwarded_total 22.0');
    expect(pageA).toContain('testbroker_cluster_dropped_total{reason="queue_full",} 0.0');
    expect(pageA).toContain('testbroker_cluster_peers_connected 2.0');
    expect(pageB).toContain('testbroker_cluster_received_total 11.0');
  });

  it('keeps retained messages on every broker', async () => {
    const pub = await open(brokers[1].port, 'pub-retain', opened);
    await pub.client.publishAsync('retained/state', 'on', { qos: 1, retain: true });
    await waitFor(async () => (await brokers[2].cluster()).received >= 12, { what: 'the retained message to reach broker cc' });
    const late = await open(brokers[2].port, 'late-sub', opened);
    await subscribe(late.client, 'retained/#');
    await waitFor(() => late.received.some((m) => m.topic === 'retained/state' && m.payload === 'on'), {
      what: 'the retained message from a peer',
    });
  });

  it('refuses peers that are not loopback, the broker itself, or listed twice, and 409s without a link', async () => {
    const bad = await fetch(`${brokers[0].adminUrl}/cluster`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ peers: ['10.0.0.1:4000', 17] }),
    });
    expect(bad.status).toBe(400);
    const body = (await bad.json()) as { error: { problems: Array<{ code: string; path: string }> } };
    expect(body.error.problems.map((p) => `${p.path} ${p.code}`)).toEqual(['peers[0] CLUSTER_PEER', 'peers[1] CLUSTER_PEER']);
    await expect(brokers[0].setPeers([`127.0.0.1:${brokers[0].clusterPort}`])).rejects.toThrow(/CLUSTER_PEER_SELF/);
    await expect(brokers[0].setPeers([`127.0.0.1:${brokers[1].clusterPort}`, `127.0.0.1:${brokers[1].clusterPort}`])).rejects.toThrow(
      /CLUSTER_PEER_DUPLICATE/,
    );
    // A refused request leaves the mesh as it was.
    expect((await brokers[0].cluster()).peers.map((p) => p.connected)).toEqual([true, true]);
    plain = await launchCapacityBroker({ name: 'no-link', capacity: 1000 });
    expect(plain.clusterPort).toBeUndefined();
    const off = await fetch(`${plain.adminUrl}/cluster`);
    expect(off.status).toBe(409);
  });
});

describe('a subscriber and a publisher on different clustered brokers behind the real Envoy', () => {
  const opened: MqttClient[] = [];
  let brokers: LaunchedBroker[] = [];
  let plane: ControlPlane | undefined;
  let envoy: EnvoyHandle | undefined;
  let mqttPort = 0;

  beforeAll(async () => {
    brokers = await Promise.all(['ea', 'eb'].map((name) => launchCapacityBroker({ name, capacity: 1000, clusterPort: 0 })));
    await meshBrokers(brokers);
    const setup = await planeConfig();
    fs.writeFileSync(
      setup.brokersFile,
      'brokers:\n' + brokers.map((b) => `  - name: ${b.name}\n    host: 127.0.0.1\n    port: ${b.port}\n    weight: 1\n`).join(''),
    );
    const config = withOverrides(setup.config, { balancing: { mode: 'static' } });
    mqttPort = config.listener.port;
    ({ plane } = await startPlane(config));
    envoy = await startEnvoy({ mode: 'sotw', xdsPort: config.xds.port, waitReady: 'live' });
    await untilHealthy(envoy, 2, 'two healthy clustered brokers');
  });

  afterAll(async () => {
    for (const c of opened) c.end(true);
    await envoy?.stop();
    await plane?.stop();
    await Promise.all(brokers.map((b) => b.stop()));
  });

  /** The broker that holds `clientId` right now, by its own client list. */
  async function brokerOf(clientId: string): Promise<LaunchedBroker | undefined> {
    const lists = await Promise.all(brokers.map((b) => b.clients()));
    return brokers.find((_, i) => lists[i].some((c) => c.clientId === clientId));
  }

  it('meets: the message crosses the cluster link', async () => {
    const sub = await open(mqttPort, 'envoy-sub', opened);
    await subscribe(sub.client, 'demo/#');
    const subBroker = await waitFor(() => brokerOf('envoy-sub'), { what: 'the subscriber on a broker' });
    // Round robin over two equal brokers: a publisher lands on the other one within a few tries.
    let publisher: MqttClient | undefined;
    let pubBroker: LaunchedBroker | undefined;
    for (let i = 0; i < 20 && publisher === undefined; i++) {
      const id = `envoy-pub-${i}`;
      const candidate = await open(mqttPort, id, opened);
      const where = await waitFor(() => brokerOf(id), { what: `${id} on a broker` });
      if (where !== subBroker) [publisher, pubBroker] = [candidate.client, where];
      else candidate.client.end(true);
    }
    expect(pubBroker).toBeDefined();
    expect(pubBroker).not.toBe(subBroker);
    await publisher?.publishAsync('demo/hello', 'hi', { qos: 1 });
    await waitFor(() => sub.received.some((m) => m.topic === 'demo/hello' && m.payload === 'hi'), {
      what: 'the subscriber to get the message',
    });
    expect(sub.received.filter((m) => m.topic === 'demo/hello')).toHaveLength(1);
    expect((await pubBroker?.cluster())?.forwarded).toBe(1);
  });
});
