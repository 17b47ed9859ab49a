import { LISTENER } from '../../src/xds';
import type { ControlPlane } from '../../src/main';
import {
  connectClients,
  publishAndReceive,
  startBrokers,
  startEnvoy,
  stopBrokers,
  waitFor,
  type ClientPool,
  type EnvoyHandle,
  type HostStat,
  type TestBroker,
} from '../support';
import { planeConfig, startPlane, writeBrokersFile, type PlaneSetup } from './plane';
import { buildResources } from '../../src/translation';
import type { Broker } from '../../src/domain';
import { staticWeightPlan } from '../../src/balancing';

const CLUSTER_NAME = 'mqtt_brokers';

describe.each(['sotw', 'delta'] as const)('Envoy proxying MQTT over %s ADS', (mode) => {
  let brokers: TestBroker[];
  let setup: PlaneSetup;
  let plane: ControlPlane;
  let envoy: EnvoyHandle;
  const pools: ClientPool[] = [];
  let mqttPort: number;

  const hosts = (): Promise<HostStat[]> => envoy.clusterHosts(CLUSTER_NAME);
  const byPort = async (): Promise<Map<number, HostStat>> => new Map((await hosts()).map((h) => [h.port, h]));
  const connect = async (count: number, prefix: string): Promise<ClientPool> => {
    const pool = await connectClients({ host: '127.0.0.1', port: mqttPort, count, prefix });
    pools.push(pool);
    return pool;
  };
  const closedEverywhere = (): number => pools.reduce((n, p) => n + p.closed(), 0);
  const metric = async (name: string): Promise<string> => (await plane.registry.getSingleMetricAsString(name)) ?? '';

  beforeAll(async () => {
    brokers = await startBrokers(3);
    setup = await planeConfig();
    mqttPort = setup.config.listener.port;
    writeBrokersFile(setup.brokersFile, [
      { broker: brokers[0], weight: 1 },
      { broker: brokers[1], weight: 2 },
    ]);
    ({ plane } = await startPlane(setup.config));
    envoy = await startEnvoy({ mode, xdsPort: setup.config.xds.port, waitReady: 'live' });
    await waitFor(
      async () => {
        const h = await hosts();
        return h.length === 2 && h.every((x) => x.healthy) && (await envoy.listenerReady(mqttPort));
      },
      { timeoutMs: 30_000, intervalMs: 200, what: 'two healthy brokers behind a ready listener' },
    );
  });

  afterAll(async () => {
    await Promise.all(pools.map((p) => p.endAll()));
    await envoy?.stop();
    await plane?.stop();
    await stopBrokers(brokers ?? []);
  });

  it('carries MQTT publish and subscribe through Envoy', async () => {
    await publishAndReceive({ host: '127.0.0.1', port: mqttPort, topic: `it/${mode}/hello` });
  });

  it('spreads 300 connections 1:2 by the weights in the file', async () => {
    await connect(300, `spread-${mode}`);
    const stats = await byPort();
    const a = stats.get(brokers[0].port)!;
    const b = stats.get(brokers[1].port)!;
    expect([a.weight, b.weight]).toEqual([1, 2]);
    expect(a.cxActive).toBeGreaterThanOrEqual(90);
    expect(a.cxActive).toBeLessThanOrEqual(110);
    expect(b.cxActive).toBeGreaterThanOrEqual(180);
    expect(b.cxActive).toBeLessThanOrEqual(220);
    expect(closedEverywhere()).toBe(0);
  });

  it('applies a weight change from the file without dropping a connection', async () => {
    writeBrokersFile(setup.brokersFile, [
      { broker: brokers[0], weight: 3 },
      { broker: brokers[1], weight: 1 },
    ]);
    await waitFor(
      async () => {
        const s = await byPort();
        return s.get(brokers[0].port)?.weight === 3 && s.get(brokers[1].port)?.weight === 1;
      },
      { timeoutMs: 20_000, intervalMs: 100, what: 'weights 3:1 in Envoy' },
    );
    const before = await byPort();
    await connect(40, `reweighted-${mode}`);
    const after = await byPort();
    const gainA = after.get(brokers[0].port)!.cxActive - before.get(brokers[0].port)!.cxActive;
    const gainB = after.get(brokers[1].port)!.cxActive - before.get(brokers[1].port)!.cxActive;
    expect(gainA + gainB).toBe(40);
    expect(gainA).toBeGreaterThanOrEqual(27);
    expect(gainA).toBeLessThanOrEqual(33);
    expect(closedEverywhere()).toBe(0);
  });

  it('adds one broker and removes another without dropping connections on the rest', async () => {
    writeBrokersFile(setup.brokersFile, [
      { broker: brokers[1], weight: 1 },
      { broker: brokers[2], weight: 1 },
    ]);
    await waitFor(
      async () => {
        const s = await byPort();
        return s.size === 2 && s.has(brokers[2].port) && !s.has(brokers[0].port) && s.get(brokers[2].port)!.healthy;
      },
      { timeoutMs: 20_000, intervalMs: 100, what: 'broker 0 replaced by a healthy broker 2' },
    );
    await untilRoutable(brokers[2]);
    const pool = await connect(20, `after-swap-${mode}`);
    expect(pool.clients).toHaveLength(20);
    const s = await byPort();
    expect(s.get(brokers[2].port)!.cxActive).toBeGreaterThanOrEqual(8);
    expect(closedEverywhere()).toBe(0);
    await publishAndReceive({ host: '127.0.0.1', port: mqttPort, topic: `it/${mode}/after-swap` });
  });

  it('keeps the last good brokers and pushes nothing when the file breaks', async () => {
    const pushesBefore = await metric('mqtt_xds_pushes_total');
    const versionBefore = (await envoy.configDumpVersions()).cds;
    const fs = await import('node:fs');
    fs.writeFileSync(setup.brokersFile, 'brokers:\n  - name: broken\n    host: 127.0.0.1\n    port: 99999\n');
    await waitFor(async () => /stage="discovery"/.test(await metric('mqtt_xds_input_rejected_total')), {
      timeoutMs: 10_000,
      what: 'the broken file to be refused',
    });
    const res = await fetch(`http://127.0.0.1:${setup.config.admin.port}/status`);
    const body = (await res.json()) as { discoveryProblems: Array<{ path: string; line: number }> };
    expect(body.discoveryProblems).toEqual([expect.objectContaining({ path: 'brokers[0].port', line: 4 })]);
    expect(await metric('mqtt_xds_pushes_total')).toBe(pushesBefore);
    expect((await envoy.configDumpVersions()).cds).toBe(versionBefore);
    expect((await hosts()).length).toBe(2);
    expect(closedEverywhere()).toBe(0);
    writeBrokersFile(setup.brokersFile, [
      { broker: brokers[1], weight: 1 },
      { broker: brokers[2], weight: 1 },
    ]);
    // Let the repaired file land before later tests publish by hand.
    await waitFor(
      async () => {
        const r = await fetch(`http://127.0.0.1:${setup.config.admin.port}/status`);
        return ((await r.json()) as { discoveryProblems: unknown[] }).discoveryProblems.length === 0;
      },
      { timeoutMs: 10_000, what: 'the repaired file to be accepted' },
    );
    await new Promise((r) => setTimeout(r, 200 + setup.config.pushDebounceMs));
  });

  it('re-sends endpoints after a Cluster change so the cluster does not stay warming', async () => {
    const cdsBefore = (await envoy.configDumpVersions()).clusters[CLUSTER_NAME];
    const current = currentBrokers(brokers.slice(1));
    const m = plane.model(staticWeightPlan(current));
    expect(plane.publish(buildResources({ ...m, cluster: { ...m.cluster, maxConnections: 900_000 } }))).toEqual([]);
    await waitFor(async () => (await envoy.configDumpVersions()).clusters[CLUSTER_NAME] !== cdsBefore, {
      timeoutMs: 20_000,
      what: 'Envoy to accept the changed cluster',
    });
    await waitFor(async () => (await envoy.stat('cluster_manager.warming_clusters')) === 0, {
      timeoutMs: 20_000,
      what: 'no warming clusters',
    });
    await waitFor(async () => (await hosts()).filter((h) => h.healthy).length === 2, { timeoutMs: 20_000, what: 'hosts healthy again' });
    await publishAndReceive({ host: '127.0.0.1', port: mqttPort, topic: `it/${mode}/after-cds` });
    expect(closedEverywhere()).toBe(0);
  });

  it('counts a NACK for a config Envoy rejects and keeps proxying on the last good one', async () => {
    const nacksBefore = await metric('mqtt_xds_nacks_total');
    const current = currentBrokers(brokers.slice(1));
    const good = buildResources(plane.model(staticWeightPlan(current)));
    const bad = JSON.parse(JSON.stringify(good));
    // Envoy binds listeners to IP literals only; our own validation does not look at it.
    bad.listeners[0].address.socket_address.address = 'not-an-ip';
    expect(plane.publish(bad)).toEqual([]);
    await waitFor(async () => /mqtt_xds_nacks_total\{type="lds"\} [1-9]/.test(await metric('mqtt_xds_nacks_total')), {
      timeoutMs: 20_000,
      what: `an LDS NACK to be counted (before: ${nacksBefore})`,
    });
    expect(await envoy.stat('listener_manager.lds.update_rejected')).toBeGreaterThanOrEqual(1);
    await publishAndReceive({ host: '127.0.0.1', port: mqttPort, topic: `it/${mode}/after-nack` });
    await connect(10, `after-nack-${mode}`);
    expect(closedEverywhere()).toBe(0);
    const [stream] = plane.xdsStreams();
    expect(stream.types[LISTENER]?.lastError).toMatch(/not-an-ip/);
    // The alerts' gauge (docs/alerts.md): this Envoy's latest LDS push stands rejected.
    expect(await metric('mqtt_xds_streams_sync')).toContain('mqtt_xds_streams_sync{type="lds",state="NACKED"} 1');
    // Back to the good config: Envoy ends up holding (and having ACKed) exactly that. SotW
    // re-sends it; Delta knows Envoy kept it and sends nothing.
    expect(plane.publish(good)).toEqual([]);
    const goodVersion = plane.cache.snapshot()!.typeVersions[LISTENER];
    await waitFor(async () => plane.xdsStreams()[0]?.types[LISTENER]?.ackedVersion === goodVersion, {
      timeoutMs: 20_000,
      what: 'Envoy to hold the restored listener',
    });
    await waitFor(async () => (await metric('mqtt_xds_streams_sync')).includes('mqtt_xds_streams_sync{type="lds",state="SYNCED"} 1'), {
      timeoutMs: 20_000,
      what: 'the LDS stream to count as SYNCED again',
    });
    expect(await metric('mqtt_xds_streams_sync')).toContain('mqtt_xds_streams_sync{type="lds",state="NACKED"} 0');
    await publishAndReceive({ host: '127.0.0.1', port: mqttPort, topic: `it/${mode}/restored` });
    expect(closedEverywhere()).toBe(0);
  });

  /**
   * Envoy's admin shows a new host as healthy a moment before the worker's load balancer
   * routes to it (the first health check result reaches the worker asynchronously), so
   * wait until a real connection lands there.
   */
  async function untilRoutable(broker: TestBroker): Promise<void> {
    await waitFor(
      async () => {
        const probe = await connect(2, `probe-${mode}`);
        const landed = ((await byPort()).get(broker.port)?.cxTotal ?? 0) > 0;
        await probe.endAll();
        pools.splice(pools.indexOf(probe), 1);
        return landed;
      },
      { timeoutMs: 20_000, intervalMs: 250, what: `connections to reach ${broker.name}` },
    );
  }

  function currentBrokers(list: TestBroker[]): Broker[] {
    return list.map((b) => ({ name: b.name, address: '127.0.0.1', port: b.port, staticWeight: 1 }));
  }
});
