// The dashboard's queries name metrics that a running control plane and a running Envoy with
// our config really export: the Envoy names in test/support/metric-names.ts are checked here
// against Envoy's own /stats/prometheus, and the process metrics come unprefixed.
import type { ControlPlane } from '../../src/main';
import {
  connectClients,
  startBrokers,
  startEnvoy,
  stopBrokers,
  waitFor,
  type ClientPool,
  type EnvoyHandle,
  type TestBroker,
} from '../support';
import { ENVOY_STATS, defaultProcessMetrics } from '../support/metric-names';
import { planeConfig, startPlane, writeBrokersFile, type PlaneSetup } from './plane';

describe('metrics the dashboard reads', () => {
  let brokers: TestBroker[];
  let setup: PlaneSetup;
  let plane: ControlPlane;
  let envoy: EnvoyHandle;
  let pool: ClientPool | undefined;

  beforeAll(async () => {
    brokers = await startBrokers(2);
    setup = await planeConfig();
    writeBrokersFile(setup.brokersFile, [
      { broker: brokers[0], weight: 1 },
      { broker: brokers[1], weight: 2 },
    ]);
    ({ plane } = await startPlane(setup.config));
    envoy = await startEnvoy({ mode: 'sotw', xdsPort: setup.config.xds.port, waitReady: 'live' });
    await waitFor(
      async () => {
        const h = await envoy.clusterHosts('mqtt_brokers');
        return h.length === 2 && h.every((x) => x.healthy) && (await envoy.listenerReady(setup.config.listener.port));
      },
      { timeoutMs: 30_000, intervalMs: 200, what: 'two healthy brokers behind a ready listener' },
    );
    pool = await connectClients({ host: '127.0.0.1', port: setup.config.listener.port, count: 10, prefix: 'grafana' });
  });

  afterAll(async () => {
    await pool?.endAll();
    await envoy?.stop();
    await plane?.stop();
    await stopBrokers(brokers ?? []);
  });

  /** Names of the samples on a Prometheus text page (the part before `{` or the space). */
  const sampleNames = (page: string): Set<string> =>
    new Set(
      page
        .split('\n')
        .filter((l) => l !== '' && !l.startsWith('#'))
        .map((l) => /^[A-Za-z_:][A-Za-z0-9_:]*/.exec(l)?.[0] ?? ''),
    );

  it("finds every Envoy stat the dashboard reads on Envoy's /stats/prometheus, for our cluster or listener", async () => {
    const page = await envoy.admin.get('/stats/prometheus');
    const ours = page.split('\n').filter((l) => /envoy_cluster_name="mqtt_brokers"|envoy_listener_address="mqtt"/.test(l));
    const names = sampleNames(ours.join('\n'));
    expect(ENVOY_STATS.filter((m) => !names.has(m))).toEqual([]);
    expect(ours).toContain('envoy_cluster_upstream_cx_active{envoy_cluster_name="mqtt_brokers"} 10');
    expect(ours).toContain('envoy_listener_downstream_cx_active{envoy_listener_address="mqtt"} 10');
  });

  it('serves the Node process metrics unprefixed on /metrics, as stock Node dashboards expect', async () => {
    const names = sampleNames(await (await fetch(`http://127.0.0.1:${setup.config.admin.port}/metrics`)).text());
    expect(names).toContain('process_cpu_seconds_total');
    expect(names).toContain('nodejs_eventloop_lag_seconds');
    expect(names).toContain('mqtt_xds_broker_weight');
    expect([...names].filter((n) => n.startsWith('mqtt_xds_process_') || n.startsWith('mqtt_xds_nodejs_'))).toEqual([]);
    // Every default metric, histograms' series too, except those this platform lacks.
    const missing = [...defaultProcessMetrics()].filter((m) => !names.has(m));
    expect(missing.filter((m) => m.startsWith('process_cpu') || m.startsWith('nodejs_heap_size'))).toEqual([]);
  });
});
