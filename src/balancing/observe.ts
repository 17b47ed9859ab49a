import { entryOf, type OverloadPolicy, type Policy, type SignalWeights } from '../config/policy';
import type { Broker, BrokerLoad, LoadSignals } from '../domain';
import { capacityHint, knownCapacity, type KnownCapacity } from './capacity';
import { compact, inferCapacity, smoothSignals, type BrokerState } from './policy-state';

export type Metrics = 'fresh' | 'stale' | 'never';

/** One broker as this computation sees it, before its weight is decided. */
export interface View {
  readonly broker: Broker;
  readonly excluded: boolean;
  readonly draining: boolean;
  /** Why the rebalancer takes new connections away from it, when it does. */
  readonly movingWhy?: string;
  readonly pin?: { readonly weight: number; readonly by: string };
  /** The policy's settings with this broker's overrides applied. */
  readonly signals: SignalWeights;
  readonly overload: OverloadPolicy;
  /** The latest signals as scraped; empty when there are none. */
  readonly inputs: LoadSignals;
  readonly metrics: Metrics;
  /** The broker's state with the latest scrape folded in; the weight is still the last one. */
  readonly state: BrokerState;
  readonly known: KnownCapacity;
}

/**
 * Folds the latest scrape into the broker's state and gathers what the policy says about
 * it. Metrics are fresh when the scraper has a success it does not call stale; a scrape
 * is folded in once, recognised by its scrapedAtMs.
 */
export function observe(
  broker: Broker,
  load: BrokerLoad | undefined,
  old: BrokerState | undefined,
  policy: Policy,
  nowMs: number,
  movingWhy?: string,
): View {
  const o = entryOf(policy.overrides, broker.name);
  const pinWeight = o?.weight ?? broker.staticWeight;
  const fresh = load !== undefined && load.scrapedAtMs !== undefined && !load.stale;

  let { smoothed, inferred, sampleMs } = old ?? {};
  if (fresh && load.scrapedAtMs !== old?.sampleMs) {
    smoothed = smoothSignals(old?.smoothed, load.signals, policy.smoothing.alpha);
    inferred = inferCapacity(old?.inferred, load.signals, policy.capacity.inference);
    sampleMs = load.scrapedAtMs;
  }
  const hadMetrics = smoothed !== undefined || load?.scrapedAtMs !== undefined;
  const metrics: Metrics = fresh ? 'fresh' : hadMetrics ? 'stale' : 'never';
  const staleAlready = old?.staleSinceMs !== undefined;
  const state: BrokerState = compact({
    name: broker.name,
    firstSeenMs: old?.firstSeenMs ?? nowMs,
    sampleMs,
    smoothed,
    inferred,
    weight: old?.weight,
    staleSinceMs: metrics === 'stale' ? (staleAlready ? old.staleSinceMs : nowMs) : undefined,
    staleHoldWeight: metrics === 'stale' ? (staleAlready ? old.staleHoldWeight : old?.weight) : undefined,
    overloadedAtMs: old?.overloadedAtMs,
  });
  return {
    broker,
    excluded: o?.exclude === true,
    draining: o?.drain === true || broker.draining === true || movingWhy !== undefined,
    ...(movingWhy === undefined ? {} : { movingWhy }),
    ...(pinWeight === undefined ? {} : { pin: { weight: pinWeight, by: o?.weight !== undefined ? 'policy override' : 'discovery' } }),
    signals: { ...policy.signals, ...o?.signals },
    overload: { ...policy.overload, ...o?.overload },
    inputs: load?.signals ?? {},
    metrics,
    state,
    known: knownCapacity(capacityHint(policy, broker.name), inferred),
  };
}
