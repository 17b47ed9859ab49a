// Real HiveMQ CE brokers of different sizes, as Kubernetes CPU limits make them: three JVMs
// with the mqtt-xds agent, each in its own cgroup capped at 0.15, 0.3 and 0.6 cores (1:2:4),
// no capacity hints, MQTT 5 devices with QoS 1 echo traffic that reconnect every 20–40 s,
// all through the real Envoy. The ground truth is each JVM's CPU time over its quota.
// Round robin (every weight pinned equal) and mqtt-xds's defaults run in the same test.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { withOverrides } from '../../src/config';
import type { ControlPlane } from '../../src/main';
import { startEnvoy, untilHealthy, type EnvoyHandle } from '../support';
import { createCpuCgroup, processCpuSeconds, type CpuCgroup } from '../support/cgroup';
import { startEchoFleet, type EchoFleet } from '../support/echo-fleet';
import { startHiveMQ, type HiveMQBroker } from '../support/hivemq';
import { planeConfig, startPlane, writeScrapedBrokersFile } from './plane';

const TOKEN = 'hivemq-cpu-limits-agent-token';
const SIZES = [
  { name: 'hivemq-small', cores: 0.15 },
  { name: 'hivemq-medium', cores: 0.3 },
  { name: 'hivemq-large', cores: 0.6 },
];
const CLIENTS = Number(process.env.MQTT_XDS_CPU_TEST_CLIENTS ?? 600);
const PUBLISH_MS = Number(process.env.MQTT_XDS_CPU_TEST_PUBLISH_MS ?? 1000);
/** How long each strategy runs before its measurement window, and the window itself. */
// The damped controller settles in about 45 s here; 75 s leaves a margin on a loaded CI machine.
const SETTLE_MS = Number(process.env.MQTT_XDS_CPU_TEST_SETTLE_MS ?? 75_000);
const WINDOW_MS = Number(process.env.MQTT_XDS_CPU_TEST_WINDOW_MS ?? 30_000);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const imbalance = (xs: readonly number[]): number => Math.max(...xs) / (xs.reduce((a, b) => a + b, 0) / xs.length);

