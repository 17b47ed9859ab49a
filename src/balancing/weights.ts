import type { BrokerOverride, OverloadPolicy, Policy, SignalWeights } from '../config/policy';
import { sortBrokers, type Broker, type BrokerLoad, type EndpointHealth, type LoadSignals, type PlannedEndpoint, type WeightPlan } from '../domain';
import { capacityHint, knownCapacity, neutralCapacity, resolveCapacity, type CapacitySource, type KnownCapacity } from './capacity';
import { catchUp, fmt, overloadCause, slowStart, slowStartProgress, staleBlend, utilisationOf } from './factors';
import { compact, inferCapacity, smoothSignals, type BrokerState, type PolicyState } from './policy-state';
import { fitWeightSum, limitWeight } from './weight-limits';

export type { BrokerState, PolicyState } from './policy-state';

export interface BrokerDecision {
  readonly name: string;
  /** The published weight; 0 for an excluded broker (it is not in the plan). */
  readonly weight: number;
  readonly health: EndpointHealth;
  readonly excluded: boolean;
  /** Smoothed utilisation (1 = at capacity) when fresh metrics allow one. */
  readonly utilisation?: number;
  /** Connections the broker holds at utilisation 1, as assumed for its fair share. */
  readonly capacity?: number;
  readonly capacitySource: CapacitySource;
  /** Multipliers applied to the fair-share weight; 1 = no effect. */
  readonly factors: { readonly catchUp: number; readonly slowStart: number; readonly overload: number; readonly stale: number };
  readonly reason: string;
  /** The latest signals as scraped (unsmoothed); empty when there were none. */
  readonly inputs: LoadSignals;
}

export interface WeighInput {
  readonly brokers: readonly Broker[];
  readonly loads: ReadonlyMap<string, BrokerLoad>;
  readonly previous?: PolicyState;
  readonly policy: Policy;
  readonly nowMs: number;
}

export interface WeighOutcome {
  readonly plan: WeightPlan;
  readonly state: PolicyState;
  /** Sorted by name, excluded brokers included. */
  readonly decisions: BrokerDecision[];
  /** False when the plan equals the previous one (no change reached minRelativeChange): no push needed. */
  readonly changed: boolean;
}

type Metrics = 'fresh' | 'stale' | 'never';

/** One broker as this computation sees it, before its weight is decided. */
interface View {
  readonly broker: Broker;
  readonly excluded: boolean;
  readonly draining: boolean;
  readonly pin?: { readonly weight: number; readonly by: string };
  readonly signals: SignalWeights;
  readonly overload: OverloadPolicy;
  readonly inputs: LoadSignals;
  readonly metrics: Metrics;
  /** This computation's state for the broker, weight not yet decided. */
  readonly state: BrokerState;
  readonly known: KnownCapacity;
}

interface Decided {
  readonly weight: number;
  readonly decision: Omit<BrokerDecision, 'weight'>;
  readonly state: BrokerState;
}

/**
 * The weights for the next EDS push: pure and deterministic (same inputs, same outcome on
 * every replica). docs/policy.md describes the algorithm; in short, a broker's weight is
 * its fair share (∝ capacity) × catch-up (towards the mean utilisation) × slow start ×
 * overload, smoothed, step-limited and bounded; without metrics it is held, then decays
 * to its fair share.
 */
