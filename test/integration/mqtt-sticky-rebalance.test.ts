// Sticky placement (mqttFilter.placement: sticky) with drains and the rebalancer, end to end:
// capacity test brokers serving the agent API, mqtt-xds scraping them and moving clients
// through the agents, the real Envoy 1.40 with the MQTT filter over ECDS (SotW and Delta), and
// mqtt.js clients that reconnect like devices. docs/mqtt-filter.md, "Drains and the rebalancer".
import * as fs from 'node:fs';
import * as path from 'node:path';
import { withOverrides } from '../../src/config';
import type { ControlPlane } from '../../src/main';
import { clientIdHash } from '../../src/translation';
import { launchCapacityBroker, type LaunchedBroker } from '../tools/testbroker/launch';
import { startEnvoy, waitFor, type EnvoyHandle } from '../support';
import { connectReconnectingClients, type ReconnectingPool } from '../support/reconnecting-clients';
import { placeAlone, untilStickyReady } from './sticky-plane';
import { planeConfig, startPlane } from './plane';

const TOKEN = 'it-agent-token';
const ADMIN_TOKEN = 'it-admin-token';
const CLUSTER = 'mqtt_brokers';

const STICKY = 'mqttFilter: { enabled: true, placement: sticky, firstPacketTimeoutMs: 5000 }';
/**
 * tolerance 0.25 and minExcess 15: the moved ids split between the two brokers with room by
 * their salted hash, not evenly (about 40 ids, a half each on average). With tolerance 0.1 and
 * minExcess 5 a split of 25:15 put one of them over 44 and it was moved from in turn (one run
 * in eight). Over 50 with an excess of 15 needs 35 of 40 (a chance of about 1e-6), and 1.25 is
 * also Envoy's own bounded-load cap.
 */
// An agent call slower than agentTimeoutMs stops moving from that broker until retryAfterMs:
// on a loaded machine a 1 s timeout with a 10 min retry once left the over-share broker unmoved.
const MOVES = 'ratePerSec: 100, batchSize: 20, tolerance: 0.25, minExcess: 15, retryAfterMs: 1000, agentTimeoutMs: 10000';
/** Drains move clients whatever rebalance.mode says; dry-run keeps rebalancing out of the drain test. */
const DRAIN_POLICY = [STICKY, `rebalance: { mode: dry-run, ${MOVES} }`, 'smoothing: { alpha: 1 }', ''].join('\n');
/** Two brokers DRAINING in EDS with nobody moved: new clients all go to the third. */
const pilePolicy = (drained: readonly string[]): string =>
  [
    STICKY,
    `rebalance: { mode: dry-run, ${MOVES} }`,
    'drain: { moveClients: false }',
    'smoothing: { alpha: 1 }',
    'overrides:',
    ...drained.map((n) => `  ${n}: { drain: true }`),
    '',
  ].join('\n');
const MOVE_POLICY = [STICKY, `rebalance: { mode: on, ${MOVES} }`, 'smoothing: { alpha: 1 }', ''].join('\n');

function writeFileAtomic(file: string, text: string): void {
  fs.writeFileSync(`${file}.tmp`, text);
  fs.renameSync(`${file}.tmp`, file);
}

const brokersYaml = (brokers: readonly LaunchedBroker[]): string =>
  'brokers:\n' +
  brokers
    .map(
      (b) =>
        `  - name: ${b.name}\n    host: 127.0.0.1\n    port: ${b.port}\n    metricsUrl: ${b.metricsUrl}\n    agentUrl: ${b.agentUrl}\n`,
    )
    .join('');

