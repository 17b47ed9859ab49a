// The realistic CPU model of the test broker (issue 13, "How the benchmark flatters it").
// With the ideal model the CPU reading *is* the scored utilisation, so a balancer that
// equalises CPU equalises the score by construction. Real brokers are not like that; this
// model keeps the truth (utilisation = cost / capacity) and makes only the CPU reading
// realistic. Pure: no I/O, no clock; random draws and elapsed time are passed in, and the
// little state it keeps (the lag, the spike in force) goes in and comes out of `stepCpu`.
// docs/test-broker.md, "Realistic CPU", has the walkthrough.
//
//   work w      = (extraCost + Σ connectionCost + (publishRate + fanoutRate × f^(e−1)) × messageCost)
//                 / capacity, f = copies per message (≥ 1), e = --cpu-fanout-exponent:
//                 one message to f subscribers costs f^e copies, not f
//   per-work    = a + b / (1 + w / 0.25), a + b = --cpu-amortisation (CPU per unit of work
//                 when nearly idle, relative to full load) and 1 at w = 1
//   target      = (1 − baseline) × w × per-work           (so baseline + target = 1 at w = 1)
//   lagged     += (target − lagged) × (1 − e^(−Δt / --cpu-lag-ms))
//   demand      = baseline + lagged × (1 ± noise) + spike   (share of the broker's CPU limit)
//   cpu         = min(1, demand); demand above 1 is throttled by the CFS quota
//   spike       = GC-like bursts: starts with probability 1 − e^(−Δt / --cpu-spike-interval-ms)
//                 per tick, lasts 1..3 ticks, adds U(--cpu-spike-min, --cpu-spike-max)
import type { CapacityModelConfig, ClientTraffic } from './capacity-model';
import { idealCpu } from './capacity-model';

export const CPU_MODELS = ['ideal', 'realistic'] as const;
export type CpuModelKind = (typeof CPU_MODELS)[number];
/**
 * How the CPU is read: `limit` over the broker's own CPU limit (what the mqtt-xds agent
 * exports); `host` over every core of the host (a reading that ignores the quota);
 * `rounded` over the quota rounded up to whole processors, as the JVM's
 * availableProcessors() does (0.25 cores reads as 1).
 */
export const CPU_VIEWS = ['limit', 'host', 'rounded'] as const;
export type CpuView = (typeof CPU_VIEWS)[number];

export interface CpuModelConfig {
  readonly cpuModel: CpuModelKind;
  readonly cpuView: CpuView;
  /** The broker's CPU limit (its cgroup quota) in cores, fractional allowed: --cores. */
  readonly cores: number;
  /** Cores of the host the broker runs on; the `host` view divides by these. */
  readonly hostCores: number;
  /** Idle background work (JIT, GC housekeeping, timers) as a share of the limit. */
  readonly cpuBaseline: number;
  /** Time constant of the first-order lag of the CPU behind the work; 0 = none. */
  readonly cpuLagMs: number;
  /** CPU per unit of work when nearly idle, relative to full load (1 = proportional). */
  readonly cpuAmortisation: number;
  /** One message fanned out to f copies costs f^exponent copies (1 = linear). */
  readonly cpuFanoutExponent: number;
  /** Mean time between GC-like spikes (Poisson); 0 = no spikes. */
  readonly cpuSpikeIntervalMs: number;
  readonly cpuSpikeMin: number;
  readonly cpuSpikeMax: number;
}

/** The broker's defaults: the ideal model, so a bare launch behaves as before issue 13. */
export const DEFAULT_CPU_MODEL: Omit<CpuModelConfig, 'cores'> = {
  cpuModel: 'ideal',
  cpuView: 'limit',
  hostCores: 8,
  cpuBaseline: 0.05,
  cpuLagMs: 2500,
  cpuAmortisation: 4,
  cpuFanoutExponent: 1.1,
  cpuSpikeIntervalMs: 30_000,
  cpuSpikeMin: 0.2,
  cpuSpikeMax: 0.5,
};

