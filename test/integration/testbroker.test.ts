// The capacity test broker as benchmarks use it: a real broker process (built dist/),
// real mqtt.js clients, and its /metrics, admin and agent APIs over HTTP.
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { AgentClient } from '../tools/testbroker/capacity-agent';
import { launchCapacityBroker, type LaunchedBroker } from '../tools/testbroker/launch';
import { sleep, waitFor } from '../support/wait';

const TOPIC = 'bench/t';
// 20 messages/s, each to 3 plain subscribers and 1 member of the share group.
const PUBLISH_INTERVAL_MS = 50;
const CAPACITY = 200;

function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  if (line === undefined) throw new Error(`${name} is missing from /metrics`);
  return Number(line.slice(name.length + 1));
}

/**
 * One MQTT 3.1.1 client that never reconnects, kept in `clients` and noted in `closed`
 * when its connection ends; resolves on CONNACK.
 */
function openClient(
  port: number,
  clientId: string,
  track: { clients: Map<string, MqttClient>; closed: Set<string> },
  options: Partial<IClientOptions> = {},
): { client: MqttClient; connected: Promise<MqttClient> } {
  const client = mqtt.connect({
    host: '127.0.0.1',
    port,
    clientId,
    clean: true,
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    ...options,
  });
  track.clients.set(clientId, client);
  client.on('error', () => undefined);
  client.on('close', () => track.closed.add(clientId));
  const connected = new Promise<MqttClient>((resolve, reject) => {
    client.once('connect', () => resolve(client));
    client.once('close', () => reject(new Error(`${clientId}: closed before CONNACK`)));
  });
  return { client, connected };
}

