import type { ControlPlane } from '../../src/main';
import type { EnvoyViewStatus } from '../../src/runners';
import {
  connectClients,
  startBrokers,
  startEnvoy,
  stopBrokers,
  waitFor,
  type ClientPool,
  type EnvoyHandle,
  type HostStat,
  type TestBroker,
  untilHealthy,
} from '../support';
import { planeConfig, startPlane, writeBrokersFile, type PlaneSetup } from './plane';

// The real Envoy 1.40 reporting over LRS: tcp_proxy counts every proxied connection as a
// request of its upstream host, so what it reports per endpoint must match what its own
// admin says of each host, and come down when the clients go.
describe('the Envoy view over LRS, from a real Envoy', () => {
  let brokers: TestBroker[];
  let setup: PlaneSetup;
  let plane: ControlPlane;
  let envoy: EnvoyHandle;
  const pools: ClientPool[] = [];

  const view = async (): Promise<EnvoyViewStatus> => {
    const res = await fetch(`http://127.0.0.1:${setup.config.admin.port}/status`);
    return ((await res.json()) as { envoyView: EnvoyViewStatus }).envoyView;
  };
  const hosts = async (): Promise<Map<number, HostStat>> => new Map((await envoy.clusterHosts('mqtt_brokers')).map((h) => [h.port, h]));
  /** The view equals Envoy's own per-host active connections, and they add up to `total`. */
  const agrees = async (total: number): Promise<false | Record<string, number>> => {
    const [v, h] = await Promise.all([view(), hosts()]);
    const seen = Object.fromEntries(brokers.map((b) => [b.name, v.brokers[b.name]?.connections]));
    const sum = Object.values(seen).reduce((n: number, c) => n + (c ?? 0), 0);
    const matches = brokers.every((b) => seen[b.name] === h.get(b.port)?.cxActive);
    return v.envoys === 1 && sum === total && matches && seen;
  };

  beforeAll(async () => {
    brokers = await startBrokers(3);
    setup = await planeConfig();
    writeBrokersFile(
      setup.brokersFile,
      brokers.map((broker) => ({ broker, weight: 1 })),
    );
    ({ plane } = await startPlane(setup.config));
    envoy = await startEnvoy({ mode: 'sotw', xdsPort: setup.config.xds.port, waitReady: 'live' });
    await untilHealthy(envoy, 3, 'three healthy brokers in Envoy');
  });

  afterAll(async () => {
    await Promise.all(pools.map((p) => p.endAll()));
    await envoy?.stop();
    await plane?.stop();
    await stopBrokers(brokers ?? []);
  });

  it('reports one Envoy over one LRS stream', async () => {
    await waitFor(async () => (await view()).envoys === 1, { timeoutMs: 15_000, what: 'a fresh report from Envoy' });
    expect(await plane.registry.getSingleMetricAsString('mqtt_xds_lrs_streams')).toMatch(/mqtt_xds_lrs_streams 1/);
    expect(await plane.registry.getSingleMetricAsString('mqtt_xds_lrs_rejected_total')).not.toMatch(/reason=/);
  });

  it("shows each broker's connections through Envoy, as Envoy's admin counts them", async () => {
    pools.push(await connectClients({ host: '127.0.0.1', port: setup.config.listener.port, count: 30, prefix: 'view' }));
    const seen = await waitFor(() => agrees(30), { timeoutMs: 15_000, intervalMs: 200, what: 'the view to show 30 connections' });
    // Round robin over equal weights: every broker has some.
    expect(Object.values(seen).every((n) => n > 0)).toBe(true);
    const metrics = await plane.registry.getSingleMetricAsString('mqtt_xds_envoy_view_connections');
    expect(metrics).toMatch(new RegExp(`broker="${brokers[0].name}"\\} ${seen[brokers[0].name]}`));
  });

  it('brings the counts down when the clients disconnect', async () => {
    await Promise.all(pools.splice(0).map((p) => p.endAll()));
    await waitFor(() => agrees(0), { timeoutMs: 15_000, intervalMs: 200, what: 'the view to show no connections' });
  });
});
