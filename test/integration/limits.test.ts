import * as fs from 'node:fs';
import * as path from 'node:path';
import { withOverrides, type Config } from '../../src/config';
import type { ControlPlane } from '../../src/main';
import { EXTENSION_CONFIG, LISTENER } from '../../src/xds';
import {
  connectClients,
  publishAndReceive,
  sleep,
  startBrokers,
  startEnvoy,
  stopBrokers,
  tryConnectClients,
  waitFor,
  type ClientPool,
  type EnvoyHandle,
  type HostStat,
  type TestBroker,
} from '../support';
import { planeConfig, startPlane, writeBrokersFile, type PlaneSetup } from './plane';

// Load shedding and circuit breaking with a real Envoy. The limits come from the policy's
// `limits:` section and reach Envoy over CDS (circuit breakers) and ECDS (the rate limit
// and tcp_proxy filters); changing them must never close an established connection.

const CLUSTER = 'mqtt_brokers';
/** Envoy closes the connections of a drained filter chain after this; short, so a drain would show. */
const DRAIN_TIME_S = 2;
const HELD = 200;
const UINT32_MAX = 4294967295;

/** A policy for two brokers declared at 100 connections each, with these `limits:` lines. */
const policy = (...limits: string[]): string =>
  [
    'capacity:',
    '  classes: { test: { connections: 100 } }',
    '  brokers: { broker-0: test, broker-1: test }',
    'limits:',
    ...limits.map((l) => `  ${l}`),
    '',
  ].join('\n');

interface Breakers {
  maxConnections?: number;
  maxPending?: number;
  perHost?: number;
}

interface Rig {
  brokers: TestBroker[];
  setup: PlaneSetup;
  config: Config;
  policyFile: string;
  plane: ControlPlane;
  envoy: EnvoyHandle;
  mqttPort: number;
}

async function startRig(
  mode: 'sotw' | 'delta',
  brokerCount: number,
  initialPolicy: string,
  maxDownstreamConnections?: number,
): Promise<Rig> {
  const brokers = await startBrokers(brokerCount);
  const setup = await planeConfig();
  const policyFile = path.join(setup.dir, 'policy.yaml');
  fs.writeFileSync(policyFile, initialPolicy);
  writeBrokersFile(
    setup.brokersFile,
    brokers.map((broker) => ({ broker, weight: 1 })),
  );
  // Static weights: nothing but the policy changes the resources; no push interval to wait out.
  const config = withOverrides(setup.config, { balancing: { mode: 'static', policyFile, minPushIntervalMs: 0 } });
  const { plane } = await startPlane(config);
  const envoy = await startEnvoy({
    mode,
    xdsPort: config.xds.port,
    waitReady: 'live',
    extraArgs: ['--drain-time-s', String(DRAIN_TIME_S)],
    ...(maxDownstreamConnections === undefined ? {} : { maxDownstreamConnections }),
  });
  const mqttPort = config.listener.port;
  await waitFor(
    async () => {
      const h = await envoy.clusterHosts(CLUSTER);
      return h.length === brokerCount && h.every((x) => x.healthy) && (await envoy.listenerReady(mqttPort));
    },
    { timeoutMs: 30_000, intervalMs: 200, what: `${brokerCount} healthy brokers behind a ready listener` },
  );
  return { brokers, setup, config, policyFile, plane, envoy, mqttPort };
}

async function stopRig(rig: Rig | undefined, pools: readonly ClientPool[]): Promise<void> {
  await Promise.all(pools.map((p) => p.endAll()));
  await rig?.envoy.stop();
  await rig?.plane.stop();
  await stopBrokers(rig?.brokers ?? []);
}

