// Client-id-sticky placement (policy mqttFilter.placement: sticky) in the real Envoy 1.40 driven
// by mqtt-xds over ADS, in front of real aedes brokers, with real mqtt.js clients. The MQTT
// filter sets each client id as an envoy.hashable_string; tcp_proxy hashes it on a Maglev
// cluster. Each broker reports the client ids that connected to it, so every connection is
// traced to its broker. Clients connect one at a time and leave before the next, so the table
// alone decides (bounded load sees no load) and the counts below are exact, not sampled in time.
import * as fs from 'node:fs';
import * as path from 'node:path';
import mqtt from 'mqtt';
import { withOverrides } from '../../src/config';
import type { ControlPlane } from '../../src/main';
import {
  connectClient,
  roundTrip,
  startBrokers,
  startEnvoy,
  stopBrokers,
  untilHealthy,
  waitFor,
  type EnvoyHandle,
  type TestBroker,
} from '../support';
import { planeConfig, startPlane, writeBrokersFile, type BrokerLine } from './plane';

const CLUSTER = 'mqtt_brokers';
const IDS = Array.from({ length: 200 }, (_, i) => `sticky-device-${i.toString().padStart(3, '0')}`);
const policy = (placement: 'weighted' | 'sticky'): string =>
  ['mqttFilter:', '  enabled: true', `  placement: ${placement}`, '  firstPacketTimeoutMs: 5000', ''].join('\n');

/** How many of `ids` sit on a different broker in `after` than in `before`. */
const movedCount = (ids: readonly string[], before: Map<string, string>, after: Map<string, string>): number =>
  ids.filter((id) => before.get(id) !== after.get(id)).length;

