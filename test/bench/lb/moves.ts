// Pure: the metrics of moving connections on purpose (a scale-out with agents, a drain, a
// killed broker), from the per-second samples and the clients' event times.
// docs/lb-benchmark.md ("Moving connections") defines each; these are the reference.
import type { ClientTimeline } from './clients';
import type { Sample } from './samples';

/** One broker against its fair share of the connections. */
export interface ShareOf {
  readonly connections: number;
  /** Connections of the counted brokers × its capacity / their total capacity. */
  readonly fair: number;
  /** connections / fair; undefined when the fair share is 0. */
  readonly share?: number;
}

/**
 * Each counted broker's connections against its fair share. Counted: the brokers in the
 * balancer whose state the sample holds (a killed broker has none), minus `exclude`
 * (a draining broker, whose fair share is 0).
 */
export function connectionShares(s: Sample, exclude: ReadonlySet<string> = new Set()): Map<string, ShareOf> {
  const counted = s.brokers.filter((b) => b.present && !exclude.has(b.name));
  const total = counted.reduce((n, b) => n + b.connections, 0);
  const capacity = counted.reduce((n, b) => n + b.capacity, 0);
  const out = new Map<string, ShareOf>();
  for (const b of counted) {
    const fair = capacity > 0 ? (total * b.capacity) / capacity : 0;
    out.set(b.name, { connections: b.connections, fair, ...(fair > 0 ? { share: b.connections / fair } : {}) });
  }
  return out;
}

/**
 * Seconds from `fromSec` until the first sample in which `broker` holds at least `fraction`
 * of its fair share of the connections; null when that never happens.
 */
export function timeToShare(samples: readonly Sample[], broker: string, fromSec: number, fraction = 0.9): number | null {
  for (const s of samples) {
    if (s.tSec < fromSec) continue;
    const share = connectionShares(s).get(broker)?.share;
    if (share !== undefined && share >= fraction) return round(s.tSec - fromSec);
  }
  return null;
}

/**
 * The fewest disconnects that reach the fair split: every broker above its fair share
 * must lose its excess, and nobody else need move. Fractions of a client round down.
 */
export function minimumMoves(s: Sample, exclude: ReadonlySet<string> = new Set()): number {
  let n = 0;
  for (const v of connectionShares(s, exclude).values()) n += Math.max(0, v.connections - v.fair);
  return Math.floor(n + 1e-9);
}

export interface PeakShare {
  /** Highest connections / fair share counted; null when no broker was counted. */
  readonly share: number | null;
  readonly broker?: string;
  readonly atSec?: number;
}

/**
 * The highest share any broker held in [fromSec, toSec]. A broker that starts the window
 * above `ceiling` (a source: it holds the excess the move is to take away) counts from its
 * first sample at or below the ceiling on, so the number says whether moving pushed any
 * broker over the ceiling or let a source climb back above it.
 */
export function peakShareDuringMove(samples: readonly Sample[], fromSec: number, toSec: number, ceiling = 1.1): PeakShare {
  const window = samples.filter((s) => s.tSec >= fromSec && s.tSec <= toSec);
  const waiting = new Set<string>();
  if (window.length > 0) {
    for (const [name, v] of connectionShares(window[0])) if ((v.share ?? 0) > ceiling) waiting.add(name);
  }
  let best: PeakShare = { share: null };
  for (const s of window) {
    for (const [name, v] of connectionShares(s)) {
      if (v.share === undefined) continue;
      if (waiting.has(name)) {
        if (v.share > ceiling) continue;
        waiting.delete(name);
      }
      if (best.share === null || v.share > best.share) best = { share: round(v.share, 3), broker: name, atSec: s.tSec };
    }
  }
  return best;
}

/** The highest share any counted broker holds in this sample. */
export function maxShare(s: Sample): PeakShare {
  let best: PeakShare = { share: null };
  for (const [name, v] of connectionShares(s)) {
    if (v.share !== undefined && (best.share === null || v.share > best.share))
      best = { share: round(v.share, 3), broker: name, atSec: s.tSec };
  }
  return best;
}

export interface WindowPeak {
  /** Most events in any window [t, t + windowMs). */
  readonly count: number;
  /** Where that window starts, in ms; undefined without events. */
  readonly atMs?: number;
}