describe('capacity test broker', () => {
  let broker: LaunchedBroker;
  const clients = new Map<string, MqttClient>();
  const received = new Map<string, number>();
  const closed = new Set<string>();
  let publisher: NodeJS.Timeout | undefined;

  const connect = (clientId: string): Promise<MqttClient> => {
    const { client, connected } = openClient(broker.port, clientId, { clients, closed });
    received.set(clientId, 0);
    client.on('message', () => received.set(clientId, (received.get(clientId) ?? 0) + 1));
    return connected;
  };
  const startPublishing = (): void => {
    const pub = clients.get('pub')!;
    publisher = setInterval(() => pub.publish(TOPIC, 'x'.repeat(64)), PUBLISH_INTERVAL_MS);
  };
  const stopPublishing = (): void => clearInterval(publisher);
  const metrics = (): Promise<string> => broker.metrics();

  beforeAll(async () => {
    broker = await launchCapacityBroker({ name: 'cap-it', capacity: CAPACITY, windowMs: 2000, tickMs: 50 });
  });

  afterAll(async () => {
    stopPublishing();
    await Promise.all([...clients.values()].map((c) => new Promise<void>((resolve) => c.end(true, {}, () => resolve()))));
    await broker?.stop();
  });

  it('counts real connections and charges each its connection cost', async () => {
    for (const id of ['sub-0', 'sub-1', 'sub-2']) await (await connect(id)).subscribeAsync(TOPIC);
    for (const id of ['shared-0', 'shared-1']) await (await connect(id)).subscribeAsync(`$share/g/${TOPIC}`);
    await connect('idle');
    await connect('pub');

    const text = await waitFor(
      async () => {
        const t = await metrics();
        return metric(t, 'com_hivemq_networking_connections_current') === 7 && t;
      },
      { what: '7 connections in /metrics', timeoutMs: 5000 },
    );
    expect(metric(text, 'testbroker_capacity')).toBe(CAPACITY);
    expect(metric(text, 'testbroker_utilisation')).toBeCloseTo(7 / CAPACITY, 10);
    expect(metric(text, 'com_hivemq_system_os_global_cpu_total_total')).toBeCloseTo((100 * 7) / CAPACITY, 10);
    // One simulated core, as the mqtt-xds agent reports a node without a CPU quota.
    expect(metric(text, 'mqtt_xds_agent_cpu_limit_cores')).toBe(1);
    expect(metric(text, 'com_hivemq_overload_protection_level')).toBe(0);
    expect(text).toMatch(/^com_hivemq_messages_incoming_publish_size\{quantile="0\.5",\} /m);
  });

  it('measures publish rate and fan-out, and utilisation rises with the load', async () => {
    const before = metric(await metrics(), 'testbroker_utilisation');
    startPublishing();
    // publisher 1 + 20 × (1 + 4) = 101, six other clients 6: cost 107 on 200.
    const expected = 107 / CAPACITY;
    const utilisation = await waitFor(
      async () => {
        const u = metric(await metrics(), 'testbroker_utilisation');
        return Math.abs(u - expected) < 0.07 && u;
      },
      { what: `utilisation near ${expected}`, timeoutMs: 15_000, intervalMs: 250 },
    );
    expect(utilisation).toBeGreaterThan(before * 10);

    const text = await metrics();
    const incoming = metric(text, 'com_hivemq_messages_incoming_publish_count');
    const outgoing = metric(text, 'com_hivemq_messages_outgoing_publish_count');
    expect(incoming).toBeGreaterThan(10);
    // Every message reaches 3 plain subscribers and exactly one member of the group; a
    // few copies may still be on their way when the tick samples the counters.
    expect(outgoing).toBeLessThanOrEqual(4 * incoming);
    expect(outgoing).toBeGreaterThanOrEqual(4 * incoming - 12);
    expect(metric(text, 'com_hivemq_messages_incoming_publish_size_count')).toBeGreaterThanOrEqual(incoming);

    const list = await broker.clients();
    const byId = new Map(list.map((c) => [c.clientId, c]));
    expect([...byId.keys()].sort()).toEqual(['idle', 'pub', 'shared-0', 'shared-1', 'sub-0', 'sub-1', 'sub-2']);
    expect(byId.get('pub')!.publishRate).toBeGreaterThan(14);
    expect(byId.get('pub')!.publishRate).toBeLessThan(23);
    expect(byId.get('shared-0')).toMatchObject({ sharedSubscriber: true, subscriptions: [`$share/g/${TOPIC}`] });
    expect(byId.get('sub-0')).toMatchObject({ sharedSubscriber: false, subscriptions: [TOPIC], cleanSession: true });
    expect(byId.get('idle')).toMatchObject({ subscriptions: [], publishRate: 0 });
    expect(typeof byId.get('idle')!.connectedSinceMs).toBe('number');
  });

  it('delivers each message to exactly one member of a shared subscription', async () => {
    stopPublishing();
    await sleep(300);
    const plain = received.get('sub-0')!;
    expect(received.get('sub-1')).toBe(plain);
    expect(received.get('shared-0')! + received.get('shared-1')!).toBe(plain);
    expect(received.get('shared-0')).toBeGreaterThan(0);
    expect(received.get('shared-1')).toBeGreaterThan(0);
    startPublishing();
  });

  it('reports a forced overload until it lapses', async () => {
    const reply = await broker.post('overload', { level: 5, durationMs: 1500 });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ overloadLevel: 5, forcedOverload: { level: 5 } });
    const text = await metrics();
    expect(metric(text, 'com_hivemq_overload_protection_level')).toBe(5);
    expect(metric(text, 'com_hivemq_overload_protection_credits_per_tick')).toBe(110);
    // Below level 6 nobody is under back-pressure.
    expect(metric(text, 'com_hivemq_overload_protection_clients_backpressure_active')).toBe(0);
    await waitFor(async () => metric(await metrics(), 'com_hivemq_overload_protection_level') === 0, {
      what: 'the forced overload to lapse',
      timeoutMs: 5000,
    });
  });

  it('overloads under extra load: CPU 100 %, publishers under back-pressure, slow receivers', async () => {
    const reply = await broker.post('load', { extraCost: 300 });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ extraCost: 300, extraLoad: { extraCost: 300, remainingMs: null } });
    const text = await metrics();
    expect(metric(text, 'testbroker_utilisation')).toBeGreaterThan(1.9);
    expect(metric(text, 'com_hivemq_system_os_global_cpu_total_total')).toBe(100);
    expect(metric(text, 'com_hivemq_overload_protection_level')).toBe(10);
    expect(metric(text, 'com_hivemq_overload_protection_clients_backpressure_active')).toBe(1);
    // All five receivers (3 plain, 2 shared) count as not writable at utilisation ≥ 2.
    expect(metric(text, 'com_hivemq_mqtt_connection_not_writable_current')).toBe(5);

    const state = await broker.state();
    expect(state).toMatchObject({ name: 'cap-it', capacity: CAPACITY, connections: 7, overloadLevel: 10 });
    expect(state.cost).toBeGreaterThan(380);

    await broker.post('load', { extraCost: 0 });
    expect(metric(await metrics(), 'com_hivemq_overload_protection_level')).toBe(0);
    stopPublishing();
  });

  it('disconnects exactly the clients named', async () => {
    const reply = await broker.post('disconnect', { clientIds: ['sub-0', 'idle', 'nobody'] });
    expect(reply).toEqual({ status: 200, body: { disconnected: ['sub-0', 'idle'], notFound: ['nobody'] } });
    await waitFor(() => closed.has('sub-0') && closed.has('idle'), { what: 'sub-0 and idle to be closed', timeoutMs: 5000 });
    await sleep(200);
    expect([...closed].sort()).toEqual(['idle', 'sub-0']);
    const ids = (await broker.clients()).map((c) => c.clientId).sort();
    expect(ids).toEqual(['pub', 'shared-0', 'shared-1', 'sub-1', 'sub-2']);
    await waitFor(async () => metric(await metrics(), 'com_hivemq_networking_connections_current') === 5, {
      what: '5 connections in /metrics',
      timeoutMs: 5000,
    });
  });

  it('disconnects a shared subscriber first when asked for a count, and the group carries on', async () => {
    const reply = await broker.post('disconnect', { count: 1, prefer: 'shared-first' });
    expect(reply.status).toBe(200);
    const { disconnected } = reply.body as { disconnected: string[] };
    expect(disconnected).toHaveLength(1);
    const [gone] = disconnected;
    expect(['shared-0', 'shared-1']).toContain(gone);
    const survivor = gone === 'shared-0' ? 'shared-1' : 'shared-0';
    await waitFor(() => closed.has(gone), { what: `${gone} to be closed`, timeoutMs: 5000 });
    expect(closed.has(survivor)).toBe(false);

    // The remaining member now gets every message of the group.
    const start = received.get(survivor)!;
    for (let i = 0; i < 5; i++) clients.get('pub')!.publish(TOPIC, `after-${i}`);
    await waitFor(() => received.get(survivor) === start + 5, { what: `${survivor} to get 5 messages`, timeoutMs: 5000 });
  });

  it('rejects bad admin requests with 400 and says why', async () => {
    const post = (path: string, body: string): Promise<Response> =>
      fetch(`${broker.adminUrl}/${path}`, { method: 'POST', body, headers: { 'Content-Type': 'application/json' } });

    const badJson = await post('overload', '{"level":');
    expect(badJson.status).toBe(400);
    expect(await badJson.json()).toMatchObject({ error: { code: 'BAD_JSON' } });

    const unknown = await post('load', JSON.stringify({ extraCost: 1, cost: 2 }));
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { error: { message: string } }).error.message).toContain('cost: unknown field');

    const both = await broker.post('disconnect', { clientIds: ['pub'], count: 1 });
    expect(both.status).toBe(400);
    expect(closed.has('pub')).toBe(false);

    expect((await fetch(`${broker.adminUrl}/nothing`)).status).toBe(404);
    expect((await fetch(`${broker.adminUrl}/disconnect`)).status).toBe(405);
  });

  it('stops cleanly on request', async () => {
    await broker.stop();
    expect(() => process.kill(broker.pid, 0)).toThrow();
    await waitFor(() => closed.has('pub'), { what: 'clients to see the broker go', timeoutMs: 5000 });
  });
});

