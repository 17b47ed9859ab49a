// Sticky weights held (mqttFilter.stickyWeightBand) in metrics mode, end to end: capacity test
// brokers exporting HiveMQ metric names, mqtt-xds scraping them, the real Envoy 1.40 with the
// MQTT filter over ECDS (SotW and Delta), and mqtt.js clients. The computed weights are moved
// by the brokers' capacity classes (an idle fleet is weighted by capacity alone, so the move is
// exact): a move inside the band leaves Envoy's weights, and so its Maglev table, as they were,
// and every id reconnects to the broker it had; a move past the band is taken.
// docs/mqtt-filter.md, "Weights held in sticky placement".
import * as fs from 'node:fs';
import * as path from 'node:path';
import { withOverrides } from '../../src/config';
import type { ControlPlane } from '../../src/main';
import { launchCapacityBroker, type LaunchedBroker } from '../tools/testbroker/launch';
import { startEnvoy, waitFor, type EnvoyHandle } from '../support';
import { placeAlone, untilStickyReady } from './sticky-plane';
import { planeConfig, startPlane, writeScrapedBrokersFile } from './plane';

const CLUSTER = 'mqtt_brokers';
const IDS = Array.from({ length: 60 }, (_, i) => `held-device-${i.toString().padStart(2, '0')}`);
const BAND = 0.2;
/** Broker 0 with `first` connections of capacity, the others with 1000 each. */
const policy = (first: number): string =>
  [
    `mqttFilter: { enabled: true, placement: sticky, firstPacketTimeoutMs: 5000, stickyWeightBand: ${BAND} }`,
    'smoothing: { alpha: 1 }',
    'capacity:',
    `  classes: { first: { connections: ${first} }, other: { connections: 1000 } }`,
    '  default: other',
    '  brokers: { BROKER0: first }',
    '',
  ].join('\n');

describe.each(['sotw', 'delta'] as const)('sticky weights held in metrics mode, over %s ADS', (mode) => {
  let brokers: LaunchedBroker[] = [];
  let plane: ControlPlane;
  let envoy: EnvoyHandle;
  let mqttPort: number;
  let admin: string;
  let policyFile: string;
  const writePolicy = (first: number): void => {
    fs.writeFileSync(`${policyFile}.tmp`, policy(first).replace('BROKER0', brokers[0].name));
    fs.renameSync(`${policyFile}.tmp`, policyFile);
  };

  /** Envoy's weight per broker name. */
  const envoyWeights = async (): Promise<Map<string, number>> => {
    const hosts = await envoy.clusterHosts(CLUSTER);
    return new Map(brokers.map((b) => [b.name, hosts.find((h) => h.port === b.port)?.weight ?? NaN]));
  };
  /** The weight mqtt-xds computed per broker name (/status), before any hold. */
  const computedWeights = async (): Promise<Map<string, number>> => {
    const status = (await (await fetch(`${admin}/status`)).json()) as { decisions?: Array<{ name: string; weight: number }> };
    return new Map((status.decisions ?? []).map((d) => [d.name, d.weight]));
  };
  /** The largest drift of a computed weight from Envoy's, as a fraction of Envoy's. */
  const drift = async (): Promise<number> => {
    const [held, computed] = [await envoyWeights(), await computedWeights()];
    return Math.max(...brokers.map((b) => Math.abs((computed.get(b.name) ?? NaN) - held.get(b.name)!) / held.get(b.name)!));
  };
  const place = (ids: readonly string[]): Promise<Map<string, string>> => placeAlone(envoy, CLUSTER, brokers, mqttPort, ids);
  const moved = (a: Map<string, string>, b: Map<string, string>): string[] => IDS.filter((id) => a.get(id) !== b.get(id));

  beforeAll(async () => {
    brokers = await Promise.all([0, 1, 2].map((i) => launchCapacityBroker({ name: `held-${mode}-${i}`, capacity: 1000 })));
    const setup = await planeConfig();
    writeScrapedBrokersFile(setup.brokersFile, brokers);
    policyFile = path.join(setup.dir, 'policy.yaml');
    writePolicy(1000);
    const config = withOverrides(setup.config, {
      balancing: { mode: 'metrics', policyFile, minPushIntervalMs: 300 },
      scrape: { intervalMs: 300, timeoutMs: 250 },
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
    await envoy?.stop();
    await plane?.stop();
    await Promise.all(brokers.map((b) => b.stop()));
  });

  let before: Map<string, string>;
  let held: Map<string, number>;

  it('keeps Envoy weights and every id on its broker while the computed weights move inside the band', async () => {
    await waitFor(async () => [...(await envoyWeights()).values()].every((w) => w === 1000), {
      timeoutMs: 20_000,
      what: 'equal weights of 1000 in Envoy',
    });
    held = await envoyWeights();
    before = await place(IDS);
    // The ids spread over all three brokers, so a new table would show.
    for (const b of brokers) expect([...before.values()].filter((n) => n === b.name).length).toBeGreaterThan(5);

    // Broker 0 a tenth larger: its computed weight rises about 9.5 %, the others' fall about 5 %.
    writePolicy(1100);
    let seen = 0;
    await waitFor(
      async () => {
        seen = await drift();
        return seen >= 0.05;
      },
      { timeoutMs: 20_000, intervalMs: 100, what: 'a computed weight 5 % or more from the weight Envoy has' },
    );
    expect(seen).toBeLessThan(BAND);
    expect(await envoyWeights()).toEqual(held);

    const again = await place(IDS);
    expect(moved(before, again)).toEqual([]);
    expect(await envoyWeights()).toEqual(held);
  });

  it('takes the computed weights once one leaves the band, and the new table moves ids', async () => {
    // Broker 0 three times the size of the others: 1800 against 600 each, far past the band.
    writePolicy(3000);
    await waitFor(async () => (await envoyWeights()).get(brokers[0].name)! > held.get(brokers[0].name)! * (1 + BAND), {
      timeoutMs: 20_000,
      intervalMs: 100,
      what: `Envoy's weight for ${brokers[0].name} above ${1 + BAND} times what it was`,
    });
    const after = await place(IDS);
    // More ids on the larger broker (Maglev gives it three fifths of the table instead of a third).
    const on0 = (m: Map<string, string>): number => IDS.filter((id) => m.get(id) === brokers[0].name).length;
    expect(on0(after)).toBeGreaterThan(on0(before));
    expect(moved(before, after).length).toBeGreaterThan(0);
  });
});
