// Pure: the metrics of one time window (the spike window beside the steady state), the
// oscillation amplitude of the steady state, and when mqtt-xds first called a broker
// suspect. docs/lb-benchmark.md defines each one; the definitions here are the reference.
import type { Sample } from './samples';
import type { TimeWindow } from './scenario';

export interface WindowResult {
  readonly fromSec: number;
  readonly toSec: number;
  /** Mean over the window's samples of max/mean utilisation of the brokers present. */
  readonly imbalance: number | null;
  /** Highest utilisation any broker reached within the window. */
  readonly peakUtilisation: number;
  /** Σ over the window's samples of (brokers with utilisation > 1) × sample period. */
  readonly overloadSec: number;
  readonly samples: number;
}

export interface OscillationResult {
  /** Max over brokers of (max − min) of the smoothed utilisation, in percentage points. */
  readonly amplitudePp: number;
  /** The broker that swung the most. */
  readonly broker: string;
  readonly perBroker: Readonly<Record<string, number>>;
}

export interface SuspectResult {
  /** First sample at which GET /status called the broker suspect, in seconds since t = 0. */
  readonly atSec: number;
  readonly reason: string;
}

/**
 * Utilisation is smoothed over this many consecutive samples (a trailing moving average)
 * before peak and trough are taken: the publish traffic makes the per-second cost jitter
 * by a point or two, while weights that swing do so over tens of seconds.
 */
export const OSCILLATION_SMOOTHING_SAMPLES = 5;

export function inWindow(samples: readonly Sample[], w: TimeWindow): Sample[] {
  return samples.filter((s) => s.tSec >= w.fromSec && s.tSec <= w.toSec);
}

/** max/mean utilisation of the brokers present; undefined when they carry nothing. */
export function imbalanceOf(s: Sample): number | undefined {
  const u = s.brokers.filter((b) => b.present).map((b) => b.utilisation);
  if (u.length === 0) return undefined;
  const m = mean(u);
  return m > 0 ? Math.max(...u) / m : undefined;
}

export function windowResult(samples: readonly Sample[], w: TimeWindow, periodSec: number): WindowResult {
  const within = inWindow(samples, w);
  const ratios = within.map(imbalanceOf).filter((r): r is number => r !== undefined);
  let overloadSec = 0;
  let peakUtilisation = 0;
  for (const s of within) {
    for (const b of s.brokers) {
      if (b.utilisation > 1) overloadSec += periodSec;
      peakUtilisation = Math.max(peakUtilisation, b.utilisation);
    }
  }
  return {
    fromSec: w.fromSec,
    toSec: w.toSec,
    imbalance: ratios.length > 0 ? round(mean(ratios), 3) : null,
    peakUtilisation: round(peakUtilisation, 3),
    overloadSec: round(overloadSec, 1),
    samples: within.length,
  };
}

/**
 * Per broker, over the samples in `w` where it is in the balancer: the trailing moving
 * average of its utilisation over `smoothing` samples, then max − min of that. null when
 * no broker has `smoothing` samples in the window.
 */
export function oscillation(
  samples: readonly Sample[],
  w: TimeWindow,
  smoothing = OSCILLATION_SMOOTHING_SAMPLES,
): OscillationResult | null {
  const series = new Map<string, number[]>();
  for (const s of inWindow(samples, w)) {
    for (const b of s.brokers) {
      if (!b.present) continue;
      const list = series.get(b.name) ?? [];
      list.push(b.utilisation);
      series.set(b.name, list);
    }
  }
  const perBroker: Record<string, number> = {};
  for (const [name, u] of series) {
    if (u.length < smoothing) continue;
    const smoothed = u.slice(smoothing - 1).map((_, i) => mean(u.slice(i, i + smoothing)));
    perBroker[name] = round((Math.max(...smoothed) - Math.min(...smoothed)) * 100, 1);
  }
  const names = Object.keys(perBroker);
  if (names.length === 0) return null;
  const broker = names.reduce((a, b) => (perBroker[b] > perBroker[a] ? b : a));
  return { amplitudePp: perBroker[broker], broker, perBroker };
}

export interface CapacityResult {
  /** Mean over the steady window of the capacity mqtt-xds assumed, connections at utilisation 1. */
  readonly assumed: number;
  /** Mean of the truth: the broker's connections over its modelled utilisation. */
  readonly truth: number;
  readonly ratio: number;
}

/**
 * How far the capacities mqtt-xds assumed are from the truth, per broker, over the window.
 * The truth is connections / utilisation from the broker's model: the connections it would
 * hold at utilisation 1 with its present mix of traffic. Samples below 5 % utilisation say
 * little and are skipped.
 */
export function capacityErrors(
  samples: readonly Sample[],
  window: { readonly fromSec: number; readonly toSec: number },
): Record<string, CapacityResult> {
  const sums = new Map<string, { assumed: number; truth: number; n: number }>();
  for (const s of samples) {
    if (s.tSec < window.fromSec || s.tSec > window.toSec || !s.capacities) continue;
    for (const b of s.brokers) {
      const assumed = s.capacities[b.name];
      if (assumed === undefined || !b.present || b.utilisation < 0.05) continue;
      const acc = sums.get(b.name) ?? { assumed: 0, truth: 0, n: 0 };
      acc.assumed += assumed;
      acc.truth += b.connections / b.utilisation;
      acc.n += 1;
      sums.set(b.name, acc);
    }
  }
  const out: Record<string, CapacityResult> = {};
  for (const [name, a] of sums) out[name] = { assumed: a.assumed / a.n, truth: a.truth / a.n, ratio: a.assumed / a.truth };
  return out;
}

/** Each broker's first suspect sample; brokers never called suspect are absent. */
export function firstSuspects(samples: readonly Sample[]): Record<string, SuspectResult> {
  const out: Record<string, SuspectResult> = {};
  for (const s of samples) {
    for (const [name, reason] of Object.entries(s.suspects ?? {})) {
      if (out[name] === undefined) out[name] = { atSec: s.tSec, reason };
    }
  }
  return out;
}

export function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

export function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