export function computeWeights(input: WeighInput): WeighOutcome {
  const { policy, nowMs } = input;
  const previous = new Map((input.previous?.brokers ?? []).map((b) => [b.name, b]));
  const views = sortBrokers(input.brokers).map((b) => observe(b, input.loads.get(b.name), previous.get(b.name), policy, nowMs));

  const inPlan = views.filter((v) => !v.excluded);
  const neutral = neutralCapacity(
    inPlan.map((v) => v.known),
    inPlan.map((v) => (v.metrics === 'fresh' ? v.state.smoothed : undefined)),
  );
  const capacity = new Map(inPlan.map((v) => [v.broker.name, resolveCapacity(v.known, neutral)]));
  const utilisation = new Map<string, number>();
  for (const v of inPlan) {
    const cap = capacity.get(v.broker.name)!;
    const u = v.metrics === 'fresh' && v.state.smoothed !== undefined ? utilisationOf(v.state.smoothed, cap, v.signals) : undefined;
    if (u !== undefined) utilisation.set(v.broker.name, u);
  }
  // The level the fleet converges to: total load over total capacity of the brokers taking new clients.
  const meanUtil = weightedMean(
    inPlan.filter((v) => !v.draining && utilisation.has(v.broker.name)).map((v) => [utilisation.get(v.broker.name)!, capacity.get(v.broker.name)!.connections]),
  );
  const policyWeighted = inPlan.filter((v) => v.pin === undefined);
  const meanCapacity = weightedMean(policyWeighted.map((v) => [capacity.get(v.broker.name)!.connections, 1])) ?? 1;

  const decided = views.map((v): Decided => {
    if (v.excluded) return excludedDecision(v);
    const cap = capacity.get(v.broker.name)!;
    const fair = (policy.weightScale * cap.connections) / meanCapacity;
    const d = decide(v, fair, utilisation.get(v.broker.name), meanUtil, policy, nowMs);
    const u = utilisation.get(v.broker.name);
    return {
      ...d,
      decision: { ...d.decision, capacity: cap.connections, capacitySource: cap.source, ...(u === undefined ? {} : { utilisation: u }) },
    };
  });

  const planned = decided.filter((d) => !d.decision.excluded);
  const fitted = fitWeightSum(planned.map((d) => d.weight));
  const published = new Map(planned.map((d, i) => [d.decision.name, fitted.weights[i]]));
  const scaled = fitted.factor < 1 ? `; scaled x${fmt(fitted.factor, 6)} to keep the weight sum within uint32` : '';

  const byName = new Map(views.map((v) => [v.broker.name, v.broker]));
  const endpoints: PlannedEndpoint[] = planned.map((d) => {
    const b = byName.get(d.decision.name)!;
    return { name: b.name, address: b.address, port: b.port, weight: published.get(b.name)!, health: d.decision.health };
  });
  const plan: WeightPlan = { endpoints };
  const decisions: BrokerDecision[] = decided.map((d) => ({
    ...d.decision,
    weight: published.get(d.decision.name) ?? 0,
    reason: d.decision.excluded ? d.decision.reason : d.decision.reason + scaled,
  }));
  const state: PolicyState = { brokers: decided.filter((d) => !d.decision.excluded).map((d) => d.state), plan };
  return { plan, state, decisions, changed: !samePlan(input.previous?.plan, plan) };
}

function observe(broker: Broker, load: BrokerLoad | undefined, old: BrokerState | undefined, policy: Policy, nowMs: number): View {
  const o: BrokerOverride | undefined = policy.overrides[broker.name];
  const pinWeight = o?.weight ?? broker.staticWeight;
  const pin = pinWeight === undefined ? undefined : { weight: pinWeight, by: o?.weight !== undefined ? 'policy override' : 'discovery' };
  const fresh = load !== undefined && load.scrapedAtMs !== undefined && !load.stale;

  let smoothed = old?.smoothed;
  let inferred = old?.inferred;
  let sampleMs = old?.sampleMs;
  if (fresh && load.scrapedAtMs !== old?.sampleMs) {
    smoothed = smoothSignals(old?.smoothed, load.signals, policy.smoothing.alpha);
    inferred = inferCapacity(old?.inferred, load.signals, policy.capacity.inference);
    sampleMs = load.scrapedAtMs;
  }
  const hadMetrics = smoothed !== undefined || load?.scrapedAtMs !== undefined;
  const metrics: Metrics = fresh ? 'fresh' : hadMetrics ? 'stale' : 'never';
  const state: BrokerState = compact({
    name: broker.name,
    firstSeenMs: old?.firstSeenMs ?? nowMs,
    sampleMs,
    smoothed,
    inferred,
    weight: old?.weight,
    staleSinceMs: metrics === 'stale' ? (old?.staleSinceMs ?? nowMs) : undefined,
    staleHoldWeight: metrics === 'stale' ? (old?.staleSinceMs !== undefined ? old.staleHoldWeight : old?.weight) : undefined,
  });
  return {
    broker,
    excluded: o?.exclude === true,
    draining: o?.drain === true || broker.draining === true,
    ...(pin === undefined ? {} : { pin }),
    signals: { ...policy.signals, ...o?.signals },
    overload: { ...policy.overload, ...o?.overload },
    inputs: load?.signals ?? {},
    metrics,
    state,
    known: knownCapacity(capacityHint(policy, broker.name), inferred),
  };
}

