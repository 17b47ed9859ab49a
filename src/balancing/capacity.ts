import { AUTO_CAPACITY, entryOf, type CapacityClass, type Policy } from '../config/policy';
import type { CapacityPair } from './factors';
import type { InferredCapacity, SmoothedSignals } from './policy-state';

export type CapacitySource = 'hint' | 'inferred' | 'neutral';

/** What the operator said a broker can take: its class, with the override's fields on top. */
export function capacityHint(policy: Policy, broker: string): Partial<CapacityClass> | undefined {
  const o = entryOf(policy.overrides, broker);
  const c = policy.capacity;
  const className = o?.capacityClass ?? entryOf(c.brokers, broker) ?? (c.default === AUTO_CAPACITY ? undefined : c.default);
  const base = className === undefined ? undefined : entryOf(c.classes, className);
  if (o?.capacity === undefined) return base;
  return { ...base, ...o.capacity };
}

export interface KnownCapacity {
  readonly connections?: number;
  readonly publishRatePerSec?: number;
  /** Where `connections` came from; undefined when it is not known yet. */
  readonly source?: 'hint' | 'inferred';
}

export function knownCapacity(hint: Partial<CapacityClass> | undefined, inferred: InferredCapacity | undefined): KnownCapacity {
  const connections = hint?.connections ?? inferred?.connections;
  const source = hint?.connections !== undefined ? 'hint' : inferred?.connections !== undefined ? 'inferred' : undefined;
  const publishRatePerSec = hint?.publishRatePerSec ?? inferred?.publishRatePerSec;
  return { connections, publishRatePerSec, ...(source === undefined ? {} : { source }) };
}

export interface NeutralCapacity {
  readonly connections: number;
  readonly publishRatePerSec?: number;
}

/**
 * The capacity assumed for brokers whose own is unknown: the mean of the known ones, so an
 * unknown broker is treated as average. When no broker's capacity is known, the mean
 * observed load stands in; all brokers are then equal and utilisation is relative to the
 * fleet average (1 = average).
 */
export function neutralCapacity(known: readonly KnownCapacity[], observed: readonly (SmoothedSignals | undefined)[]): NeutralCapacity {
  const connections = mean(known.map((k) => k.connections)) ?? mean(observed.map((s) => positive(s?.connections))) ?? 1;
  const publishRatePerSec = mean(known.map((k) => k.publishRatePerSec)) ?? mean(observed.map((s) => positive(s?.publishRatePerSec)));
  return publishRatePerSec === undefined ? { connections } : { connections, publishRatePerSec };
}

export interface ResolvedCapacity extends CapacityPair {
  readonly connections: number;
  readonly source: CapacitySource;
}

export function resolveCapacity(known: KnownCapacity, neutral: NeutralCapacity): ResolvedCapacity {
  return {
    connections: known.connections ?? neutral.connections,
    publishRatePerSec: known.publishRatePerSec ?? neutral.publishRatePerSec,
    source: known.source ?? 'neutral',
  };
}

const positive = (v: number | undefined): number | undefined => (v !== undefined && v > 0 ? v : undefined);

function mean(values: readonly (number | undefined)[]): number | undefined {
  const xs = values.filter((v): v is number => v !== undefined);
  return xs.length === 0 ? undefined : xs.reduce((a, b) => a + b, 0) / xs.length;
}
