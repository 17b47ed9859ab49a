import type { Policy, SmoothingUnit } from '../config/policy';
import type { CpuSource, LoadSignals, WeightPlan } from '../domain';

/** The signals the policy reads, after EWMA smoothing. */
export interface SmoothedSignals {
  readonly connections?: number;
  /** Incoming + outgoing PUBLISH messages per second. */
  readonly publishRatePerSec?: number;
  readonly cpu?: number;
  /** CONNECT packets per second: how fast clients arrive at this broker. */
  readonly connectRate?: number;
}

/** The other brokers as of the last computation: their mean CPU and mean inferred capacities (inferCapacity). */
export interface Peers {
  readonly cpu: number;
  readonly connections?: number;
  readonly publishRatePerSec?: number;
}

/** Capacity estimated from observed load per unit of CPU: what the broker would hold at cpu 1. */
export interface InferredCapacity {
  readonly connections?: number;
  readonly publishRatePerSec?: number;
  /** The kind of CPU the estimate was made from; another kind starts it afresh. */
  readonly cpuSource?: CpuSource;
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
  /** Relative errors held back by minRelativeChange, summed over scrapes while on one side (weight-limits.ts). */
  readonly heldError?: number;
  /** When fresh metrics went missing; absent while they are fresh. */
  readonly staleSinceMs?: number;
  /** The weight when metrics went missing: held for the grace period, then decayed from. */
  readonly staleHoldWeight?: number;
  /** When a scrape last showed the broker overloaded; the cut is held for overload.holdMs after it. */
  readonly overloadedAtMs?: number;
  /** Consecutive scrapes showing an overload; the cut starts at overload.confirmSamples. */
  readonly overloadSamples?: number;
  /** Set while the damped controller counts the broker overloaded: calm scrapes since; it ends at confirmSamples. */
  readonly calmSamples?: number;
  /** How severe that overload was, 0..1: the depth of the damped controller's cut. */
  readonly overloadSeverity?: number;
  /** Consecutive scrapes whose page contradicted the Envoys' count (envoy-check.ts). */
  readonly suspectSamples?: number;
  /** Set while the page is not believed: agreeing scrapes since; it is believed again at suspect.samples. */
  readonly agreeSamples?: number;
  /** Why the page stopped being believed, kept for /status while it is not. */
  readonly suspectReason?: string;
  /**
   * The Envoys' uncounted connections as last reported, and how many of them can still be
   * up: a believed page holding fewer than the Envoys' count plus the uncounted ones shows
   * that the rest closed, and closed connections do not come back (envoy-check.ts).
   */
  readonly uncountedSeen?: number;
  readonly uncountedCap?: number;
  /** Smoothed time between two scrapes folded in: the controller's period, measured rather than configured. */
  readonly sampleIntervalMs?: number;
  /** The last sample folded in reported an overload: the next one's CPU rate still spans part of it (observe.ts). */
  readonly overloadedSample?: true;
}

/** Everything computeWeights carries from one call to the next. */
export interface PolicyState {
  /** Sorted by name; excluded and vanished brokers are dropped (they slow-start again on return). */
  readonly brokers: readonly BrokerState[];
  /** The last plan, to tell whether a new one differs. */
  readonly plan: WeightPlan;
  /** Fill mode is on (catchUp.fill): it stays on until every broker is within `until` of the mean. */
  readonly filling?: boolean;
  /** The Envoys' new connections per second across the fleet over the last seconds: [atMs, perSec] (fleet.ts). */
  readonly arrivals?: readonly (readonly [number, number])[];
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

/**
 * The EWMA factor for a sample taken `dtMs` after the one before: with `per: second`,
 * `alpha` is per second and compounds over the interval, so the smoothing's time constant
 * is the same at any scrape interval. Without an interval (the first sample) it is `alpha`.
 */
export function alphaOver(alpha: number, dtMs: number | undefined, per: SmoothingUnit): number {
  if (per === 'scrape' || dtMs === undefined || !(dtMs > 0)) return alpha;
  return 1 - (1 - alpha) ** (Math.min(dtMs, MAX_COMPOUND_MS) / 1000);
}

/** A per-second bound on a ratio (a step), compounded over `dtMs` like alphaOver. */
export function ratioOver(ratio: number, dtMs: number | undefined, per: SmoothingUnit): number {
  if (per === 'scrape' || dtMs === undefined || !(dtMs > 0)) return ratio;
  return ratio ** (Math.min(dtMs, MAX_COMPOUND_MS) / 1000);
}

/** Beyond a minute between samples the broker was away; compounding further would forget everything. */
const MAX_COMPOUND_MS = 60_000;

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
    connectRate: ewma(prev?.connectRate, reading(s.connectRate), alpha),
  });
}

