// The capacity test broker as benchmarks use it: a real broker process (built dist/),
// real mqtt.js clients, and its /metrics and admin API over HTTP.
import mqtt, { type MqttClient } from 'mqtt';
import { launchCapacityBroker, type LaunchedBroker } from '../../src/testbroker/launch';
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

describe('capacity test broker', () => {
  let broker: LaunchedBroker;
  const clients = new Map<string, MqttClient>();
  const received = new Map<string, number>();
  const closed = new Set<string>();
  let publisher: NodeJS.Timeout | undefined;

  const connect = (clientId: string): Promise<MqttClient> => {
    const client = mqtt.connect({
      host: '127.0.0.1',
      port: broker.port,
      clientId,
      clean: true,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
    });
    clients.set(clientId, client);
    received.set(clientId, 0);
    client.on('error', () => undefined);
    client.on('message', () => received.set(clientId, (received.get(clientId) ?? 0) + 1));
    client.on('close', () => closed.add(clientId));
    return new Promise((resolve, reject) => {
      client.once('connect', () => resolve(client));
      client.once('close', () => reject(new Error(`${clientId}: closed before CONNACK`)));
    });
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
    await waitFor(() => closed.has(gone!), { what: `${gone} to be closed`, timeoutMs: 5000 });
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