describe('capacity test broker as a broker agent (docs/agent-api.md)', () => {
  const TOKEN = 'it-agent-token-5f2c';
  const WILLS = 'wills/#';
  let broker: LaunchedBroker;
  const clients = new Map<string, MqttClient>();
  const closed = new Set<string>();
  const willsSeen: string[] = [];
  let startedMs = 0;

  const connect = (clientId: string, options: Partial<IClientOptions> = {}): Promise<MqttClient> =>
    openClient(broker.port, clientId, { clients, closed }, options).connected;
  const will = (clientId: string): IClientOptions['will'] => ({
    topic: `wills/${clientId}`,
    payload: Buffer.from('gone'),
    qos: 0,
    retain: false,
  });

  beforeAll(async () => {
    broker = await launchCapacityBroker({ name: 'agent-it', capacity: 1000, agentToken: TOKEN });
    startedMs = Date.now();
    const watcher = await connect('watcher');
    watcher.on('message', (topic) => willsSeen.push(topic));
    await watcher.subscribeAsync(WILLS);
    await connect('moved', { will: will('moved') });
    await connect('dropped-by-admin', { will: will('dropped-by-admin') });
    await connect('persistent', { clean: false, will: will('persistent') });
    await connect('legacy', { protocolVersion: 3, protocolId: 'MQIsdp' });
    await (await connect('member')).subscribeAsync('$share/g/jobs');
  });

  afterAll(async () => {
    await Promise.all([...clients.values()].map((c) => new Promise<void>((resolve) => c.end(true, {}, () => resolve()))));
    await broker?.stop();
  });

  it('answers health without a token', async () => {
    const reply = await broker.agent('health', { token: null });
    expect(reply).toEqual({
      status: 200,
      body: { status: 'ok', broker: 'agent-it', agent: expect.stringMatching(/^mqtt-xds-capacity-broker\/\S+$/) },
    });
  });

  it('lists every connected client with its protocol level, session and shared-subscriber flag', async () => {
    const list = await broker.agentClients();
    expect(list.total).toBe(6);
    const byId = new Map<string, AgentClient>(list.clients.map((c) => [c.clientId, c]));
    expect([...byId.keys()].sort()).toEqual(['dropped-by-admin', 'legacy', 'member', 'moved', 'persistent', 'watcher']);
    expect(byId.get('moved')).toEqual({
      clientId: 'moved',
      mqttVersion: 4,
      cleanStart: true,
      sessionExpirySec: 0,
      sharedSubscriber: false,
      connectedSinceMs: expect.any(Number),
    });
    expect(byId.get('legacy')).toMatchObject({ mqttVersion: 3, cleanStart: true, sessionExpirySec: 0 });
    expect(byId.get('persistent')).toMatchObject({ mqttVersion: 4, cleanStart: false, sessionExpirySec: 4_294_967_295 });
    expect(byId.get('member')).toMatchObject({ sharedSubscriber: true });
    expect(byId.get('watcher')).toMatchObject({ sharedSubscriber: false });
    for (const c of list.clients) {
      expect(c.connectedSinceMs).toBeGreaterThanOrEqual(startedMs - 1000);
      expect(c.connectedSinceMs).toBeLessThanOrEqual(Date.now());
    }

    const limited = await broker.agentClients(2);
    expect(limited.total).toBe(6);
    expect(limited.clients).toHaveLength(2);
  });

  it('cannot list an MQTT 5 client: aedes 1.x refuses it at CONNECT', async () => {
    await expect(connect('v5', { protocolVersion: 5 })).rejects.toThrow(/closed before CONNACK/);
    expect((await broker.agentClients()).clients.map((c) => c.clientId)).not.toContain('v5');
  });

  it('disconnects a client without publishing its will, and reports unknown ids as not found', async () => {
    const reply = await broker.agentDisconnect(['moved', 'nobody', 'persistent'], 'rebalance');
    expect(reply).toEqual({ disconnected: ['moved', 'persistent'], notFound: ['nobody'] });
    await waitFor(() => closed.has('moved') && closed.has('persistent'), { what: 'moved and persistent to be closed', timeoutMs: 5000 });
    expect((await broker.agentClients()).clients.map((c) => c.clientId).sort()).toEqual([
      'dropped-by-admin',
      'legacy',
      'member',
      'watcher',
    ]);

    // The admin API still closes with the will; its arrival shows the watcher would have
    // seen the agent-disconnected clients' wills by now.
    const admin = await broker.post('disconnect', { clientIds: ['dropped-by-admin'] });
    expect(admin.status).toBe(200);
    await waitFor(() => willsSeen.includes('wills/dropped-by-admin'), { what: 'the admin-disconnected will', timeoutMs: 5000 });
    await sleep(500);
    expect(willsSeen).toEqual(['wills/dropped-by-admin']);
  });

  it('refuses agent requests without the right token', async () => {
    const none = await broker.agent('clients', { token: null });
    expect(none).toEqual({ status: 401, body: { error: expect.stringContaining('missing or wrong token') } });
    const wrong = await broker.agent('disconnect', { token: 'not-the-token', body: { clientIds: ['legacy'], reason: 'drain' } });
    expect(wrong.status).toBe(401);
    expect(closed.has('legacy')).toBe(false);
    expect(broker.logs()).not.toContain('not-the-token');
  });

  it('rejects a bad disconnect with 400 and too many ids with 413', async () => {
    const bad = await broker.agent('disconnect', { body: { clientIds: ['legacy', ''], reason: 'migrate' } });
    expect(bad.status).toBe(400);
    expect((bad.body as { problems: Array<{ field: string }> }).problems.map((p) => p.field)).toEqual(['clientIds[1]', 'reason']);
    const notJson = await broker.agent('disconnect', { body: '{"clientIds": [' });
    expect(notJson).toEqual({ status: 400, body: { error: expect.stringContaining('not valid JSON') } });
    const ids = Array.from({ length: 1001 }, (_, i) => `client-${i}`);
    const tooMany = await broker.agent('disconnect', { body: { clientIds: ids, reason: 'drain' } });
    expect(tooMany.status).toBe(413);
    expect(closed.has('legacy')).toBe(false);
    expect((await broker.agentClients()).total).toBe(3);
  });
});