/** The most events in any sliding window of `windowMs`, counting events in [fromMs, toMs]. */
export function peakInWindow(timesMs: readonly number[], windowMs: number, fromMs = -Infinity, toMs = Infinity): WindowPeak {
  const t = timesMs.filter((x) => x >= fromMs && x <= toMs).sort((a, b) => a - b);
  let best: WindowPeak = { count: 0 };
  let j = 0;
  // The busiest window can always be taken to start at an event.
  for (let i = 0; i < t.length; i++) {
    if (j < i) j = i;
    while (j < t.length && t[j] < t[i] + windowMs) j++;
    if (j - i > best.count) best = { count: j - i, atMs: t[i] };
  }
  return best;
}

/** Events in [fromMs, toMs]. */
export function countBetween(timesMs: readonly number[], fromMs: number, toMs = Infinity): number {
  return timesMs.filter((x) => x >= fromMs && x <= toMs).length;
}

/** Clients connected at `atMs` by the timeline: CONNACKs less closes of either kind, up to and including atMs. */
export function connectedAt(timeline: ClientTimeline, atMs: number): number {
  return (
    countBetween(timeline.connects, -Infinity, atMs) -
    countBetween(timeline.disconnects, -Infinity, atMs) -
    countBetween(timeline.lifetimeEnds, -Infinity, atMs)
  );
}

/**
 * Seconds from `atMs` until as many clients are connected again as just before it, once
 * the count has dropped below that; 0 when it never dropped, null when it never recovered.
 * With `fraction` below 1: until that fraction of the clients lost (the deepest drop) are
 * back, so a few clients at their longest backoff do not hide how fast the rest came.
 */
export function timeUntilAllBack(timeline: ClientTimeline, atMs: number, fraction = 1): number | null {
  const before = connectedAt(timeline, atMs - 1e-6);
  const steps = [
    ...timeline.connects.filter((t) => t >= atMs).map((t) => [t, +1] as const),
    ...timeline.disconnects.filter((t) => t >= atMs).map((t) => [t, -1] as const),
    ...timeline.lifetimeEnds.filter((t) => t >= atMs).map((t) => [t, -1] as const),
  ].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let n = before;
  let lowest = before;
  for (const [, d] of steps) lowest = Math.min(lowest, (n += d));
  const target = before - Math.floor((1 - fraction) * (before - lowest) + 1e-9);
  n = before;
  let dropped = false;
  for (const [t, d] of steps) {
    n += d;
    if (n < target) dropped = true;
    else if (dropped) return round((t - atMs) / 1000);
  }
  return dropped ? null : 0;
}

/**
 * Mean over the last `lastSamples` samples of max / mean connections per unit of capacity,
 * over the brokers counted as in connectionShares; null without any.
 */
export function endImbalance(samples: readonly Sample[], exclude: ReadonlySet<string>, lastSamples = 5): number | null {
  const ratios: number[] = [];
  for (const s of samples.slice(-lastSamples)) {
    const loads = s.brokers.filter((b) => b.present && !exclude.has(b.name)).map((b) => b.connections / b.capacity);
    if (loads.length === 0) continue;
    const mean = loads.reduce((a, b) => a + b, 0) / loads.length;
    if (mean > 0) ratios.push(Math.max(...loads) / mean);
  }
  return ratios.length > 0 ? round(ratios.reduce((a, b) => a + b, 0) / ratios.length, 3) : null;
}

export interface BrokerPeak {
  readonly broker?: string;
  /** Most connections any counted broker held in a sample at or after fromSec; 0 without samples. */
  readonly connections: number;
}

/** The fullest broker at or after `fromSec`, leaving out `exclude` (the killed one). */
export function peakConnections(samples: readonly Sample[], fromSec: number, exclude: ReadonlySet<string> = new Set()): BrokerPeak {
  let best: BrokerPeak = { connections: 0 };
  for (const s of samples) {
    if (s.tSec < fromSec) continue;
    for (const b of s.brokers) {
      if (!exclude.has(b.name) && b.connections > best.connections) best = { broker: b.name, connections: b.connections };
    }
  }
  return best;
}

function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
