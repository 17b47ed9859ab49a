import type { LoadSignals, WeightPlan } from '../domain';

/** The signals the policy reads, after EWMA smoothing. */
export interface SmoothedSignals {
  readonly connections?: number;
  /** Incoming + outgoing PUBLISH messages per second. */
  readonly publishRatePerSec?: number;
  readonly cpu?: number;
}

/** Capacity estimated from observed load per unit of CPU: what the broker would hold at cpu 1. */
export interface InferredCapacity {
  readonly connections?: number;
  readonly publishRatePerSec?: number;
}

/** What the policy remembers about one broker between computations. Plain data (JSON-safe). */
export interface BrokerState {
  readonly name: string;
  /** When the policy first saw the broker: the start of its slow start. */
  readonly firstSeenMs: number;
  /** scrapedAtMs of the last sample folded into `smoothed`, so a sample is counted once. */
  readonly sampleMs?: number;
  readonly smoothed?: SmoothedSignals;
  readonly inferred?: InferredCapacity;
  /** Last weight decided, before the uint32 sum limit. */
  readonly weight?: number;
  /** When fresh metrics went missing; absent while they are fresh. */
  readonly staleSinceMs?: number;
  /** The weight when metrics went missing: held for the grace period, then decayed from. */
  readonly staleHoldWeight?: number;
  /** When a scrape last showed the broker overloaded; the cut is held for overload.holdMs after it. */
  readonly overloadedAtMs?: number;
}

/** Everything computeWeights carries from one call to the next. */
export interface PolicyState {
  /** Sorted by name; excluded and vanished brokers are dropped (they slow-start again on return). */
  readonly brokers: readonly BrokerState[];
  /** The last plan, to tell whether a new one differs. */
  readonly plan: WeightPlan;
  /** Fill mode is on (catchUp.fill): it stays on until every broker is within `until` of the mean. */
  readonly filling?: boolean;
}

/** A finite, non-negative reading, or undefined: a broken exporter must not poison the averages. */
export function reading(v: number | undefined): number | undefined {
  return v !== undefined && Number.isFinite(v) && v >= 0 ? v : undefined;
}

/** Incoming + outgoing PUBLISH/s; one side alone counts when the other is not exported. */
export function publishRateOf(s: LoadSignals): number | undefined {
  const i = reading(s.incomingPublishRate);
  const o = reading(s.outgoingPublishRate);
  return i === undefined && o === undefined ? undefined : (i ?? 0) + (o ?? 0);
}

/** `prev` moved towards `next` by `alpha`; a signal missing from the new sample is dropped, not kept stale. */
export function ewma(prev: number | undefined, next: number | undefined, alpha: number): number | undefined {
  if (next === undefined) return undefined;
  return prev === undefined ? next : prev + alpha * (next - prev);
}

export function smoothSignals(prev: SmoothedSignals | undefined, s: LoadSignals, alpha: number): SmoothedSignals {
  return compact({
    connections: ewma(prev?.connections, reading(s.connections), alpha),
    publishRatePerSec: ewma(prev?.publishRatePerSec, publishRateOf(s), alpha),
    cpu: ewma(prev?.cpu, reading(s.cpu), alpha),
  });
}

/**
 * Folds one sample into the capacity estimate: load / cpu is the load at cpu 1. Samples
 * below `minCpu` are skipped, because a nearly idle broker's CPU is mostly its own
 * background work and would make it look far smaller than it is.
 */
export function inferCapacity(
  prev: InferredCapacity | undefined,
  s: LoadSignals,
  inference: { readonly minCpu: number; readonly alpha: number },
): InferredCapacity | undefined {
  const cpu = reading(s.cpu);
  if (cpu === undefined || cpu < inference.minCpu) return prev;
  const estimate = (load: number | undefined, before: number | undefined): number | undefined =>
    load !== undefined && load > 0 ? ewma(before, load / cpu, inference.alpha) : before;
  const next = compact({
    connections: estimate(reading(s.connections), prev?.connections),
    publishRatePerSec: estimate(publishRateOf(s), prev?.publishRatePerSec),
  });
  return Object.keys(next).length > 0 ? next : prev;
}

/** The object without its undefined fields, so state compares and serialises cleanly. */
export function compact<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