describe.each(['sotw', 'delta'] as const)('sticky placement with drains and the rebalancer, over %s ADS', (mode) => {
  let brokers: LaunchedBroker[] = [];
  let plane: ControlPlane;
  let envoy: EnvoyHandle;
  let mqttPort: number;
  let admin: string;
  let policyFile: string;
  const pools: ReconnectingPool[] = [];

  const adminCall = async (method: string, p: string): Promise<{ status: number; body: Record<string, any> }> => {
    const res = await fetch(admin + p, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
  const idsOn = async (b: LaunchedBroker): Promise<Set<string>> => new Set((await b.clients()).map((c) => c.clientId));
  const counts = async (): Promise<number[]> => Promise.all(brokers.map(async (b) => (await b.clients()).length));
  const draining = async (b: LaunchedBroker): Promise<boolean> =>
    (await envoy.clusterHosts(CLUSTER)).find((x) => x.port === b.port)?.healthFlags.includes('eds_draining') ?? false;
  const metric = async (name: string): Promise<number> => {
    const text = await (await fetch(`${admin}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    return line === undefined ? NaN : Number(line.split(' ')[1]);
  };
  /** The saltedIds value in the MQTT filter config Envoy holds ('' for none). */
  const envoySalts = async (): Promise<string> => {
    const dump = await envoy.getJson('/config_dump?resource=ecds_filters');
    const filter = (dump.configs ?? []).find((c: any) => c.ecds_filter?.name === 'mqtt.mqtt_filter')?.ecds_filter?.typed_config;
    const json = filter?.config?.configuration?.value as string | undefined;
    return json === undefined ? '' : ((JSON.parse(json) as { saltedIds?: string }).saltedIds ?? '');
  };
  const place = (ids: readonly string[]): Promise<Map<string, string>> => placeAlone(envoy, CLUSTER, brokers, mqttPort, ids);
  const rebalanceIdle = async (): Promise<boolean> => {
    const body = (await adminCall('GET', '/rebalance')).body;
    return body.sources !== undefined && Object.keys(body.sources as object).length === 0;
  };

  beforeAll(async () => {
    brokers = await Promise.all(
      [0, 1, 2].map((i) => launchCapacityBroker({ name: `sticky-${mode}-${i}`, capacity: 1000, agentToken: TOKEN })),
    );
    const setup = await planeConfig();
    writeFileAtomic(setup.brokersFile, brokersYaml(brokers));
    policyFile = path.join(setup.dir, 'policy.yaml');
    fs.writeFileSync(policyFile, DRAIN_POLICY);
    fs.writeFileSync(path.join(setup.dir, 'agent-token'), TOKEN + '\n');
    fs.writeFileSync(path.join(setup.dir, 'admin-token'), ADMIN_TOKEN + '\n');
    const config = withOverrides(setup.config, {
      balancing: { mode: 'metrics', policyFile, minPushIntervalMs: 300 },
      scrape: { intervalMs: 300, timeoutMs: 250 },
      agent: { tokenFile: path.join(setup.dir, 'agent-token') },
      admin: { tokenFile: path.join(setup.dir, 'admin-token') },
      rebalanceTickMs: 200,
      // Health checks a loaded machine cannot fail: a broker that left the table for a moment
      // would move ids for a reason not under test.
      cluster: { healthCheck: { intervalMs: 1000, timeoutMs: 5000, unhealthyThreshold: 10, healthyThreshold: 1 } },
    });
    ({ plane } = await startPlane(config));
    envoy = await startEnvoy({ mode, xdsPort: config.xds.port, waitReady: 'live' });
    mqttPort = config.listener.port;
    admin = `http://127.0.0.1:${config.admin.port}`;
    await untilStickyReady(envoy, CLUSTER, 3, mqttPort);
  });

  afterAll(async () => {
    await Promise.all(pools.map((p) => p.endAll()));
    await envoy?.stop();
    await plane?.stop();
    await Promise.all(brokers.map((b) => b.stop()));
  });

  it('drains a broker empty: its clients end on the others, none comes back while it drains, and nobody is salted', async () => {
    const pool = await connectReconnectingClients({ host: '127.0.0.1', port: mqttPort, count: 90, prefix: `drain-${mode}` });
    pools.push(pool);
    await waitFor(async () => (await counts()).reduce((a, b) => a + b, 0) === 90, { timeoutMs: 20_000, what: '90 clients on the brokers' });
    const before = await counts();
    // The ids hash over all three brokers of equal weight.
    for (const n of before) expect(n).toBeGreaterThan(10);
    const r = await adminCall('POST', `/drain/${brokers[0].name}`);
    expect(r.status).toBe(202);
    await waitFor(async () => (await adminCall('GET', `/drain/${brokers[0].name}`)).body.drained === true, {
      timeoutMs: 90_000,
      intervalMs: 250,
      what: 'the drain to finish',
    });
    await waitFor(() => pool.connected() === 90, { timeoutMs: 30_000, what: 'every client back' });
    const after = await counts();
    expect(after[0]).toBe(0);
    expect(after[1] + after[2]).toBe(90);
    expect(pool.failedAttempts()).toBe(0);
    // Each of the drained broker's clients lost its connection once: none hashed back to it
    // (a DRAINING broker is out of the Maglev table) to be moved again.
    expect(pool.lost()).toBe(before[0]);
    expect((await adminCall('GET', `/drain/${brokers[0].name}`)).body).toMatchObject({ state: 'drained', moved: before[0] });
    // Its ids' next choices were the two others; the ids already there stayed.
    expect([...pool.movedIds()].length).toBe(before[0]);
    expect(await metric('mqtt_xds_sticky_salts')).toBe(0);
    expect(await envoySalts()).toBe('');
    await pool.endAll();
    expect((await adminCall('DELETE', `/drain/${brokers[0].name}`)).body).toMatchObject({ cancelled: true });
    await waitFor(async () => !(await draining(brokers[0])), { timeoutMs: 20_000, what: 'the broker serving again' });
    await waitFor(async () => (await counts()).every((n) => n === 0), { timeoutMs: 20_000, what: 'the drain test clients gone' });
  });

  it('moves only the excess off an over-share broker, salting the moved ids, and closes nobody on the others', async () => {
    const [a, b, c] = brokers;
    // 60 ids spread by the hash, then 60 more while b and c take no new clients: a is over its share.
    const spread = await connectReconnectingClients({ host: '127.0.0.1', port: mqttPort, count: 60, prefix: `spread-${mode}` });
    pools.push(spread);
    await waitFor(async () => (await counts()).reduce((x, y) => x + y, 0) === 60, { timeoutMs: 20_000, what: '60 clients' });
    writeFileAtomic(policyFile, pilePolicy([b.name, c.name]));
    await waitFor(async () => (await draining(b)) && (await draining(c)), { timeoutMs: 20_000, what: 'b and c DRAINING in Envoy' });
    const piled = await connectReconnectingClients({ host: '127.0.0.1', port: mqttPort, count: 60, prefix: `piled-${mode}` });
    pools.push(piled);
    await waitFor(async () => (await counts()).reduce((x, y) => x + y, 0) === 120, { timeoutMs: 20_000, what: '120 clients' });
    const onA = await idsOn(a);
    const others = new Set([...(await idsOn(b)), ...(await idsOn(c))]);
    // Targets are 40 each (equal capacities): the excess E on a is what the rebalance must move.
    const excess = onA.size - 40;
    expect(excess).toBeGreaterThan(20);
    const lostBefore = new Set([...spread.movedIds(), ...piled.movedIds()]);
    const saltsBefore = await metric('mqtt_xds_sticky_salts');
    expect(saltsBefore).toBe(0);

    writeFileAtomic(policyFile, MOVE_POLICY);
    await waitFor(async () => !(await draining(b)) && !(await draining(c)), { timeoutMs: 20_000, what: 'b and c serving' });
    await waitFor(async () => (await counts())[0] <= 44, { timeoutMs: 90_000, intervalMs: 250, what: 'a down to its share' }).catch(
      async (err: Error) => {
        // What the rebalancer and the brokers said then, for a failure on a loaded machine.
        const plan = await adminCall('GET', '/rebalance').catch((e: Error) => ({ status: 0, body: { error: e.message } }));
        throw new Error(`${err.message}; counts ${JSON.stringify(await counts())}; /rebalance ${JSON.stringify(plan.body)}`);
      },
    );
    await waitFor(rebalanceIdle, { timeoutMs: 60_000, intervalMs: 250, what: 'the rebalance to end' });
    await waitFor(() => spread.connected() + piled.connected() === 120, { timeoutMs: 30_000, what: 'every client back' });
    await waitFor(async () => !(await draining(a)), { timeoutMs: 30_000, what: 'a serving again' });

    const moved = [...spread.movedIds(), ...piled.movedIds()].filter((id) => !lostBefore.has(id));
    const after = await counts();
    // The rebalance stops at the target (hysteresis) and never moves more than the excess it
    // first saw; scrapes lag the disconnects by up to one interval, so allow ±6 around the
    // target, as the weighted suite does.
    expect(Math.abs(after[0] - 40)).toBeLessThanOrEqual(6);
    expect(moved.length).toBeGreaterThanOrEqual(excess - 6);
    expect(moved.length).toBeLessThanOrEqual(excess + 1);
    expect(onA.size - after[0]).toBeGreaterThanOrEqual(excess - 6);
    // Only a's clients were closed; b's and c's were below their share and kept their connections.
    for (const id of moved) expect(onA.has(id)).toBe(true);
    for (const id of others) expect(moved.includes(id)).toBe(false);
    expect(spread.failedAttempts() + piled.failedAttempts()).toBe(0);

    // Every moved id carries a salt, and the filter config Envoy holds has it.
    expect(await metric('mqtt_xds_sticky_salts')).toBe(moved.length);
    const inEnvoy = new Set(
      (await envoySalts())
        .split(',')
        .filter((e) => e !== '')
        .map((e) => e.split(':')[0]),
    );
    for (const id of moved) expect(inEnvoy.has(clientIdHash(id))).toBe(true);
    expect(inEnvoy.size).toBe(moved.length);
    expect(await metric('mqtt_xds_sticky_salt_returns_total')).toBeGreaterThanOrEqual(0);
    movedIds = moved;
    stayedIds = [...others].slice(0, 30);
    await Promise.all([spread.endAll(), piled.endAll()]);
    await waitFor(async () => (await counts()).every((n) => n === 0), { timeoutMs: 20_000, what: 'the rebalance test clients gone' });
  });

  let movedIds: string[] = [];
  let stayedIds: string[] = [];

  it('places a salted id by its salted key, the same on every reconnect, and the others as before; without salts they go home', async () => {
    expect(movedIds.length).toBeGreaterThan(0);
    // Pinned, equal weights: in metrics mode a broker's weight follows its load, and the
    // table with it, so the one-at-a-time connections below would move other ids.
    const pinned = (extra: string): string =>
      [
        MOVE_POLICY.replace('minExcess: 15,', `minExcess: 15,${extra}`),
        'overrides:',
        ...brokers.map((b) => `  ${b.name}: { weight: 100 }`),
        '',
      ].join('\n');
    const settled = async (): Promise<boolean> => {
      const hosts = await envoy.clusterHosts(CLUSTER);
      return hosts.length === 3 && hosts.every((h) => h.weight === 100 && h.healthy);
    };
    writeFileAtomic(policyFile, pinned(''));
    await waitFor(settled, { timeoutMs: 20_000, what: 'three serving brokers of weight 100 in Envoy' });
    const salted = await place(movedIds);
    const saltedAgain = await place(movedIds);
    // The salt is the id's until it expires: stable, like any sticky key.
    expect(movedIds.filter((id) => salted.get(id) !== saltedAgain.get(id))).toEqual([]);
    const stayed = await place(stayedIds);

    // rebalance.stickySaltsMax 0 drops every salt: one ECDS update, then the ids hash plain again.
    expect(await settled()).toBe(true);
    writeFileAtomic(policyFile, pinned(' stickySaltsMax: 0,'));
    await waitFor(async () => (await envoySalts()) === '', { timeoutMs: 20_000, what: 'the salts gone from Envoy' });
    expect(await settled()).toBe(true);
    expect(await metric('mqtt_xds_sticky_salts')).toBe(0);
    const plain = await place(movedIds);
    const stayedPlain = await place(stayedIds);
    // The ids nobody salted are placed exactly as before: salts touch no other id.
    expect(await settled()).toBe(true);
    expect(stayedIds.filter((id) => stayed.get(id) !== stayedPlain.get(id))).toEqual([]);
    // A salted key is a new key: with three brokers of equal weight it lands elsewhere than the
    // plain one for about 2/3 of the ids. At least a quarter must differ (for 20 ids, fewer than
    // 5 of 2/3 has a chance of about 1e-5); without salts none would.
    const differ = movedIds.filter((id) => salted.get(id) !== plain.get(id)).length;
    expect(differ).toBeGreaterThanOrEqual(Math.ceil(movedIds.length / 4));
  });
});