describe('real HiveMQ brokers under 1:2:4 CPU limits', () => {
  const brokers: HiveMQBroker[] = [];
  const groups: CpuCgroup[] = [];
  let plane: ControlPlane;
  let envoy: EnvoyHandle;
  let fleet: EchoFleet | undefined;
  let policyFile = '';
  let admin = '';

  /** Each JVM's CPU use over the window, as a fraction of its quota. */
  const utilisation = async (): Promise<number[]> => {
    const before = brokers.map((b) => processCpuSeconds(b.pid));
    const t0 = performance.now();
    await sleep(WINDOW_MS);
    const seconds = (performance.now() - t0) / 1000;
    return brokers.map((b, i) => (processCpuSeconds(b.pid) - before[i]) / seconds / SIZES[i].cores);
  };

  // Diagnostics: /status every 5 s (weights, utilisation, capacity, CPU, throttling, reasons),
  // printed as one summary after the test. MQTT_XDS_CPU_TEST_POLICY replaces the defaults'
  // policy ('{}') for experiments.
  const series: string[] = [];
  let phase = 'rr';
  let poller: NodeJS.Timeout | undefined;
  const t00 = Date.now();
  const sample = async (): Promise<void> => {
    try {
      const st = (await (await fetch(`${admin}/status`)).json()) as {
        decisions?: Array<{
          name: string;
          weight: number;
          utilisation?: number;
          capacity?: number;
          reason: string;
          inputs: Record<string, number>;
        }>;
      };
      const row = (st.decisions ?? []).map((d) => {
        const i = d.inputs ?? {};
        return `${d.name.replace('hivemq-', '')}: w=${d.weight} u=${d.utilisation?.toFixed(2)} cap=${d.capacity?.toFixed(0)} conns=${i.connections} cpu=${i.cpu?.toFixed(2)} thr=${i.throttledRatio?.toFixed(2)} cr=${i.connectRate?.toFixed(1)}`;
      });
      const reasons = (st.decisions ?? []).map((d) => `    ${d.name.replace('hivemq-', '')}: ${d.reason}`);
      series.push(
        `t=${((Date.now() - t00) / 1000).toFixed(0)}s ${phase} | ${row.join(' | ')}` + (phase === 'rr' ? '' : '\n' + reasons.join('\n')),
      );
    } catch (err) {
      series.push(`status failed: ${String(err)}`);
    }
  };

  const writePolicy = (body: string): void => {
    fs.writeFileSync(`${policyFile}.tmp`, body);
    fs.renameSync(`${policyFile}.tmp`, policyFile);
  };

  beforeAll(async () => {
    for (const s of SIZES) {
      // Started without the cap (a JVM starting on 0.15 cores takes minutes), then capped.
      const b = await startHiveMQ({ token: TOKEN, brokerName: s.name });
      brokers.push(b);
      const g = createCpuCgroup(`mqtt-xds-test-${s.name}-${process.pid}`, s.cores);
      groups.push(g);
      g.add(b.pid);
    }
    const setup = await planeConfig();
    writeScrapedBrokersFile(
      setup.brokersFile,
      brokers.map((b, i) => ({ name: SIZES[i].name, port: b.mqttPort, metricsUrl: b.metricsUrl, agentUrl: b.agentUrl })),
    );
    policyFile = path.join(setup.dir, 'policy.yaml');
    // Round robin first: every weight pinned equal.
    writePolicy(`overrides:\n${SIZES.map((s) => `  ${s.name}: { weight: 1000 }\n`).join('')}`);
    const tokenFile = path.join(setup.dir, 'agent-token');
    fs.writeFileSync(tokenFile, TOKEN + '\n');
    const config = withOverrides(setup.config, {
      balancing: { mode: 'metrics', policyFile },
      agent: { tokenFile },
      cluster: { healthCheck: { intervalMs: 2000, timeoutMs: 1500 } },
    });
    admin = `http://127.0.0.1:${config.admin.port}`;
    ({ plane } = await startPlane(config));
    envoy = await startEnvoy({ mode: 'delta', xdsPort: config.xds.port, waitReady: 'live' });
    await untilHealthy(envoy, 3, 'three healthy HiveMQ brokers in Envoy', 60_000);
    fleet = await startEchoFleet({
      host: '127.0.0.1',
      port: (config.listener as { port: number }).port,
      count: CLIENTS,
      prefix: 'cpu',
      publishIntervalMs: PUBLISH_MS,
      lifetimeMs: [20_000, 40_000],
    });
  }, 300_000);

  afterAll(async () => {
    if (poller !== undefined) clearInterval(poller);
    await fleet?.stop();
    await envoy?.stop();
    await plane?.stop();
    await Promise.all(brokers.map((b) => b.stop()));
    for (const g of groups) g.remove();
  }, 120_000);

  it('balances CPU over each broker’s own limit where round robin cannot', async () => {
    poller = setInterval(() => void sample(), 5000);
    await sleep(SETTLE_MS / 2);
    phase = 'rr-window';
    const roundRobin = await utilisation();

    // mqtt-xds's defaults: no hints, no pins.
    writePolicy((process.env.MQTT_XDS_CPU_TEST_POLICY ?? '{}') + '\n');
    phase = 'xds-settle';
    await sleep(SETTLE_MS);
    phase = 'xds-window';
    const smart = await utilisation();
    clearInterval(poller);
    console.log(`weights over time:\n${series.join('\n')}`);
    const status = (await (await fetch(`${admin}/status`)).json()) as {
      decisions?: Array<{ name: string; weight: number; capacity?: number; capacitySource?: string; missingSignals?: string[] }>;
      loads?: Record<string, { signals: { cpu?: number; cpuSource?: string } }>;
    };
    const report = {
      roundRobin: { utilisation: roundRobin.map((u) => +u.toFixed(2)), imbalance: +imbalance(roundRobin).toFixed(3) },
      mqttXds: { utilisation: smart.map((u) => +u.toFixed(2)), imbalance: +imbalance(smart).toFixed(3) },
      decisions: status.decisions?.map((d) => ({ name: d.name, weight: d.weight, capacity: d.capacity, source: d.capacitySource })),
      connected: fleet?.connected(),
    };
    console.log(`CPU over quota, small/medium/large: ${JSON.stringify(report)}`);
    // The scenario is hard: round robin overloads the small broker while the large idles.
    expect(imbalance(roundRobin)).toBeGreaterThan(1.4);
    // Every broker's CPU is read against its own limit, and capacity is inferred from it:
    // never the silent "neutral" that made mqtt-xds round robin here.
    for (const s of SIZES) expect(status.loads?.[s.name]?.signals.cpuSource).toBe('limit');
    for (const d of status.decisions ?? []) expect(d).toMatchObject({ capacitySource: 'inferred' });
    expect(status.decisions?.flatMap((d) => d.missingSignals ?? [])).toEqual([]);
    // With the damped controller measured 1.05–1.08 against round robin's 1.71–1.74 (the
    // target is 1.10; fill mode gave 1.12–1.24): docs/lb-benchmark.md, "Real HiveMQ under CPU
    // limits". The bound leaves room for a loaded CI machine; four of fill mode's five runs fail it.
    expect(imbalance(smart)).toBeLessThanOrEqual(1.15);
    expect(imbalance(smart)).toBeLessThan(imbalance(roundRobin) - 0.25);
    expect(fleet?.connected()).toBeGreaterThan(CLIENTS * 0.95);
  }, 600_000);
});
