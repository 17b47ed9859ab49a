import {
  accumulateCpu,
  cpuPerWork,
  DEFAULT_CPU_MODEL,
  INITIAL_CPU_STATE,
  stepCpu,
  workUtilisation,
  ZERO_CPU_COUNTERS,
  type CpuDraws,
  type CpuModelConfig,
  type CpuState,
} from '../../tools/testbroker/capacity-cpu';
import { seededRandom, type CapacityModelConfig, type ClientTraffic } from '../../tools/testbroker/capacity-model';
import { CapacitySimulation } from '../../tools/testbroker/capacity-simulation';

const realistic: CpuModelConfig = { ...DEFAULT_CPU_MODEL, cpuModel: 'realistic', cores: 1, cpuSpikeIntervalMs: 0 };
/** Noise at its midpoint (factor 1) and no spike start. */
const still: CpuDraws = { noise: 0.5, spikeStart: 1, spikeLength: 0, spikeSize: 0 };
const model: CapacityModelConfig = { capacity: 1000, connectionCost: 1, messageCost: 1, noise: 0 };

/** Steps the model at a constant work utilisation for `ms`, in ticks of `tickMs`. */
function hold(config: CpuModelConfig, w: number, ms: number, tickMs = 100, start: CpuState = INITIAL_CPU_STATE) {
  let state = start;
  let reading = stepCpu(config, state, { utilisation: w, workUtilisation: w, elapsedMs: 0, tickMs, noise: 0, draws: still }).reading;
  for (let t = 0; t < ms; t += tickMs) {
    const step = stepCpu(config, state, { utilisation: w, workUtilisation: w, elapsedMs: tickMs, tickMs, noise: 0, draws: still });
    state = step.state;
    reading = step.reading;
  }
  return { state, reading };
}

describe('realistic CPU: baseline and load', () => {
  it('reads the baseline on an idle broker', () => {
    expect(hold(realistic, 0, 10_000).reading.cpu).toBeCloseTo(0.05, 12);
    expect(hold({ ...realistic, cpuBaseline: 0.08 }, 0, 10_000).reading.cpu).toBeCloseTo(0.08, 12);
  });

  it('reaches the whole limit, baseline included, at utilisation 1', () => {
    const settled = hold({ ...realistic, cpuLagMs: 0 }, 1, 100).reading;
    expect(settled.cpu).toBeCloseTo(1, 12);
    expect(settled.cpuDemand).toBeCloseTo(1, 12);
  });

  it('spends more CPU per connection on a lightly loaded broker than on a busy one', () => {
    const config = { ...realistic, cpuLagMs: 0 };
    const perConnection = (connections: number): number => {
      const w = workUtilisation(Array<ClientTraffic>(connections).fill({ publishRate: 0, fanoutRate: 0, receiveRate: 0 }), 0, model, 1.1);
      return (hold(config, w, 100).reading.cpu - config.cpuBaseline) / connections;
    };
    const light = perConnection(50);
    const heavy = perConnection(1000);
    // HiveMQ measured about 4× between light and heavy load.
    expect(light / heavy).toBeGreaterThan(3);
    expect(light / heavy).toBeLessThan(4);
    const grid = [50, 100, 200, 400, 700, 1000].map(perConnection);
    for (let i = 1; i < grid.length; i++) expect(grid[i]).toBeLessThan(grid[i - 1]);
  });

  it('still rises with the work, so more load never reads as less CPU', () => {
    for (const amortisation of [1, 2.5, 4, 5]) {
      expect(cpuPerWork(1, amortisation)).toBeCloseTo(1, 12);
      expect(cpuPerWork(0, amortisation)).toBeCloseTo(amortisation, 12);
      let previous = 0;
      for (let w = 0.01; w <= 3; w += 0.01) {
        const cpu = w * cpuPerWork(w, amortisation);
        expect(cpu).toBeGreaterThan(previous);
        previous = cpu;
      }
    }
  });

  it('charges fan-out more per copy as copies per message grow', () => {
    const fanout = (copies: number): ClientTraffic => ({ publishRate: 10, fanoutRate: 10 * copies, receiveRate: 0 });
    // One copy per message is as the cost model says; 50 copies cost 50^1.1 = 73.9 each message.
    expect(workUtilisation([fanout(1)], 0, model, 1.1)).toBeCloseTo((1 + 10 + 10) / 1000, 12);
    expect(workUtilisation([fanout(50)], 0, model, 1.1)).toBeCloseTo((1 + 10 + 10 * 50 ** 1.1) / 1000, 12);
    expect(workUtilisation([fanout(50)], 100, model, 1)).toBeCloseTo((100 + 1 + 10 + 500) / 1000, 12);
  });
});