/**
 * Folds one sample into the capacity estimate: load / cpu is the load at cpu 1. Samples
 * below `minCpu` are skipped, because a nearly idle broker's CPU is mostly its own
 * background work and would make it look far smaller than it is; so are samples taken
 * while the broker was throttled at its CPU quota, whose CPU reads as the limit whatever
 * the load. Each sample used moves an estimate by at most `maxStepRatio`, so CPU per
 * connection that varies with load (batching, GC) cannot swing the capacity.
 *
 * A sample at a clearly lower CPU is not kept from lowering an estimate: with throttled
 * samples skipped, a broker at its CPU quota is used only at its lighter moments, and an
 * estimate they could raise but not lower ratcheted up (real HiveMQ at 0.15 CPU was taken for
 * 3x its size, 1.47 against 1.02 without the rule; docs/decisions.md).
 *
 * Lighter than its peers is another matter (`peers.cpu`, the other brokers' mean CPU): a broker
 * below `minRelativeCpu` of it is at a load where CPU per unit of work is several times that at
 * full load, so its sample may raise an estimate but not lower it, and a first estimate is at
 * least the peers' mean (a broker that joins empty is not taken for a third of its size). A
 * broker at its quota is the busiest, never the light one, so this cannot ratchet it up.
 */
export function inferCapacity(
  prev: InferredCapacity | undefined,
  s: LoadSignals,
  inference: Policy['capacity']['inference'],
  peers?: Peers,
): InferredCapacity | undefined {
  const cpu = reading(s.cpu);
  if (cpu === undefined || cpu < inference.minCpu) return prev;
  // Far lighter than its peers: CPU per unit of work is high at light load, so the sample
  // underestimates. It may raise an estimate, not lower one, and a first estimate is at least
  // the peers' mean.
  const light = peers !== undefined && inference.minRelativeCpu > 0 && cpu < inference.minRelativeCpu * peers.cpu;
  const throttled = reading(s.throttledRatio);
  if (throttled !== undefined && throttled > inference.maxThrottledRatio) return prev;
  // Whole-machine CPU and CPU of the container's limit differ by the machine's size over the
  // limit (a factor of 30 is common): an estimate from one says nothing about the other,
  // and the step bound would take minutes to walk it over (the agent was just deployed).
  const base = prev?.cpuSource !== undefined && s.cpuSource !== undefined && prev.cpuSource !== s.cpuSource ? undefined : prev;
  const r = inference.maxStepRatio;
  const estimate = (load: number | undefined, before: number | undefined, peer: number | undefined): number | undefined => {
    if (load === undefined || load <= 0) return before;
    const sample = load / cpu;
    if (before === undefined) return light && peer !== undefined ? Math.max(sample, peer) : sample;
    if (light && sample < before) return before;
    return Math.min(before * r, Math.max(before / r, before + inference.alpha * (sample - before)));
  };
  const next = compact({
    connections: estimate(reading(s.connections), base?.connections, peers?.connections),
    publishRatePerSec: estimate(publishRateOf(s), base?.publishRatePerSec, peers?.publishRatePerSec),
  });
  if (next.connections === undefined && next.publishRatePerSec === undefined) return prev;
  return compact({ ...next, cpuSource: s.cpuSource ?? base?.cpuSource });
}

/** The object without its undefined fields, so state compares and serialises cleanly. */
export function compact<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