const NO_FACTORS: BrokerDecision['factors'] = { catchUp: 1, slowStart: 1, overload: 1, stale: 1 };

function excludedDecision(v: View): Decided {
  return {
    weight: 0,
    state: v.state,
    decision: {
      name: v.broker.name,
      health: v.draining ? 'draining' : 'serving',
      excluded: true,
      capacitySource: v.known.source ?? 'neutral',
      factors: NO_FACTORS,
      reason: 'excluded by policy override: not in EDS, its established connections stay',
      inputs: v.inputs,
    },
  };
}

function decide(v: View, fair: number, util: number | undefined, meanUtil: number | undefined, policy: Policy, nowMs: number): Decided {
  const last = v.state.weight;
  const base = { name: v.broker.name, excluded: false, inputs: v.inputs };
  const health: EndpointHealth = v.draining ? 'draining' : 'serving';
  const done = (weight: number, reason: string, factors: BrokerDecision['factors'] = NO_FACTORS): Decided => ({
    weight,
    state: { ...v.state, weight },
    decision: { ...base, health, capacitySource: 'neutral', factors, reason },
  });

  if (v.pin !== undefined) {
    const drain = v.draining ? 'draining (no new connections); ' : '';
    return done(v.pin.weight, `${drain}pinned to ${v.pin.weight} by ${v.pin.by}`);
  }
  if (v.draining) {
    const kept = last ?? limitWeight(fair, undefined, { urgentDecrease: false, hold: false }, policy).weight;
    return done(kept, `draining: no new connections; weight ${kept} kept for when the drain ends`);
  }

  const { windowMs, startFraction } = policy.slowStart;
  const progress = slowStartProgress(v.state.firstSeenMs, nowMs, windowMs);
  const ramp = slowStart(progress, startFraction, nowMs - v.state.firstSeenMs, windowMs);
  const reasons = [`fair share ${Math.round(fair)}`];
  const factors: { -readonly [K in keyof BrokerDecision['factors']]: number } = { ...NO_FACTORS, slowStart: ramp.value };
  let target: number;
  let urgentDecrease = false;
  let hold = false;

  if (v.metrics === 'fresh') {
    const boost = catchUp(util, meanUtil, policy.catchUp, progress);
    const cause = overloadCause(v.inputs, v.overload);
    factors.catchUp = boost.value;
    factors.overload = cause === undefined ? 1 : v.overload.weightFactor;
    reasons.push(boost.reason);
    if (cause !== undefined) reasons.push(`${cause}: overloaded, x${v.overload.weightFactor}`);
    urgentDecrease = cause !== undefined;
    target = fair * boost.value * ramp.value * factors.overload;
  } else if (v.metrics === 'stale') {
    const neutral = fair * ramp.value;
    const blend = staleBlend(v.state.staleHoldWeight ?? neutral, neutral, nowMs - (v.state.staleSinceMs ?? nowMs), policy.stale.graceMs, policy.stale.decayMs);
    factors.stale = neutral > 0 ? blend.weight / neutral : 1;
    reasons.push(blend.reason);
    hold = blend.holding;
    target = blend.weight;
  } else {
    reasons.push('not scraped yet: neutral');
    target = fair * ramp.value;
  }
  if (ramp.reason !== '') reasons.push(ramp.reason);
  const limited = limitWeight(target, last, { urgentDecrease, hold }, policy);
  if (limited.reason !== '') reasons.push(limited.reason);
  return done(limited.weight, reasons.join('; '), factors);
}

function weightedMean(pairs: readonly (readonly [number, number])[]): number | undefined {
  let sum = 0;
  let total = 0;
  for (const [value, weight] of pairs) {
    sum += value * weight;
    total += weight;
  }
  return total > 0 ? sum / total : undefined;
}

function samePlan(a: WeightPlan | undefined, b: WeightPlan): boolean {
  if (a === undefined || a.endpoints.length !== b.endpoints.length) return false;
  return a.endpoints.every((x, i) => {
    const y = b.endpoints[i];
    return x.name === y.name && x.address === y.address && x.port === y.port && x.weight === y.weight && x.health === y.health;
  });
}