/** The CPU settings among `options`, each missing one from DEFAULT_CPU_MODEL. */
export function resolveCpuConfig(options: Partial<CpuModelConfig> & { readonly cores: number }): CpuModelConfig {
  const keys = Object.keys(DEFAULT_CPU_MODEL) as Array<keyof typeof DEFAULT_CPU_MODEL>;
  const chosen = Object.fromEntries(keys.map((k) => [k, options[k] ?? DEFAULT_CPU_MODEL[k]]));
  return { ...(chosen as typeof DEFAULT_CPU_MODEL), cores: options.cores };
}

/** Work utilisation at which CPU per unit of work is halfway from its idle value to its asymptote. */
export const AMORTISATION_KNEE = 0.25;
export const SPIKE_MAX_TICKS = 3;
/** The CFS period (cpu.cfs_period_us default): throttling is counted in these. */
export const CFS_PERIOD_MS = 100;

export interface CpuState {
  /** The work's CPU as far as the lag has let it through, share of the limit. */
  readonly lagged: number;
  /** Time left of the spike in force; 0 = none. */
  readonly spikeRemainingMs: number;
  readonly spikeSize: number;
}

export const INITIAL_CPU_STATE: CpuState = { lagged: 0, spikeRemainingMs: 0, spikeSize: 0 };

/** Uniform draws in [0, 1), all taken every tick so the sequence does not depend on the state. */
export interface CpuDraws {
  readonly noise: number;
  readonly spikeStart: number;
  readonly spikeLength: number;
  readonly spikeSize: number;
}

export interface CpuStepInput {
  /** cost / capacity: the truth, and the ideal model's CPU. */
  readonly utilisation: number;
  /** `workUtilisation` of the same traffic: what the realistic model burns CPU for. */
  readonly workUtilisation: number;
  /** Since the previous step. */
  readonly elapsedMs: number;
  readonly tickMs: number;
  /** Amplitude of the multiplicative noise (--noise). */
  readonly noise: number;
  readonly draws: CpuDraws;
}

export interface CpuReading {
  /** CPU used over the broker's own limit, 0..1: what a correct agent reads. */
  readonly cpu: number;
  /** What the broker would use without a quota, share of the limit; above 1 it is throttled. */
  readonly cpuDemand: number;
  /** The GC-like spike in force, share of the limit; 0 without one. */
  readonly cpuSpike: number;
}

/** Work over capacity, with fan-out made convex: a message to many subscribers costs more per copy. */
export function workUtilisation(
  clients: readonly ClientTraffic[],
  extraCost: number,
  model: CapacityModelConfig,
  fanoutExponent: number,
): number {
  let work = extraCost;
  for (const c of clients) {
    const copiesPerMessage = c.publishRate > 0 ? c.fanoutRate / c.publishRate : 1;
    const convex = Math.max(1, copiesPerMessage) ** (fanoutExponent - 1);
    work += model.connectionCost + (c.publishRate + c.fanoutRate * convex) * model.messageCost;
  }
  return work / model.capacity;
}

/**
 * CPU per unit of work relative to full load: `amortisation` when nearly idle, 1 at work
 * utilisation 1, lower above. A busy broker batches writes and amortises wake-ups; an idle
 * one pays them per message (HiveMQ measured ≈4× CPU per connection between light and
 * heavy load). w × cpuPerWork(w) rises with w for amortisation in [1, 5].
 */
export function cpuPerWork(w: number, amortisation: number): number {
  const b = (amortisation - 1) * (1 + AMORTISATION_KNEE);
  const a = amortisation - b;
  return a + b / (1 + Math.max(0, w) / AMORTISATION_KNEE);
}