describe.each(['sotw', 'delta'] as const)('connection limits over %s ADS', (mode) => {
  let rig: Rig;
  const pools: ClientPool[] = [];
  /** Clients connected in the rate-limit test, through the bucket and with it switched off. */
  let admittedInStorm = 0;

  const closedEverywhere = (): number => pools.reduce((n, p) => n + p.closed(), 0);
  const stat = async (name: string): Promise<number> => (await rig.envoy.stat(name)) ?? 0;
  const hosts = (): Promise<HostStat[]> => rig.envoy.clusterHosts(CLUSTER);
  const connect = async (count: number, prefix: string, concurrency = 50): Promise<ClientPool> => {
    const pool = await connectClients({ host: '127.0.0.1', port: rig.mqttPort, count, prefix: `${prefix}-${mode}`, concurrency });
    pools.push(pool);
    return pool;
  };

  const writePolicy = (text: string): void => {
    fs.writeFileSync(`${rig.policyFile}.tmp`, text);
    fs.renameSync(`${rig.policyFile}.tmp`, rig.policyFile);
  };

  async function breakers(): Promise<Breakers> {
    const dump = await rig.envoy.getJson('/config_dump?resource=dynamic_active_clusters');
    const cluster = (dump.configs ?? []).map((c: any) => c.cluster).find((c: any) => c?.name === CLUSTER);
    const t = cluster?.circuit_breakers?.thresholds?.[0] ?? {};
    const h = cluster?.circuit_breakers?.per_host_thresholds?.[0] ?? {};
    const n = (v: unknown): number | undefined => (v === undefined ? undefined : Number(v));
    return { maxConnections: n(t.max_connections), maxPending: n(t.max_pending_requests), perHost: n(h.max_connections) };
  }

  /** The network filter configs Envoy holds from ECDS, by name. */
  async function filterConfigs(): Promise<Record<string, any>> {
    const dump = await rig.envoy.getJson('/config_dump?resource=ecds_filters');
    const out: Record<string, any> = {};
    for (const c of dump.configs ?? []) if (c.ecds_filter?.name) out[c.ecds_filter.name] = c.ecds_filter.typed_config;
    return out;
  }

  const bucketSize = async (): Promise<number | undefined> => {
    const tokens = (await filterConfigs())['mqtt.connect_rate_limit']?.token_bucket?.max_tokens;
    return tokens === undefined ? undefined : Number(tokens);
  };

  beforeAll(async () => {
    rig = await startRig(mode, 2, policy('connections: { headroom: 1.5 }', 'connectRate: { perSec: 1000 }'));
  });

  afterAll(() => stopRig(rig, pools));

  it('derives the circuit breakers from capacity (CDS) and serves the listener filters over ECDS', async () => {
    expect(await breakers()).toEqual({ maxConnections: 300, maxPending: 1024, perHost: 150 });
    const filters = await filterConfigs();
    expect(Object.keys(filters).sort()).toEqual(['mqtt.connect_rate_limit', 'mqtt.tcp_proxy']);
    expect(filters['mqtt.connect_rate_limit'].token_bucket).toMatchObject({ max_tokens: 1000, tokens_per_fill: 50 });
    expect(filters['mqtt.tcp_proxy']).toMatchObject({ cluster: CLUSTER, stat_prefix: 'mqtt' });
    const [stream] = rig.plane.xdsStreams();
    expect(stream.types[EXTENSION_CONFIG]?.ackedVersion).toBeDefined();
    expect(stream.types[EXTENSION_CONFIG]?.nackedVersion).toBeUndefined();
  });

  it('changes circuit breakers, rate limit and duration without closing a connection or touching the listener', async () => {
    await connect(HELD, 'held');
    const listenerBefore = (await rig.envoy.configDumpVersions()).listeners.mqtt;
    const modifiedBefore = await stat('listener_manager.listener_modified');
    const reloadsBefore = await stat('extension_config_discovery.network_filter.mqtt.tcp_proxy.config_reload');

    writePolicy(policy('connections: { headroom: 3 }', 'connectRate: { perSec: 50, burst: 100 }', 'maxConnectionDurationMs: 60000'));
    await waitFor(async () => (await breakers()).perHost === 300, { timeoutMs: 20_000, what: 'per-host limit 300 in Envoy' });
    await waitFor(async () => (await stat('extension_config_discovery.network_filter.mqtt.tcp_proxy.config_reload')) > reloadsBefore, {
      timeoutMs: 20_000,
      what: 'the new tcp_proxy config over ECDS',
    });
    expect(await breakers()).toEqual({ maxConnections: 600, maxPending: 1024, perHost: 300 });
    const filters = await filterConfigs();
    expect(filters['mqtt.connect_rate_limit'].token_bucket).toMatchObject({ max_tokens: 100, tokens_per_fill: 5 });
    expect(filters['mqtt.tcp_proxy'].max_downstream_connection_duration).toBe('60s');

    // Longer than Envoy's drain time: connections on a drained filter chain would be closed by now.
    await sleep(DRAIN_TIME_S * 1000 + 1500);
    expect((await rig.envoy.configDumpVersions()).listeners.mqtt).toBe(listenerBefore);
    expect(await stat('listener_manager.listener_modified')).toBe(modifiedBefore);
    expect(await stat('listener_manager.total_filter_chains_draining')).toBe(0);
    expect(await stat('listener.mqtt.downstream_cx_active')).toBe(HELD);
    // Established connections keep the tcp_proxy they started with: no duration for them.
    expect(await stat('tcp.mqtt.max_downstream_connection_duration')).toBe(0);
    expect(closedEverywhere()).toBe(0);
    // The changed Cluster is a new one in Envoy: its hosts count connections from zero,
    // so a new circuit breaker never counts what was established before it.
    expect((await hosts()).map((h) => h.cxActive)).toEqual([0, 0]);
    await publishAndReceive({ host: '127.0.0.1', port: rig.mqttPort, topic: `limits/${mode}/after-change` });
    expect(closedEverywhere()).toBe(0);
  });

  it('closes connections above the rate limit at once and counts them as rate_limited', async () => {
    writePolicy(policy('connections: { headroom: 3 }', 'connectRate: { perSec: 1, burst: 10 }'));
    await waitFor(async () => (await bucketSize()) === 10, { timeoutMs: 20_000, what: 'a bucket of 10 in Envoy' });
    const shedBefore = await stat('local_rate_limit.mqtt.rate_limited');
    const storm = await tryConnectClients({ host: '127.0.0.1', port: rig.mqttPort, count: 40, concurrency: 40, prefix: `storm-${mode}` });
    pools.push(storm.pool);
    const shed = (await stat('local_rate_limit.mqtt.rate_limited')) - shedBefore;
    expect(storm.pool.clients.length + storm.refused).toBe(40);
    // A full bucket of 10, plus at most a token a second while the storm lasts.
    expect(storm.pool.clients.length).toBeGreaterThanOrEqual(10);
    expect(storm.refused).toBeGreaterThanOrEqual(20);
    expect(shed).toBe(storm.refused);
    // Closed by Envoy, not timed out: the client sees the connection end before CONNACK.
    for (const reason of storm.reasons) {
      expect(reason).toContain('closed before CONNACK');
      expect(reason).not.toMatch(/timeout/i);
    }
    expect(closedEverywhere()).toBe(0);

    // The emergency switch: the runtime flag turns the limit off on this Envoy, and on again.
    const flag = 'mqtt_xds.mqtt.connect_rate_limit_enabled';
    expect((await rig.envoy.admin.request(`/runtime_modify?${flag}=false`, 'POST')).status).toBe(200);
    await connect(15, 'unlimited', 15);
    admittedInStorm = storm.pool.clients.length + 15;
    expect((await stat('local_rate_limit.mqtt.rate_limited')) - shedBefore).toBe(storm.refused);
    expect((await rig.envoy.admin.request(`/runtime_modify?${flag}=true`, 'POST')).status).toBe(200);
  });

  it('refuses connections beyond the per-host limit and counts the overflow, keeping those above a lowered limit', async () => {
    // 20 per broker, far below the ~100 each already holds; rate limit off again.
    writePolicy(policy('connections: { perHost: 20, pending: 5 }'));
    await waitFor(async () => (await breakers()).perHost === 20, { timeoutMs: 20_000, what: 'per-host limit 20 in Envoy' });
    await waitFor(async () => (await bucketSize()) === UINT32_MAX, { timeoutMs: 20_000, what: 'the rate limit off again' });
    expect(await breakers()).toEqual({ maxConnections: 300, maxPending: 5, perHost: 20 });

    // The new Cluster counts from zero: 20 more per broker fit (at most 5 connecting at once).
    await connect(40, 'fill', 5);
    expect((await hosts()).map((h) => h.cxActive)).toEqual([20, 20]);
    const cxOverflow = await stat(`cluster.${CLUSTER}.upstream_cx_overflow`);
    const pendingOverflow = await stat(`cluster.${CLUSTER}.upstream_rq_pending_overflow`);
    const over = await tryConnectClients({
      host: '127.0.0.1',
      port: rig.mqttPort,
      count: 20,
      concurrency: 20,
      prefix: `over-${mode}`,
      connectTimeoutMs: 3000,
    });
    pools.push(over.pool);
    expect(over.pool.clients).toHaveLength(0);
    expect(over.refused).toBe(20);
    // 5 wait in the pending queue for a broker that has no room (until the client gives
    // up); the other 15 find the queue full and are closed at once.
    expect((await stat(`cluster.${CLUSTER}.upstream_rq_pending_overflow`)) - pendingOverflow).toBe(15);
    expect((await stat(`cluster.${CLUSTER}.upstream_cx_overflow`)) - cxOverflow).toBeGreaterThanOrEqual(5);
    expect((await hosts()).map((h) => h.cxActive)).toEqual([20, 20]);
    expect(closedEverywhere()).toBe(0);
    // The 5 that waited stay open in Envoy although their clients gave up: Envoy reads
    // nothing from a client before its broker connection is up, so it does not see the
    // close. They hold their pending slots until a broker has room again.
    expect(await stat(`cluster.${CLUSTER}.upstream_rq_pending_active`)).toBe(5);
    expect(await stat('listener.mqtt.downstream_cx_active')).toBe(HELD + admittedInStorm + 40 + 5);
  });

  it('never changed the Listener: every limit went over CDS or ECDS', async () => {
    const [stream] = rig.plane.xdsStreams();
    expect(stream.types[LISTENER]?.nackedVersion).toBeUndefined();
    expect(await stat('listener_manager.listener_modified')).toBe(0);
    expect(await stat('listener_manager.total_filter_chains_draining')).toBe(0);
    expect(closedEverywhere()).toBe(0);
  });
});

describe('the global downstream connection cap (overload manager)', () => {
  let rig: Rig;
  const pools: ClientPool[] = [];
  const CAP = 10;

  beforeAll(async () => {
    rig = await startRig('sotw', 1, '{}\n', CAP);
  });

  afterAll(() => stopRig(rig, pools));

  it('closes connections beyond the cap at once, counts them, and keeps the admin interface reachable', async () => {
    const attempt = await tryConnectClients({ host: '127.0.0.1', port: rig.mqttPort, count: CAP + 5, concurrency: 1, prefix: 'capped' });
    pools.push(attempt.pool);
    expect(attempt.pool.clients).toHaveLength(CAP);
    expect(attempt.refused).toBe(5);
    // Read through the admin interface while at the cap: it ignores the global limit.
    expect(await rig.envoy.stat('listener.mqtt.downstream_global_cx_overflow')).toBe(5);
    expect(await rig.envoy.stat('listener.mqtt.downstream_cx_active')).toBe(CAP);
    expect(attempt.pool.closed()).toBe(0);
  });
});