describe('realistic CPU: lag', () => {
  it('follows a step with its time constant, whatever the tick', () => {
    const config = { ...realistic, cpuBaseline: 0, cpuAmortisation: 1, cpuLagMs: 2500 };
    const expected = 0.6 * (1 - Math.exp(-1));
    expect(hold(config, 0.6, 2500, 100).reading.cpu).toBeCloseTo(expected, 10);
    expect(hold(config, 0.6, 2500, 2500).reading.cpu).toBeCloseTo(expected, 10);
    expect(hold(config, 0.6, 5 * 2500).reading.cpu).toBeGreaterThan(0.99 * 0.6);
    // And back down: the same time constant on the way out.
    const up = hold(config, 0.6, 60_000).state;
    expect(hold(config, 0, 2500, 100, up).reading.cpu).toBeCloseTo(0.6 * Math.exp(-1), 10);
  });

  it('passes the work straight through with no lag', () => {
    const config = { ...realistic, cpuBaseline: 0, cpuAmortisation: 1, cpuLagMs: 0 };
    expect(hold(config, 0.6, 100).reading.cpu).toBeCloseTo(0.6, 12);
  });
});

describe('realistic CPU: GC-like spikes', () => {
  it('starts spikes at the seeded Poisson rate, 1-3 ticks long and 0.2-0.5 high', () => {
    const config = { ...realistic, cpuSpikeIntervalMs: 30_000 };
    const random = seededRandom(42);
    let state = INITIAL_CPU_STATE;
    const starts: Array<{ ms: number; size: number }> = [];
    const hourMs = 3_600_000;
    for (let t = 0; t < hourMs; t += 100) {
      const draws = { noise: 0.5, spikeStart: random(), spikeLength: random(), spikeSize: random() };
      const step = stepCpu(config, state, { utilisation: 0.3, workUtilisation: 0.3, elapsedMs: 100, tickMs: 100, noise: 0, draws });
      if (step.state.spikeRemainingMs > Math.max(0, state.spikeRemainingMs - 100)) {
        starts.push({ ms: step.state.spikeRemainingMs, size: step.reading.cpuSpike });
      }
      state = step.state;
    }
    // 120 expected in an hour; a Poisson count's standard deviation is about 11.
    expect(starts.length).toBeGreaterThan(95);
    expect(starts.length).toBeLessThan(145);
    expect(new Set(starts.map((s) => s.ms))).toEqual(new Set([100, 200, 300]));
    for (const s of starts) {
      expect(s.size).toBeGreaterThanOrEqual(0.2);
      expect(s.size).toBeLessThan(0.5);
    }
  });

  it('adds the spike on top of the work and holds it for its ticks', () => {
    const config = { ...realistic, cpuLagMs: 0, cpuSpikeIntervalMs: 1000 };
    const input = { utilisation: 0.3, workUtilisation: 0.3, elapsedMs: 100, tickMs: 100, noise: 0 };
    const quiet = stepCpu(config, INITIAL_CPU_STATE, { ...input, draws: still }).reading.cpu;
    // spikeLength 0.7 → 3 ticks; spikeSize 0.5 → halfway between 0.2 and 0.5.
    const begin = stepCpu(config, INITIAL_CPU_STATE, { ...input, draws: { noise: 0.5, spikeStart: 0, spikeLength: 0.7, spikeSize: 0.5 } });
    expect(begin.reading.cpu).toBeCloseTo(quiet + 0.35, 12);
    let state = begin.state;
    const spikes = [begin.reading.cpuSpike];
    for (let i = 0; i < 3; i++) {
      const step = stepCpu(config, state, { ...input, draws: still });
      spikes.push(step.reading.cpuSpike);
      state = step.state;
    }
    expect(spikes.map((s) => Number(s.toFixed(3)))).toEqual([0.35, 0.35, 0.35, 0]);
  });

  it('repeats spikes and noise for the same seed, and keeps process CPU seconds monotonic', () => {
    const trace = (seed: number): number[] => {
      const sim = new CapacitySimulation(
        { ...model, noise: 0.2, windowMs: 5000, bucketMs: 250, seed, cores: 2, cpuModel: 'realistic', cpuSpikeIntervalMs: 2000 },
        0,
      );
      sim.setExtraLoad(500, undefined, 0);
      return Array.from({ length: 300 }, (_, i) => sim.tick(i * 100).processCpuSeconds);
    };
    const first = trace(5);
    expect(trace(5)).toEqual(first);
    expect(trace(6)).not.toEqual(first);
    for (let i = 1; i < first.length; i++) expect(first[i]).toBeGreaterThanOrEqual(first[i - 1]);
  });
});

