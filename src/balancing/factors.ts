import type { OverloadPolicy, SignalWeights } from '../config/policy';
import type { LoadSignals } from '../domain';
import { reading, type SmoothedSignals } from './policy-state';

// The multipliers a broker's fair-share weight goes through. Each returns its factor with
// the words that explain it, so every decision can say why.

export interface Factor {
  readonly value: number;
  /** Empty when the factor changes nothing worth saying. */
  readonly reason: string;
}

export interface CapacityPair {
  readonly connections?: number;
  readonly publishRatePerSec?: number;
}

/**
 * The signals mixed into one utilisation (1 = at capacity), weighted by the policy. A
 * signal without a reading or without a capacity to divide by drops out and the rest are
 * re-weighted; undefined when nothing is left.
 */
export function utilisationOf(s: SmoothedSignals, capacity: CapacityPair, weights: SignalWeights): number | undefined {
  let sum = 0;
  let total = 0;
  const add = (w: number, value: number | undefined): void => {
    if (w > 0 && value !== undefined && Number.isFinite(value)) {
      sum += w * value;
      total += w;
    }
  };
  add(weights.connections, ratio(s.connections, capacity.connections));
  add(weights.publishRate, ratio(s.publishRatePerSec, capacity.publishRatePerSec));
  add(weights.cpu, s.cpu);
  return total > 0 ? sum / total : undefined;
}

const ratio = (load: number | undefined, capacity: number | undefined): number | undefined =>
  load === undefined || capacity === undefined || capacity <= 0 ? undefined : load / capacity;

/**
 * More than the fair share below the fleet's mean utilisation, less above: (mean / own) to
 * the power `gain`, bounded by maxBoost both ways so the emptiest broker never gets every
 * new client. Both sides of the ratio are softened by `quietConnections` worth of
 * utilisation, so a gap of a few connections (health checks, an idle fleet) gives a factor
 * near 1 while a real gap keeps its full effect. During slow start a boost is ramped in with
 * the weight; a cut is not.
 */
export function catchUp(
  util: number | undefined,
  meanUtil: number | undefined,
  policy: { readonly maxBoost: number; readonly gain: number; readonly quietConnections: number },
  capacityConnections: number,
  rampProgress: number,
): Factor {
  const { maxBoost, gain } = policy;
  if (util === undefined) return { value: 1, reason: 'no usable signal: catch-up x1' };
  if (meanUtil === undefined || meanUtil <= 0) return { value: 1, reason: `util ${fmt(util)}, fleet idle: catch-up x1` };
  const quiet = capacityConnections > 0 ? policy.quietConnections / capacityConnections : 0;
  const own = util + quiet;
  const raw = own <= 0 ? maxBoost : clamp(((meanUtil + quiet) / own) ** gain, 1 / maxBoost, maxBoost);
  const value = raw > 1 ? 1 + (raw - 1) * rampProgress : raw;
  const ramped = value !== raw ? ` (x${fmt(raw)} ramped in by slow start)` : '';
  return { value, reason: `util ${fmt(util)} vs mean ${fmt(meanUtil)}: catch-up x${fmt(value)}${ramped}` };
}

/** Progress 0..1 through the slow-start window. */
export function slowStartProgress(firstSeenMs: number, nowMs: number, windowMs: number): number {
  return windowMs <= 0 ? 1 : clamp((nowMs - firstSeenMs) / windowMs, 0, 1);
}

/** Linear ramp from startFraction to 1: a new broker is never handed its full share at once. */
export function slowStart(progress: number, startFraction: number, elapsedMs: number, windowMs: number): Factor {
  if (progress >= 1) return { value: 1, reason: '' };
  const value = startFraction + (1 - startFraction) * progress;
  return { value, reason: `slow start x${fmt(value)} (${seconds(elapsedMs)} of ${seconds(windowMs)})` };
}

