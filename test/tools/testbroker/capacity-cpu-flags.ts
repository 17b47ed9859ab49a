// The capacity broker's CPU-model flags (capacity-cpu.ts), declared like the others in
// capacity-config.ts, which lists them after --cores. Kept apart so each file stays small.
import type { Problem } from '../../../src/util/result';
import type { CapacityBrokerOptions, FlagSpec } from './capacity-config';
import { CPU_MODELS, CPU_VIEWS, DEFAULT_CPU_MODEL as D } from './capacity-cpu';

export const CPU_FLAGS: readonly FlagSpec[] = [
  {
    flag: '--cpu-model',
    key: 'cpuModel',
    kind: 'choice',
    choices: CPU_MODELS,
    fallback: D.cpuModel,
    help: 'ideal: CPU is the utilisation; realistic: baseline, GC spikes, convex fan-out, amortisation, lag, throttling',
  },
  {
    flag: '--cpu-view',
    key: 'cpuView',
    kind: 'choice',
    choices: CPU_VIEWS,
    fallback: D.cpuView,
    help: 'what CPU is read over: limit (--cores), host (--host-cores), rounded (--cores rounded up, as the JVM does)',
  },
  {
    flag: '--host-cores',
    key: 'hostCores',
    kind: 'integer',
    fallback: D.hostCores,
    min: 1,
    max: 1024,
    help: 'cores of the host, the divisor of --cpu-view host',
  },
  {
    flag: '--cpu-baseline',
    key: 'cpuBaseline',
    kind: 'number',
    fallback: D.cpuBaseline,
    min: 0,
    max: 0.5,
    help: 'realistic: idle background CPU as a share of the limit',
  },
  {
    flag: '--cpu-lag-ms',
    key: 'cpuLagMs',
    kind: 'integer',
    fallback: D.cpuLagMs,
    min: 0,
    max: 60_000,
    help: 'realistic: time constant of the lag of CPU behind the work; 0 = none',
  },
  {
    flag: '--cpu-amortisation',
    key: 'cpuAmortisation',
    kind: 'number',
    fallback: D.cpuAmortisation,
    min: 1,
    max: 5,
    help: 'realistic: CPU per unit of work when nearly idle over that at full load; 1 = proportional',
  },
  {
    flag: '--cpu-fanout-exponent',
    key: 'cpuFanoutExponent',
    kind: 'number',
    fallback: D.cpuFanoutExponent,
    min: 1,
    max: 2,
    help: 'realistic: a message to f subscribers costs f^exponent copies of CPU; 1 = linear',
  },
  {
    flag: '--cpu-spike-interval-ms',
    key: 'cpuSpikeIntervalMs',
    kind: 'integer',
    fallback: D.cpuSpikeIntervalMs,
    min: 0,
    max: 3_600_000,
    help: 'realistic: mean time between GC-like CPU spikes (Poisson), each 1-3 ticks long; 0 = none',
  },
  {
    flag: '--cpu-spike-min',
    key: 'cpuSpikeMin',
    kind: 'number',
    fallback: D.cpuSpikeMin,
    min: 0,
    max: 1,
    help: 'realistic: smallest spike, share of the limit',
  },
  {
    flag: '--cpu-spike-max',
    key: 'cpuSpikeMax',
    kind: 'number',
    fallback: D.cpuSpikeMax,
    min: 0,
    max: 1,
    help: 'realistic: largest spike, share of the limit',
  },
];

/** The checks one flag alone cannot make; run once every flag parsed. */
export function checkCpuFlags(options: CapacityBrokerOptions, problems: Problem[]): void {
  if (options.cpuSpikeMin > options.cpuSpikeMax) {
    problems.push({
      code: 'FLAG_RANGE',
      path: '--cpu-spike-min',
      message: `must not exceed --cpu-spike-max (${options.cpuSpikeMax}), got ${options.cpuSpikeMin}`,
    });
  }
  // A host smaller than the quota cannot exist; the agent would cap the quota at the host.
  if (options.cpuView === 'host' && options.hostCores < options.cores) {
    problems.push({
      code: 'FLAG_RANGE',
      path: '--host-cores',
      message: `must be at least --cores (${options.cores}) with --cpu-view host, got ${options.hostCores}`,
    });
  }
}