export function stepCpu(config: CpuModelConfig, state: CpuState, input: CpuStepInput): { state: CpuState; reading: CpuReading } {
  if (config.cpuModel === 'ideal') {
    const cpu = idealCpu(input.utilisation, input.noise, input.draws.noise);
    return { state, reading: { cpu, cpuDemand: cpu, cpuSpike: 0 } };
  }
  const dt = Math.max(0, input.elapsedMs);
  const w = input.workUtilisation;
  const target = (1 - config.cpuBaseline) * w * cpuPerWork(w, config.cpuAmortisation);
  const pass = config.cpuLagMs > 0 ? 1 - Math.exp(-dt / config.cpuLagMs) : 1;
  const lagged = state.lagged + (target - state.lagged) * pass;

  let spikeRemainingMs = Math.max(0, state.spikeRemainingMs - dt);
  let spikeSize = spikeRemainingMs > 0 ? state.spikeSize : 0;
  // A new spike only once the last is over; overlaps would be rare at the intervals meant here.
  if (spikeRemainingMs === 0 && config.cpuSpikeIntervalMs > 0 && input.draws.spikeStart < 1 - Math.exp(-dt / config.cpuSpikeIntervalMs)) {
    spikeRemainingMs = (1 + Math.floor(input.draws.spikeLength * SPIKE_MAX_TICKS)) * input.tickMs;
    spikeSize = config.cpuSpikeMin + (config.cpuSpikeMax - config.cpuSpikeMin) * input.draws.spikeSize;
  }

  const factor = 1 + input.noise * (2 * input.draws.noise - 1);
  const cpuDemand = Math.max(0, config.cpuBaseline + lagged * factor + spikeSize);
  return {
    state: { lagged, spikeRemainingMs, spikeSize },
    reading: { cpu: Math.min(1, cpuDemand), cpuDemand, cpuSpike: spikeSize },
  };
}

/** The cores the CPU reading is divided by, which the limit gauge then reports. */
export function viewedLimitCores(config: Pick<CpuModelConfig, 'cpuView' | 'cores' | 'hostCores'>): number {
  switch (config.cpuView) {
    case 'limit':
      return config.cores;
    case 'host':
      return config.hostCores;
    case 'rounded':
      return Math.ceil(config.cores);
  }
}

/** mqtt_xds_agent_cpu_limit_info{source}: the agent's sources; both wrong readings come from the host's CPUs. */
export function limitSourceOf(view: CpuView): 'cgroup-v2' | 'host' {
  return view === 'limit' ? 'cgroup-v2' : 'host';
}

/** CPU used over the viewed limit: the fraction a reader of the limit gauge sees. */
export function viewedCpu(cpu: number, config: Pick<CpuModelConfig, 'cpuView' | 'cores' | 'hostCores'>): number {
  // The limit view returns the value itself, so the ideal model's numbers stay bit for bit.
  return config.cpuView === 'limit' ? cpu : (cpu * config.cores) / viewedLimitCores(config);
}

/** What integrates over time: the agent's counters. */
export interface CpuCounters {
  readonly processCpuSeconds: number;
  /** cpu.stat nr_periods: CFS periods in which the broker had work. */
  readonly cpuPeriods: number;
  /** cpu.stat nr_throttled: periods in which it ran out of quota. */
  readonly cpuThrottledPeriods: number;
  /** cpu.stat throttled_usec, in seconds: time its threads were held back. */
  readonly cpuThrottledSeconds: number;
  readonly gcPauseSeconds: number;
}

export const ZERO_CPU_COUNTERS: CpuCounters = {
  processCpuSeconds: 0,
  cpuPeriods: 0,
  cpuThrottledPeriods: 0,
  cpuThrottledSeconds: 0,
  gcPauseSeconds: 0,
};

/**
 * The counters after `elapsedS` at the reading `held`. Demand is constant within a tick, so
 * either every CFS period of the tick is throttled or none is; a throttled period runs for
 * 1/demand of its length and waits the rest. A spike of size s counts s × its duration as
 * GC pause (a 0.3 spike for 200 ms is 60 ms of pause).
 */
export function accumulateCpu(counters: CpuCounters, held: CpuReading, cores: number, elapsedS: number): CpuCounters {
  const periods = held.cpuDemand > 0 ? (elapsedS * 1000) / CFS_PERIOD_MS : 0;
  const throttled = held.cpuDemand > 1;
  return {
    processCpuSeconds: counters.processCpuSeconds + held.cpu * cores * elapsedS,
    cpuPeriods: counters.cpuPeriods + periods,
    cpuThrottledPeriods: counters.cpuThrottledPeriods + (throttled ? periods : 0),
    cpuThrottledSeconds: counters.cpuThrottledSeconds + (throttled ? (1 - 1 / held.cpuDemand) * elapsedS : 0),
    gcPauseSeconds: counters.gcPauseSeconds + held.cpuSpike * elapsedS,
  };
}
