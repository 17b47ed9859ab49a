import { entryOf, type CapacityClass, type OverloadPolicy, type Policy, type SignalWeights } from '../config/policy';
import type { Broker, BrokerLoad, EnvoyBrokerLoad, LoadSignals, WeighedSignal } from '../domain';
import { capacityHint, knownCapacity, type KnownCapacity } from './capacity';
import { checkAgainstEnvoys, type EnvoyCheck } from './envoy-check';
import { overloadSeverity } from './factors';
import {
  alphaOver,
  compact,
  ewma,
  inferCapacity,
  ratioOver,
  smoothSignals,
  type BrokerState,
  type Peers,
  type SmoothedSignals,
} from './policy-state';

/** EWMA factor for the measured scrape interval: it changes only when the operator changes it. */
const INTERVAL_ALPHA = 0.3;

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
  /** Signals the policy weighs or infers capacity from that the broker's page cannot give. */
  readonly missing: readonly WeighedSignal[];
  /** This computation folded in a scrape not seen before (overload is confirmed per scrape, not per computation). */
  readonly newSample: boolean;
  /** The smoothed signals with the Envoys' live connection count folded in: what utilisation is computed from. */
  readonly current?: SmoothedSignals;
  /** Why the page is not believed (it contradicts what the Envoys routed); undefined when it is. */
  readonly suspect?: string;
  /** The page timed out while the Envoys keep opening connections to the broker. */
  readonly slowPage?: string;
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
  envoy?: EnvoyBrokerLoad,
  peers?: Peers,
): View {
  const o = entryOf(policy.overrides, broker.name);
  const pinWeight = o?.weight ?? broker.staticWeight;
  const scraped = load !== undefined && load.scrapedAtMs !== undefined && !load.stale;

  let { smoothed, inferred, sampleMs, sampleIntervalMs, overloadedSample } = old ?? {};
  const newSample = scraped && load.scrapedAtMs !== old?.sampleMs;
  const check = checkAgainstEnvoys(load, envoy, old, policy, newSample);
  // A broker too busy to answer its page is still seen: the Envoys count its connections.
  const fresh = scraped || (check.slowPage !== undefined && smoothed !== undefined);
  if (newSample) {
    const dtMs = sampleMs === undefined ? undefined : load.scrapedAtMs - sampleMs;
    const { per } = policy.smoothing;
    smoothed = smoothSignals(old?.smoothed, check.signals, alphaOver(policy.smoothing.alpha, dtMs, per));
    const { inference } = policy.capacity;
    // A broker reporting an overload (HiveMQ's level, back-pressure, clients not writable;
    // not CPU alone) burns CPU on more than its connections: its samples would take it for
    // smaller than it is long after the overload ends. Throttling has its own bound
    // (capacity.inference.maxThrottledRatio). Without an estimate yet, the sample is all
    // there is: it takes the broker for smaller, the safe side while it is overloaded.
    // The first sample after an overload teaches nothing either: CPU is a rate over the time
    // since the scrape before, most of which the overload still filled. Taken as it came, that
    // sample made overload-spike's b1 0.57 of its estimate at 5 s, and it refilled at half the
    // mean for the rest of the run.
    const overloadedNow = overloadSeverity(check.signals, { ...policy.overload, ...o?.overload, throttledThreshold: 'off' }) > 0;
    if (old?.inferred === undefined || (!overloadedNow && old.overloadedSample !== true)) {
      inferred = inferCapacity(
        old?.inferred,
        check.signals,
        {
          ...inference,
          alpha: alphaOver(inference.alpha, dtMs, per),
          maxStepRatio: ratioOver(inference.maxStepRatio, dtMs, per),
        },
        peers,
      );
    }
    if (sampleMs !== undefined && load.scrapedAtMs > sampleMs) {
      sampleIntervalMs = ewma(sampleIntervalMs, load.scrapedAtMs - sampleMs, INTERVAL_ALPHA);
    }
    sampleMs = load.scrapedAtMs;
    overloadedSample = overloadedNow ? true : undefined;
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
    heldError: old?.heldError,
    staleSinceMs: metrics === 'stale' ? (staleAlready ? old.staleSinceMs : nowMs) : undefined,
    staleHoldWeight: metrics === 'stale' ? (staleAlready ? old.staleHoldWeight : old?.weight) : undefined,
    overloadedAtMs: old?.overloadedAtMs,
    overloadSamples: old?.overloadSamples,
    calmSamples: old?.calmSamples,
    overloadSeverity: old?.overloadSeverity,
    suspectSamples: check.suspectSamples,
    agreeSamples: check.agreeSamples,
    suspectReason: check.suspectReason,
    uncountedSeen: check.uncountedSeen,
    uncountedCap: check.uncountedCap,
    sampleIntervalMs,
    overloadedSample,
  });
  const hint = capacityHint(policy, broker.name);
  const signals = { ...policy.signals, ...o?.signals };
  const excluded = o?.exclude === true;
  // Pinned and excluded brokers' weights use no signal.
  const relied = excluded || pinWeight !== undefined ? [] : (load?.unavailable ?? []);
  return {
    broker,
    excluded,
    draining: o?.drain === true || broker.draining === true || movingWhy !== undefined,
    ...(movingWhy === undefined ? {} : { movingWhy }),
    ...(pinWeight === undefined ? {} : { pin: { weight: pinWeight, by: o?.weight !== undefined ? 'policy override' : 'discovery' } }),
    signals,
    overload: { ...policy.overload, ...o?.overload },
    inputs: load?.signals ?? {},
    metrics,
    state,
    known: knownCapacity(hint, inferred),
    missing: relied.filter((signal) => needs(signal, signals, hint)),
    newSample,
    ...(smoothed === undefined ? {} : { current: withEnvoys(smoothed, envoy, check) }),
    ...(check.suspect === undefined ? {} : { suspect: check.suspect }),
    ...(check.slowPage === undefined ? {} : { slowPage: check.slowPage }),
  };
}

/**
 * The Envoys report every second, the page every scrape: between scrapes their count is the
 * newer one. A broker filling faster than its page shows counts as holding what the Envoys
 * hold; the page's larger count wins otherwise (clients may connect past the Envoys). A
 * suspect page's broker is counted from the Envoys alone.
 */
function withEnvoys(smoothed: SmoothedSignals, envoy: EnvoyBrokerLoad | undefined, check: EnvoyCheck): SmoothedSignals {
  if (envoy === undefined || envoy.envoys === 0) return smoothed;
  const counted = check.suspect !== undefined ? (check.envoyConnections ?? envoy.connections) : envoy.connections;
  const connections = check.suspect !== undefined ? counted : Math.max(smoothed.connections ?? 0, counted);
  return connections === smoothed.connections ? smoothed : { ...smoothed, connections };
}

/**
 * Whether the policy uses a signal for this broker: it weighs it, or it infers the
 * broker's capacity from it (load / cpu, for a capacity its class does not give).
 */
function needs(signal: WeighedSignal, weights: SignalWeights, hint: Partial<CapacityClass> | undefined): boolean {
  const infersConnections = hint?.connections === undefined;
  const infersPublishRate = weights.publishRate > 0 && hint?.publishRatePerSec === undefined;
  switch (signal) {
    case 'connections':
      return weights.connections > 0 || infersConnections;
    case 'publishRate':
      return weights.publishRate > 0;
    case 'cpu':
      return weights.cpu > 0 || infersConnections || infersPublishRate;
  }
}
