import * as fs from 'node:fs';
import * as path from 'node:path';
import { withOverrides } from '../../src/config';
import type { ControlPlane } from '../../src/main';
import { launchCapacityBroker, type LaunchedBroker } from '../tools/testbroker/launch';
import { connectClients, startEnvoy, untilHealthy, waitFor, type ClientPool, type EnvoyHandle, type HostStat } from '../support';
import { planeConfig, startPlane, writeScrapedBrokersFile } from './plane';

/**
 * Metrics mode end to end: capacity test brokers export HiveMQ metric names, mqtt-xds
 * scrapes them, and the weights Envoy uses follow what the brokers report.
 */
describe.each(['sotw', 'delta'] as const)('weights follow broker load (%s)', (mode) => {
  let brokers: LaunchedBroker[] = [];
  let plane: ControlPlane;
  let envoy: EnvoyHandle;
  let mqttPort: number;
  let adminPort: number;
  const pools: ClientPool[] = [];

  const weights = async (): Promise<Map<number, HostStat>> => new Map((await envoy.clusterHosts('mqtt_brokers')).map((h) => [h.port, h]));
  const [a, b] = [0, 1];

  beforeAll(async () => {
    brokers = await Promise.all([
      launchCapacityBroker({ name: `load-a-${mode}`, capacity: 200 }),
      launchCapacityBroker({ name: `load-b-${mode}`, capacity: 200 }),
    ]);
    const setup = await planeConfig();
    writeScrapedBrokersFile(setup.brokersFile, brokers);
    const policyFile = path.join(setup.dir, 'policy.yaml');
    fs.writeFileSync(policyFile, 'smoothing: { alpha: 0.5 }\n');
    const config = withOverrides(setup.config, {
      balancing: { mode: 'metrics', policyFile, minPushIntervalMs: 300 },
      scrape: { intervalMs: 300, timeoutMs: 250 },
    });
    mqttPort = config.listener.port;
    adminPort = config.admin.port;
    ({ plane } = await startPlane(config));
    envoy = await startEnvoy({ mode, xdsPort: config.xds.port, waitReady: 'live' });
    await untilHealthy(envoy, 2, 'two healthy capacity brokers');
  });

  afterAll(async () => {
    await Promise.all(pools.map((p) => p.endAll()));
    await envoy?.stop();
    await plane?.stop();
    await Promise.all(brokers.map((x) => x.stop()));
  });

  it('starts both idle brokers at nearly equal weights', async () => {
    // A health-check connection on one broker is a gap of one connection: catch-up's
    // quietConnections keeps it from swinging the weights (it once gave 2000 vs 500).
    const w = await weights();
    const ratio = w.get(brokers[a].port)!.weight / w.get(brokers[b].port)!.weight;
    expect(ratio).toBeGreaterThan(1 / 1.1);
    expect(ratio).toBeLessThan(1.1);
  });

  it('steers new connections away from a broker that reports overload', async () => {
    expect((await brokers[a].post('overload', { level: 5 })).status).toBe(200);
    await waitFor(
      async () => {
        const w = await weights();
        // A share of 5 % or less: the cut (weightFactor 0.01) is in effect.
        return w.get(brokers[a].port)!.weight * 20 <= w.get(brokers[b].port)!.weight;
      },
      { timeoutMs: 15_000, intervalMs: 100, what: 'the overloaded broker to lose its weight' },
    );
    const status = (await (await fetch(`http://127.0.0.1:${adminPort}/status`)).json()) as {
      decisions: Array<{ name: string; reason: string }>;
    };
    expect(status.decisions.find((d) => d.name === brokers[a].name)?.reason).toMatch(/overload/i);

    const before = await weights();
    const pool = await connectClients({ host: '127.0.0.1', port: mqttPort, count: 40, prefix: `steer-${mode}` });
    pools.push(pool);
    const after = await weights();
    const gainA = after.get(brokers[a].port)!.cxActive - before.get(brokers[a].port)!.cxActive;
    // Envoy's weighted round robin is deterministic: at most ceil(40 × 5 %) + 1.
    expect(gainA).toBeLessThanOrEqual(3);
    const metrics = await plane.registry.getSingleMetricAsString('mqtt_xds_broker_weight');
    expect(metrics).toContain(`broker="${brokers[a].name}"`);
  });

  it('gives the weight back once the overload ends, without dropping connections', async () => {
    expect((await brokers[a].post('overload', { level: 0 })).status).toBe(200);
    await waitFor(
      async () => {
        const w = await weights();
        return w.get(brokers[a].port)!.weight * 2 >= w.get(brokers[b].port)!.weight;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: 'the recovered broker to regain weight' },
    );
    expect(pools.reduce((n, p) => n + p.closed(), 0)).toBe(0);
  });
});