describe.each(['sotw', 'delta'] as const)('sticky placement from mqtt-xds over %s ADS', (mode) => {
  let brokers: TestBroker[];
  let plane: ControlPlane;
  let envoy: EnvoyHandle;
  let port: number;
  let policyFile: string;
  let brokersFile: string;
  const stat = async (name: string): Promise<number> => (await envoy.stat(name)) ?? 0;
  const writePolicy = (text: string): void => {
    fs.writeFileSync(`${policyFile}.tmp`, text);
    fs.renameSync(`${policyFile}.tmp`, policyFile);
  };
  const lbPolicy = async (): Promise<string | undefined> => {
    const dump = await envoy.getJson('/config_dump?resource=dynamic_active_clusters');
    const c = (dump.configs ?? []).find((x: any) => x.cluster?.name === CLUSTER)?.cluster;
    return c ? (c.lb_policy ?? 'ROUND_ROBIN') : undefined;
  };

  /**
   * Each id connects once, alone; the broker that reports it is where it was placed. Alone
   * means Envoy holds no other connection to the brokers when it connects: a client's end
   * reaches Envoy a little later, and on a loaded machine the next client could find the
   * last one still counted, and bounded load send it to its next choice.
   */
  async function place(ids: readonly string[]): Promise<Map<string, string>> {
    const placed = new Map<string, string>();
    for (const id of ids) {
      await waitFor(async () => (await envoy.clusterHosts(CLUSTER)).every((h) => h.cxActive === 0), {
        timeoutMs: 10_000,
        intervalMs: 5,
        what: `no connection through Envoy before ${id}`,
      });
      const before = brokers.map((b) => b.connectsOf(id));
      const client = await connectClient(port, id);
      await client.endAsync();
      await waitFor(() => brokers.some((b, i) => b.connectsOf(id) > before[i]), {
        timeoutMs: 10_000,
        intervalMs: 5,
        what: `the broker that took ${id}`,
      });
      const landed = brokers.filter((b, i) => b.connectsOf(id) > before[i]);
      expect(landed).toHaveLength(1);
      placed.set(id, landed[0].name);
    }
    return placed;
  }

  const share = (placed: Map<string, string>, broker: string): number =>
    [...placed.values()].filter((b) => b === broker).length / placed.size;

  beforeAll(async () => {
    brokers = await startBrokers(4);
    const setup = await planeConfig();
    brokersFile = setup.brokersFile;
    policyFile = path.join(setup.dir, 'policy.yaml');
    fs.writeFileSync(policyFile, policy('weighted'));
    writeBrokersFile(
      brokersFile,
      brokers.slice(0, 3).map((broker) => ({ broker, weight: 1 })),
    );
    // Health checks that a loaded machine cannot fail: a broker marked unhealthy for a
    // moment leaves the Maglev table, and its ids would move for a reason not under test.
    const config = withOverrides(setup.config, {
      balancing: { mode: 'static', policyFile, minPushIntervalMs: 0 },
      cluster: { healthCheck: { intervalMs: 1000, timeoutMs: 5000, unhealthyThreshold: 10, healthyThreshold: 1 } },
    });
    ({ plane } = await startPlane(config));
    envoy = await startEnvoy({ mode, xdsPort: config.xds.port, waitReady: 'live', extraArgs: ['--drain-time-s', '2'] });
    port = config.listener.port;
    await untilHealthy(envoy, 3, 'three healthy brokers');
    await waitFor(() => envoy.listenerReady(port), { timeoutMs: 30_000, what: 'the MQTT listener' });
  });

  afterAll(async () => {
    await envoy?.stop();
    await plane?.stop();
    await stopBrokers(brokers ?? []);
  });

  it('switches a running Envoy from weighted to sticky with a Cluster update that keeps established clients and the Listener', async () => {
    expect(await lbPolicy()).toBe('ROUND_ROBIN');
    const held = await connectClient(port, `held-${mode}`);
    let heldClosed = false;
    held.on('close', () => (heldClosed = true));
    const modified = await stat('cluster_manager.cluster_modified');
    const listenerModified = await stat('listener_manager.listener_modified');

    writePolicy(policy('sticky'));
    await waitFor(async () => (await lbPolicy()) === (process.env.STICKY_LB ?? 'MAGLEV'), {
      timeoutMs: 20_000,
      what: 'the cluster as MAGLEV in Envoy',
    });
    await untilHealthy(envoy, 3, 'three healthy brokers on the updated cluster');
    expect(await stat('cluster_manager.cluster_modified')).toBe(modified + 1);
    expect(await stat('listener_manager.listener_modified')).toBe(listenerModified);
    const dump = await envoy.getJson('/config_dump?resource=ecds_filters');
    const tcp = (dump.configs ?? []).find((c: any) => c.ecds_filter?.name === 'mqtt.tcp_proxy')?.ecds_filter?.typed_config;
    expect(tcp?.hash_policy).toEqual([{ filter_state: { key: 'envoy.hashable_string' } }]);

    // The client that connected under the weighted cluster is still there and still works.
    expect(heldClosed).toBe(false);
    expect(await roundTrip(held, `sticky/${mode}/held`)).toBe(`via sticky/${mode}/held`);
    await held.endAsync();
  });

  let stable: Map<string, string>;

  it('sends the same client id to the same broker on at least 99% of reconnects while the broker set is stable', async () => {
    const hashedBefore = await stat('wasmcustom.mqtt_placement_total.result.hashed');
    const first = await place(IDS);
    const second = await place(IDS);
    expect(movedCount(IDS, first, second)).toBeLessThanOrEqual(IDS.length * 0.01);
    // Every broker of equal weight takes a fair part of the ids (a table that left one out would fail).
    for (const b of brokers.slice(0, 3)) expect(share(second, b.name)).toBeGreaterThan(0.15);
    expect(share(second, brokers[3].name)).toBe(0);
    expect(await stat('wasmcustom.mqtt_placement_total.result.hashed')).toBe(hashedBefore + 2 * IDS.length);
    stable = second;
  });

  it('caps a broker at 1.25x its share of open connections when held-open ids all hash to it (bounded load)', async () => {
    const pool = Array.from({ length: 400 }, (_, i) => `pile-${mode}-${i}`);
    const free = await place(pool);
    const target = brokers[0].name;
    const piled = pool.filter((id) => free.get(id) === target);
    const held: mqtt.MqttClient[] = [];
    const landed = new Map<string, string>();
    try {
      for (const id of piled) {
        const before = brokers.map((b) => b.connectsOf(id));
        held.push(await connectClient(port, id));
        await waitFor(() => brokers.some((b, i) => b.connectsOf(id) > before[i]), { timeoutMs: 10_000, intervalMs: 5, what: id });
        landed.set(id, brokers.find((b, i) => b.connectsOf(id) > before[i])?.name ?? '');
      }
    } finally {
      await Promise.all(held.map((c) => c.endAsync()));
    }
    const onTarget = [...landed.values()].filter((b) => b === target).length;
    // Envoy's bounded load (hash_balance_factor 125): a broker at more than 1.25x its weighted share
    // of this Envoy's connections is skipped for the next choice; +2 allows for Envoy's rounding.
    // Measured (one SotW run): 137 such ids held, 59 stayed on their broker, 38 and 40 spilled over.
    expect(piled.length).toBeGreaterThan(60);
    expect(onTarget).toBeLessThanOrEqual(Math.ceil((1.25 * piled.length) / 3) + 2);
    expect(onTarget).toBeGreaterThan(piled.length / 3);
    expect([...landed.values()].filter((b) => b === brokers[3].name)).toEqual([]);
  });

  it('follows a weight change by moving ids only to the broker whose weight rose, to a spread within 5 points of the weights', async () => {
    // 1,500 ids: the spread's sampling error (σ ≈ 1.3 points) stays well inside 5 points;
    // with 600 (σ ≈ 2) one clean-clone run read 0.553 for the heavy broker.
    const pool = Array.from({ length: 1500 }, (_, i) => `weighted-${mode}-${i}`);
    const heavy = brokers[0].name;
    const before = await place(pool);
    writeBrokersFile(
      brokersFile,
      brokers.slice(0, 3).map((broker, i) => ({ broker, weight: i === 0 ? 2 : 1 })),
    );
    await waitFor(async () => (await envoy.clusterHosts(CLUSTER)).some((h) => h.weight === 2), {
      timeoutMs: 20_000,
      what: 'weight 2 in Envoy',
    });
    const after = await place(pool);
    // Back to equal weights before anything is asserted, so a failure here leaves the next
    // tests the broker set they expect.
    writeBrokersFile(
      brokersFile,
      brokers.slice(0, 3).map((broker) => ({ broker, weight: 1 })),
    );
    await waitFor(async () => (await envoy.clusterHosts(CLUSTER)).every((h) => h.weight === 1), {
      timeoutMs: 20_000,
      what: 'weight 1 in Envoy',
    });
    const back = await place(IDS);
    const moved = pool.filter((id) => before.get(id) !== after.get(id));
    // Measured (one SotW run): 94 of 600 moved, all to the heavy broker; shares 0.508, 0.235, 0.257.
    // Maglev is near-minimal, not minimal: its table follows the hosts' addresses, which are
    // new ports every run, and in 4 of 9 runs one id of 600 also moved between the two others.
    expect(moved.length).toBeGreaterThan(0);
    expect(moved.filter((id) => after.get(id) !== heavy).length).toBeLessThanOrEqual(pool.length * 0.01);
    expect(Math.abs(share(after, heavy) - 0.5)).toBeLessThanOrEqual(0.05);
    for (const b of brokers.slice(1, 3)) expect(Math.abs(share(after, b.name) - 0.25)).toBeLessThanOrEqual(0.05);
    // Back at equal weights: the table is a function of the hosts and weights, so the ids came back.
    expect(movedCount(IDS, stable, back)).toBe(0);
  });

  it('lets a client with an empty (server-assigned) id connect without a key', async () => {
    const before = await stat('wasmcustom.mqtt_placement_total.result.no_client_id');
    const client = await connectClient(port, '');
    expect(await roundTrip(client, `sticky/${mode}/anonymous`)).toBe(`via sticky/${mode}/anonymous`);
    await client.endAsync();
    expect(await stat('wasmcustom.mqtt_placement_total.result.no_client_id')).toBe(before + 1);
  });

  let grown: Map<string, string>;

  it('moves at most 30% of the ids when a 4th broker joins, and only to it', async () => {
    // 1,000 ids: a quarter should move, and with 200 the sampling alone (σ ≈ 6 ids) crossed
    // 30% in one of nine runs (61 of 200). With 1,000, 30% is 3σ above a quarter.
    const pool = Array.from({ length: 1000 }, (_, i) => `join-${mode}-${i}`);
    const three = await place(pool);
    const lines: BrokerLine[] = brokers.map((broker) => ({ broker, weight: 1 }));
    writeBrokersFile(brokersFile, lines);
    await untilHealthy(envoy, 4, 'four healthy brokers');
    const four = await place(pool);
    const moved = pool.filter((id) => three.get(id) !== four.get(id));
    expect(moved.length).toBeGreaterThan(pool.length * 0.15);
    expect(moved.length).toBeLessThanOrEqual(pool.length * 0.3);
    // Near-minimal (see the weight change): at most 1% move between the old brokers.
    expect(moved.filter((id) => four.get(id) !== brokers[3].name).length).toBeLessThanOrEqual(pool.length * 0.01);
    // Where the drain test's ids are before it.
    grown = await place(IDS);
  });

  it("gives a DRAINING broker no new sticky clients: its ids go elsewhere, the others' stay", async () => {
    const drained = brokers[1].name;
    writeBrokersFile(
      brokersFile,
      brokers.map((broker, i) => ({ broker, weight: 1, draining: i === 1 })),
    );
    await waitFor(async () => (await envoy.clusterHosts(CLUSTER)).some((h) => h.healthFlags.includes('eds_draining')), {
      timeoutMs: 20_000,
      what: `${drained} DRAINING in Envoy`,
    });
    const after = await place(IDS);
    expect(share(after, drained)).toBe(0);
    const wereOnDrained = IDS.filter((id) => grown.get(id) === drained);
    expect(wereOnDrained.length).toBeGreaterThan(0);
    const others = IDS.filter((id) => grown.get(id) !== drained);
    expect(movedCount(others, grown, after)).toBeLessThanOrEqual(others.length * 0.01);
  });
});