/** The first overload trigger that fires on the latest (unsmoothed) signals, or undefined. */
export function overloadCause(s: LoadSignals, o: OverloadPolicy): string | undefined {
  const level = reading(s.overloadLevel);
  if (o.levelThreshold !== 'off' && level !== undefined && level >= o.levelThreshold) {
    return `overload protection level ${level} >= ${o.levelThreshold}`;
  }
  const cpu = reading(s.cpu);
  if (o.cpuThreshold !== 'off' && cpu !== undefined && cpu >= o.cpuThreshold) {
    return `cpu ${fmt(cpu)} >= ${o.cpuThreshold}`;
  }
  const throttled = reading(s.throttledRatio);
  if (o.throttledThreshold !== 'off' && throttled !== undefined && throttled >= o.throttledThreshold) {
    return `throttled in ${fmt(throttled)} of CPU periods >= ${o.throttledThreshold}`;
  }
  const bp = reading(s.backpressureClients);
  if (o.backpressureClientsThreshold !== 'off' && bp !== undefined && bp >= o.backpressureClientsThreshold) {
    return `${bp} clients under back-pressure >= ${o.backpressureClientsThreshold}`;
  }
  const nw = reading(s.notWritable);
  const conns = reading(s.connections);
  if (o.notWritableRatioThreshold !== 'off' && nw !== undefined && conns !== undefined && conns > 0) {
    const r = nw / conns;
    if (r >= o.notWritableRatioThreshold) return `not-writable ratio ${fmt(r, 3)} >= ${o.notWritableRatioThreshold}`;
  }
  return undefined;
}

/**
 * How severe the overload on these signals is, 0..1: 0 at a threshold, 1 far past it. The
 * damped controller cuts a broker at a threshold gently (brokers hovering there would take
 * turns at a deep cut) and one far past it to the floor. HiveMQ's level runs to 10 and
 * throttling to 1; clients under back-pressure or not writable are severe at once; CPU past
 * its threshold is only ever mild.
 */
export function overloadSeverity(s: LoadSignals, o: OverloadPolicy): number {
  let worst = 0;
  const past = (value: number | undefined, threshold: number | 'off', top: number): void => {
    if (threshold === 'off' || value === undefined || value < threshold) return;
    worst = Math.max(worst, top > threshold ? clamp((value - threshold) / (top - threshold), 0, 1) : 1);
  };
  past(reading(s.overloadLevel), o.levelThreshold, 10);
  // CPU is never severe: a busy broker's CPU reads near its limit well before it is full (a
  // baseline, batching, GC), and cutting such brokers hard sent every client to the one that
  // was not, which then overloaded (overload-spike at 5 s). Its load is the controller's job.
  past(reading(s.throttledRatio), o.throttledThreshold, 1);
  const bp = reading(s.backpressureClients);
  if (o.backpressureClientsThreshold !== 'off' && bp !== undefined && bp >= o.backpressureClientsThreshold) worst = 1;
  const nw = reading(s.notWritable);
  const conns = reading(s.connections);
  if (
    o.notWritableRatioThreshold !== 'off' &&
    nw !== undefined &&
    conns !== undefined &&
    conns > 0 &&
    nw / conns >= o.notWritableRatioThreshold
  ) {
    worst = 1;
  }
  return worst;
}

export interface StaleBlend {
  readonly weight: number;
  /** Still inside the grace period: the caller keeps the last weight exactly. */
  readonly holding: boolean;
  readonly reason: string;
}

/** Without fresh metrics: hold for graceMs, then move linearly to the neutral weight over decayMs. */
export function staleBlend(holdWeight: number, neutral: number, staleForMs: number, graceMs: number, decayMs: number): StaleBlend {
  const lead = `no fresh metrics for ${seconds(staleForMs)}`;
  if (staleForMs < graceMs) {
    return { weight: holdWeight, holding: true, reason: `${lead}: holding ${Math.round(holdWeight)} for up to ${seconds(graceMs)}` };
  }
  const p = decayMs <= 0 ? 1 : clamp((staleForMs - graceMs) / decayMs, 0, 1);
  const weight = holdWeight * (1 - p) + neutral * p;
  const where =
    p >= 1
      ? `at fair share ${Math.round(neutral)}`
      : `${Math.round(p * 100)}% of the way from ${Math.round(holdWeight)} to fair share ${Math.round(neutral)}`;
  return { weight, holding: false, reason: `${lead}: ${where}` };
}

export function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

/** Fixed decimals, so reasons are identical on every replica. */
export function fmt(v: number, digits = 2): string {
  return v.toFixed(digits);
}

function seconds(ms: number): string {
  return `${Math.round(ms / 1000)}s`;
}
