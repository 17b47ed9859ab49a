// What a run is judged by, as pure functions over the fleet's truth, and a recorder that
// folds one simulated second at a time into them.

/** max / mean utilisation of the brokers taking clients; undefined when they carry nothing. */
export function imbalanceOf(utilisations: readonly number[]): number | undefined {
  if (utilisations.length === 0) return undefined;
  let max = 0;
  let sum = 0;
  for (const u of utilisations) {
    sum += u;
    if (u > max) max = u;
  }
  const mean = sum / utilisations.length;
  return mean > 0 ? max / mean : undefined;
}

/** Nearest-rank percentile (p in 0..100); undefined for no values. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export function mean(values: readonly number[]): number | undefined {
  return values.length === 0 ? undefined : values.reduce((a, b) => a + b, 0) / values.length;
}

/** Each broker's capacity share of `total` connections. */
export function capacityTargets(total: number, capacities: readonly number[]): number[] {
  const sum = capacities.reduce((a, b) => a + b, 0);
  return capacities.map((c) => (sum > 0 ? (total * c) / sum : 0));
}

/** The fewest disconnects that reach the targets: every client over its broker's target must move. */
export function minimumMoves(connections: readonly number[], targets: readonly number[]): number {
  return connections.reduce((n, c, i) => n + Math.max(0, c - targets[i]), 0);
}

/** How far the new brokers got towards their target share: Σ connections / Σ targets. */
export function fillFraction(connections: readonly number[], targets: readonly number[]): number {
  const want = targets.reduce((a, b) => a + b, 0);
  return want > 0 ? connections.reduce((a, b) => a + b, 0) / want : 1;
}

export interface FillSample {
  readonly tSec: number;
  readonly fill: number;
}

/** Seconds from `fromSec` until the fill first reaches `level` (0.9: T90); undefined if it never does. */
export function timeToFill(samples: readonly FillSample[], fromSec: number, level = 0.9): number | undefined {
  for (const s of samples) if (s.tSec >= fromSec && s.fill >= level) return s.tSec - fromSec;
  return undefined;
}

/** Folds each simulated second in; reads out the run's summary. */
export class Recorder {
  readonly imbalance: number[] = [];
  readonly fill: FillSample[] = [];
  overloadSec = 0;
  maxUtilisation = 0;
  failedConnects = 0;
  droppedByFailure = 0;
  droppedByStop = 0;

  constructor(
    private readonly warmupSec: number,
    private readonly dtSec: number,
  ) {}

  /** `serving`: the brokers taking new clients (imbalance); `all`: every running one (overload). */
  second(tSec: number, serving: readonly number[], all: readonly number[]): void {
    for (const u of all) {
      if (u > 1) this.overloadSec += this.dtSec;
      if (u > this.maxUtilisation && tSec >= this.warmupSec) this.maxUtilisation = u;
    }
    if (tSec < this.warmupSec) return;
    const r = imbalanceOf(serving);
    if (r !== undefined) this.imbalance.push(r);
  }
}
