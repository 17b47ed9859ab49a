// The realistic CPU model as the control plane sees it: the broker's /metrics page, parsed
// and read by src/scraping the way mqtt-xds reads a HiveMQ node with the agent.
import { capacityBrokerFamilies, renderExposition } from '../../tools/testbroker/capacity-metrics';
import { CapacitySimulation, type CapacitySnapshot, type SimulationConfig } from '../../tools/testbroker/capacity-simulation';
import { hivemqSignals, parsePrometheusText, type Scrape } from '../../../src/scraping';

/** Realistic CPU with lag, spikes, noise, amortisation and convex fan-out off: cpu = 0.05 + 0.95 × utilisation. */
const plain: SimulationConfig = {
  capacity: 1000,
  connectionCost: 1,
  messageCost: 1,
  noise: 0,
  windowMs: 5000,
  bucketMs: 250,
  seed: 1,
  cores: 1,
  cpuModel: 'realistic',
  cpuLagMs: 0,
  cpuSpikeIntervalMs: 0,
  cpuAmortisation: 1,
  cpuFanoutExponent: 1,
};

const pageOf = (snapshot: CapacitySnapshot): string =>
  renderExposition(
    capacityBrokerFamilies({
      snapshot,
      heapUsedBytes: 1,
      heapMaxBytes: 2,
      payloadSizes: { quantiles: [], count: 0 },
      processStartSeconds: 0,
    }),
  );

const scrapeOf = (snapshot: CapacitySnapshot): Scrape => {
  const parsed = parsePrometheusText(pageOf(snapshot));
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return { samples: parsed.value, atMs: snapshot.atMs };
};

const valueOf = (text: string, series: string): string | undefined =>
  text
    .split('\n')
    .find((l) => l.startsWith(`${series} `))
    ?.slice(series.length + 1);

/** Two scrapes 5 s apart under `extraCost`, read as mqtt-xds reads them. */
function readBroker(config: SimulationConfig, extraCost: number) {
  const sim = new CapacitySimulation(config, 0);
  sim.setExtraLoad(extraCost, undefined, 0);
  sim.tick(0);
  const first = scrapeOf(sim.tick(100));
  for (let t = 200; t <= 5100; t += 100) sim.tick(t);
  return { signals: hivemqSignals(scrapeOf(sim.last), first), snapshot: sim.last, text: pageOf(sim.last) };
}

describe('CPU views', () => {
  it('reads the CPU over the broker’s own limit in the limit view', () => {
    const { signals, snapshot, text } = readBroker(plain, 400);
    expect(snapshot.utilisation).toBeCloseTo(0.4, 12);
    expect(signals.cpuSource).toBe('limit');
    expect(signals.cpu).toBeCloseTo(0.43, 9);
    expect(valueOf(text, 'mqtt_xds_agent_cpu_limit_cores')).toBe('1.0');
    expect(text).toContain('mqtt_xds_agent_cpu_limit_info{source="cgroup-v2",} 1.0\n');
    expect(Number(valueOf(text, 'com_hivemq_system_os_global_cpu_total_total'))).toBeCloseTo(43, 9);
  });

  it('reads 1/8 of it over a host of 8 cores with a 1-core limit', () => {
    const { signals, snapshot, text } = readBroker({ ...plain, cpuView: 'host', hostCores: 8 }, 400);
    expect(snapshot.cpu).toBeCloseTo(0.43, 12);
    expect(signals.cpu).toBeCloseTo(0.43 / 8, 9);
    expect(valueOf(text, 'mqtt_xds_agent_cpu_limit_cores')).toBe('8.0');
    expect(text).toContain('mqtt_xds_agent_cpu_limit_info{source="host",} 1.0\n');
    expect(Number(valueOf(text, 'com_hivemq_system_os_global_cpu_total_total'))).toBeCloseTo(43 / 8, 9);
  });

  it('reads 1/4 of it when a 0.25-core quota is rounded up to one processor', () => {
    const { signals, snapshot, text } = readBroker({ ...plain, cores: 0.25, cpuView: 'rounded' }, 400);
    expect(snapshot.processCpuSeconds).toBeCloseTo(0.43 * 0.25 * 5.1, 9);
    expect(signals.cpu).toBeCloseTo(0.43 / 4, 9);
    expect(valueOf(text, 'mqtt_xds_agent_cpu_limit_cores')).toBe('1.0');
  });

  it('reads a 1.5-core quota over 2 processors when rounded', () => {
    expect(readBroker({ ...plain, cores: 1.5, cpuView: 'rounded' }, 400).signals.cpu).toBeCloseTo((0.43 * 1.5) / 2, 9);
  });
});

describe('CPU throttling and GC on the page', () => {
  it('reports CPU at the limit and every period throttled when demand exceeds the limit', () => {
    const { signals, snapshot, text } = readBroker(plain, 1500);
    // Demand 0.05 + 0.95 × 1.5 = 1.475 of the limit.
    expect(snapshot.cpuDemand).toBeCloseTo(1.475, 12);
    expect(signals.cpu).toBeCloseTo(1, 9);
    expect(signals.throttledRatio).toBe(1);
    // 5.1 s since the first tick: 51 CFS periods of 100 ms, each held back for 1 − 1/1.475 of it.
    expect(Number(valueOf(text, 'mqtt_xds_agent_cpu_periods_total'))).toBe(51);
    expect(Number(valueOf(text, 'mqtt_xds_agent_cpu_throttled_periods_total'))).toBe(51);
    expect(Number(valueOf(text, 'mqtt_xds_agent_cpu_throttled_seconds_total'))).toBeCloseTo((1 - 1 / 1.475) * 5.1, 9);
  });

  it('throttles nothing below the limit', () => {
    const { signals } = readBroker(plain, 500);
    expect(signals.throttledRatio).toBe(0);
    expect(signals.gcPauseRatio).toBe(0);
  });

  it('counts GC-like spikes as GC pause time', () => {
    const { signals } = readBroker({ ...plain, cpuSpikeIntervalMs: 500 }, 300);
    expect(signals.gcPauseRatio).toBeGreaterThan(0);
    expect(signals.gcPauseRatio).toBeLessThan(0.5);
  });

  it('keeps the ideal model’s page as it was: no throttling or GC series', () => {
    const { text, signals } = readBroker({ ...plain, cpuModel: 'ideal' }, 400);
    expect(signals.cpu).toBeCloseTo(0.4, 9);
    for (const series of [
      'mqtt_xds_agent_cpu_limit_info',
      'mqtt_xds_agent_cpu_periods_total',
      'mqtt_xds_agent_cpu_throttled_periods_total',
      'mqtt_xds_agent_cpu_throttled_seconds_total',
      'mqtt_xds_agent_gc_pause_seconds_total',
    ]) {
      expect(text).not.toContain(series);
    }
  });
});