describe('realistic CPU: throttling', () => {
  it('caps the CPU at the limit and counts every period of a demand above it as throttled', () => {
    const over = hold({ ...realistic, cpuLagMs: 0 }, 1.5, 100).reading;
    expect(over.cpuDemand).toBeCloseTo(0.05 + 0.95 * 1.5 * cpuPerWork(1.5, 4), 12);
    expect(over.cpuDemand).toBeGreaterThan(1);
    expect(over.cpu).toBe(1);

    const counted = accumulateCpu(ZERO_CPU_COUNTERS, { cpu: 1, cpuDemand: 1.25, cpuSpike: 0 }, 0.5, 2);
    expect(counted).toEqual({
      processCpuSeconds: 1,
      cpuPeriods: 20,
      cpuThrottledPeriods: 20,
      cpuThrottledSeconds: expect.closeTo(0.4, 12),
      gcPauseSeconds: 0,
    });
    const under = accumulateCpu(counted, { cpu: 0.8, cpuDemand: 0.8, cpuSpike: 0.3 }, 0.5, 1);
    expect(under).toMatchObject({
      cpuPeriods: 30,
      cpuThrottledPeriods: 20,
      cpuThrottledSeconds: counted.cpuThrottledSeconds,
      gcPauseSeconds: 0.3,
    });
    expect(under.processCpuSeconds).toBeCloseTo(1.4, 12);
  });
});

describe('ideal CPU', () => {
  // The formula before issue 13, copied here so a change to either shows.
  const before = (u: number, noise: number, r: number): number => Math.min(1, Math.max(0, Math.min(1, u) * (1 + noise * (2 * r - 1))));

  it('is the old formula exactly, and keeps its state', () => {
    const random = seededRandom(3);
    const ideal = { ...realistic, cpuModel: 'ideal' as const };
    for (let i = 0; i < 2000; i++) {
      const u = random() * 2;
      const noise = random() * 0.9;
      const draws = { noise: random(), spikeStart: 0, spikeLength: 1, spikeSize: 1 };
      const step = stepCpu(ideal, INITIAL_CPU_STATE, { utilisation: u, workUtilisation: 9, elapsedMs: 100, tickMs: 100, noise, draws });
      expect(step.reading.cpu).toBe(before(u, noise, draws.noise));
      expect(step.state).toBe(INITIAL_CPU_STATE);
    }
  });

  it('gives the simulation the noise sequence it always drew', () => {
    const sim = new CapacitySimulation({ ...model, noise: 0.2, windowMs: 5000, bucketMs: 250, seed: 9, cores: 1, cpuModel: 'ideal' }, 0);
    const random = seededRandom(9);
    random(); // the constructor's evaluation
    sim.setExtraLoad(450, undefined, 0);
    for (let i = 1; i <= 50; i++) expect(sim.tick(i * 100).cpu).toBe(before(0.45, 0.2, random()));
  });
});
