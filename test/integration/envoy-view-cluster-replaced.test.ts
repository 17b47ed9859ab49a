import * as fs from 'node:fs';
import * as path from 'node:path';
import { withOverrides } from '../../src/config';
import type { ControlPlane } from '../../src/main';
import type { EnvoyViewStatus } from '../../src/runners';
import { launchCapacityBroker, type LaunchedBroker } from '../tools/testbroker/launch';
import { connectClients, sleep, startEnvoy, untilHealthy, waitFor, type ClientPool, type EnvoyHandle } from '../support';
import { planeConfig, startPlane, writeScrapedBrokersFile } from './plane';

const CLUSTER = 'mqtt_brokers';
const HELD = 80;

interface Status {
  envoyView: EnvoyViewStatus;
  decisions?: Array<{ name: string; weight: number; suspect?: { reason: string } }>;
}

/**
 * A Cluster update makes Envoy replace the MQTT cluster, and the new cluster's hosts count
 * from zero: the connections made before stay up, uncounted, in Envoy's admin and in its
 * load reports alike. The brokers' pages still count them. Without the uncounted bound the
 * control plane took every page for a liar ("page says 40 connections, the Envoys hold
 * only 0") and weighed the brokers from the Envoys' zero.
 */
describe('the Envoy view when Envoy replaces the MQTT cluster', () => {
  let brokers: LaunchedBroker[] = [];
  let plane: ControlPlane;
  let envoy: EnvoyHandle;
  let adminPort: number;
  let mqttPort: number;
  let policyFile: string;
  const pools: ClientPool[] = [];

  const status = async (): Promise<Status> => (await (await fetch(`http://127.0.0.1:${adminPort}/status`)).json()) as Status;
  const sum = (v: EnvoyViewStatus, key: 'connections' | 'uncounted'): number => Object.values(v.brokers).reduce((n, b) => n + b[key], 0);
  const writePolicy = (text: string): void => {
    fs.writeFileSync(`${policyFile}.tmp`, text);
    fs.renameSync(`${policyFile}.tmp`, policyFile);
  };

  beforeAll(async () => {
    brokers = await Promise.all([
      launchCapacityBroker({ name: 'replaced-a', capacity: 400 }),
      launchCapacityBroker({ name: 'replaced-b', capacity: 400 }),
    ]);
    const setup = await planeConfig();
    writeScrapedBrokersFile(setup.brokersFile, brokers);
    policyFile = path.join(setup.dir, 'policy.yaml');
    writePolicy('limits: { connections: { perHost: 1000 } }\n');
    const config = withOverrides(setup.config, {
      balancing: { mode: 'metrics', policyFile, minPushIntervalMs: 300 },
      scrape: { intervalMs: 300, timeoutMs: 250 },
    });
    adminPort = config.admin.port;
    mqttPort = config.listener.port;
    ({ plane } = await startPlane(config));
    envoy = await startEnvoy({ mode: 'sotw', xdsPort: config.xds.port, waitReady: 'live' });
    await untilHealthy(envoy, 2, 'two healthy capacity brokers');
  });

  afterAll(async () => {
    await Promise.all(pools.map((p) => p.endAll()));
    await envoy?.stop();
    await plane?.stop();
    await Promise.all(brokers.map((x) => x.stop()));
  });

  it('keeps what the old cluster held as uncounted, and believes the pages that still count it', async () => {
    pools.push(await connectClients({ host: '127.0.0.1', port: mqttPort, count: HELD, prefix: 'held', concurrency: 20 }));
    await waitFor(async () => sum((await status()).envoyView, 'connections') === HELD, {
      timeoutMs: 15_000,
      intervalMs: 200,
      what: `the Envoy view to count ${HELD} connections`,
    });
    const perBroker = Object.values((await status()).envoyView.brokers).map((b) => b.connections);
    // Both brokers hold well past the suspect minimum of 20: a zero would contradict their pages.
    expect(Math.min(...perBroker)).toBeGreaterThan(25);

    // A new per-host limit is a Cluster update: Envoy builds a new cluster.
    writePolicy('limits: { connections: { perHost: 2000 } }\n');
    await waitFor(async () => (await envoy.clusterHosts(CLUSTER)).every((h) => h.cxActive === 0), {
      timeoutMs: 20_000,
      what: "Envoy's new cluster, whose hosts count from zero",
    });
    const replaced = await waitFor(
      async () => {
        const v = (await status()).envoyView;
        return sum(v, 'connections') === 0 && sum(v, 'uncounted') >= HELD && v;
      },
      { timeoutMs: 15_000, intervalMs: 200, what: 'the view to keep the held connections as uncounted' },
    );
    // The most the old cluster held, never less: nobody disconnected.
    expect(sum(replaced, 'uncounted')).toBe(HELD);
    expect(pools[0].closed()).toBe(0);

    // Many scrapes later (the suspect verdict takes two), every page is still believed.
    await sleep(3000);
    const after = await status();
    expect(after.decisions?.map((d) => d.suspect?.reason).filter((r) => r !== undefined)).toEqual([]);
    expect(await plane.registry.getSingleMetricAsString('mqtt_xds_envoy_view_uncounted_connections')).toMatch(
      new RegExp(`broker="${brokers[0].name}"\\} ${replaced.brokers[brokers[0].name].uncounted}`),
    );

    // New connections go to the new cluster and are counted there; the uncounted stay.
    pools.push(await connectClients({ host: '127.0.0.1', port: mqttPort, count: 10, prefix: 'new', concurrency: 10 }));
    const later = await waitFor(
      async () => {
        const v = (await status()).envoyView;
        return sum(v, 'connections') === 10 && v;
      },
      { timeoutMs: 15_000, intervalMs: 200, what: 'the view to count the 10 new connections' },
    );
    expect(sum(later, 'uncounted')).toBe(HELD);
  });
});
