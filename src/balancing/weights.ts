import type { Policy } from '../config/policy';
import {
  sortBrokers,
  type Broker,
  type BrokerLoad,
  type EndpointHealth,
  type EnvoyBrokerLoad,
  type LoadSignals,
  type PlannedEndpoint,
  type WeighedSignal,
  type WeightPlan,
} from '../domain';
import { neutralCapacity, resolveCapacity, type CapacitySource } from './capacity';
import { dampedFactor, type Gain } from './controller';
import { arrivalsOf, averageArrivals, fillReason, fleetGain, samePlan, weightedMean, type Assessed } from './fleet';
import { catchUp, fmt, slowStart, slowStartProgress, staleBlend, utilisationOf } from './factors';
import { cutHard, fullOf, overloadVerdict, type OverloadVerdict } from './overload';
import { observe, type View } from './observe';
import { compact, type BrokerState, type Peers, type PolicyState } from './policy-state';
import { fitWeightSum, limitWeight } from './weight-limits';

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
  readonly factors: Factors;
  readonly reason: string;
  /** The latest signals as scraped (unsmoothed); empty when there were none. */
  readonly inputs: LoadSignals;
  /**
   * Signals the policy weighs or infers this broker's capacity from that its page cannot
   * give (BrokerLoad.unavailable): balancing goes on without them. Absent when none.
   */
  readonly missingSignals?: readonly WeighedSignal[];
  /** The page is not believed: it contradicts what the Envoys routed; weighed from their count. */
  readonly suspect?: { readonly reason: string };
  /** The page timed out while the Envoys keep routing to the broker: counted as overloaded. */
  readonly slowPage?: string;
  /** Cut for overload in this computation (a threshold passed and confirmed); absent otherwise. */
  readonly overloaded?: true;
  /**
   * The cut counts the broker as full (a severe overload, or any in proportional mode), not
   * only at a threshold, where it is held to its fair share. Absent otherwise.
   */
  readonly overloadSevere?: true;
  /** The weight is an operator's pin (overrides), published as written; absent otherwise. */
  readonly pinned?: true;
}

export interface Factors {
  readonly catchUp: number;
  readonly slowStart: number;
  readonly overload: number;
  /** Weight over the neutral weight while metrics are missing (held, then decaying to 1). */
  readonly stale: number;
  /** catchUp.fill's cut of a broker at or above the mean while another is far below it. */
  readonly fill: number;
}

export interface WeighInput {
  readonly brokers: readonly Broker[];
  readonly loads: ReadonlyMap<string, BrokerLoad>;
  readonly previous?: PolicyState;
  readonly policy: Policy;
  readonly nowMs: number;
  /** Brokers the rebalancer takes new connections from (drains, moves): name → why. */
  readonly moving?: ReadonlyMap<string, string>;
  /**
   * What the Envoys report about each broker (over LRS), by broker name: pages are checked
   * against it, the fleet's arrival rate for the damped controller's gain comes from it, and
   * between scrapes it is the newer connection count. Absent: the pages alone.
   */
  readonly envoys?: ReadonlyMap<string, EnvoyBrokerLoad>;
}

export interface WeighOutcome {
  readonly plan: WeightPlan;
  readonly state: PolicyState;
  /** Sorted by name, excluded brokers included. */
  readonly decisions: BrokerDecision[];
  /** False when the plan equals the previous one (no change reached minRelativeChange): no push needed. */
  readonly changed: boolean;
}

interface FleetContext {
  readonly policy: Policy;
  readonly nowMs: number;
  readonly meanUtil?: number;
  readonly meanCapacity: number;
  /** Set while fill mode is on: why (the broker furthest below the mean). */
  readonly filling?: string;
  /** The damped controller's gain; undefined in proportional mode. */
  readonly gain?: Gain;
  /** Every broker the policy weighs is cut for overload: cutting them all would change no share. */
  readonly everyCut: boolean;
  /** The mean utilisation of the brokers not cut for overload: where a cut broker's clients go. */
  readonly roomUtil?: number;
}

interface Decided {
  readonly decision: BrokerDecision;
  readonly state: BrokerState;
}

/**
 * The other brokers as of the last computation, for capacity inference: their mean smoothed CPU
 * and mean inferred capacities, for each broker; none without another broker with a CPU reading.
 * Sums over the fleet once, then leaves each broker out of its own (linear in the fleet's size).
 */
function peersByBroker(brokers: readonly Broker[], previous: ReadonlyMap<string, BrokerState>): Map<string, Peers> {
  const sums = { cpu: [0, 0], connections: [0, 0], publishRatePerSec: [0, 0] };
  const own = new Map<string, { cpu: number; connections?: number; publishRatePerSec?: number }>();
  const add = (sum: number[], v: number | undefined, sign: number): void => {
    if (v === undefined || !Number.isFinite(v)) return;
    sum[0] += sign * v;
    sum[1] += sign;
  };
  for (const b of brokers) {
    const st = previous.get(b.name);
    const cpu = st?.smoothed?.cpu;
    if (cpu === undefined || !Number.isFinite(cpu) || own.has(b.name)) continue;
    const mine = { cpu, connections: st?.inferred?.connections, publishRatePerSec: st?.inferred?.publishRatePerSec };
    own.set(b.name, mine);
    add(sums.cpu, mine.cpu, 1);
    add(sums.connections, mine.connections, 1);
    add(sums.publishRatePerSec, mine.publishRatePerSec, 1);
  }
  const without = (sum: readonly number[], v: number | undefined): number | undefined => {
    const has = v !== undefined && Number.isFinite(v);
    const n = sum[1] - (has ? 1 : 0);
    return n > 0 ? (sum[0] - (has ? v : 0)) / n : undefined;
  };
  const out = new Map<string, Peers>();
  for (const b of brokers) {
    const mine = own.get(b.name);
    const cpu = without(sums.cpu, mine?.cpu);
    if (cpu === undefined) continue;
    out.set(
      b.name,
      compact({
        cpu,
        connections: without(sums.connections, mine?.connections),
        publishRatePerSec: without(sums.publishRatePerSec, mine?.publishRatePerSec),
      }),
    );
  }
  return out;
}

const NO_FACTORS: Factors = { catchUp: 1, slowStart: 1, overload: 1, stale: 1, fill: 1 };

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
  const peers = peersByBroker(input.brokers, previous);
  const views = sortBrokers(input.brokers).map((b) =>
    observe(
      b,
      input.loads.get(b.name),
      previous.get(b.name),
      policy,
      nowMs,
      input.moving?.get(b.name),
      input.envoys?.get(b.name),
      peers.get(b.name),
    ),
  );

  const inPlan = views.filter((v) => !v.excluded);
  const neutral = neutralCapacity(
    inPlan.map((v) => v.known),
    inPlan.map((v) => (v.metrics === 'fresh' ? v.current : undefined)),
  );
  const assessed = inPlan.map((v): Assessed => {
    const capacity = resolveCapacity(v.known, neutral);
    const u = v.metrics === 'fresh' && v.current !== undefined ? utilisationOf(v.current, capacity, v.signals) : undefined;
    return { ...v, capacity, ...(u === undefined ? {} : { utilisation: u }) };
  });
  // The level the fleet converges to: total load over total capacity of the brokers taking new clients.
  const meanUtil = utilisationMean(assessed);
  const damped = policy.controller.mode === 'damped';
  const arrivals = averageArrivals(input.previous?.arrivals, arrivalsOf(input.envoys), nowMs);
  const filling = damped ? undefined : fillReason(assessed, meanUtil, policy, input.previous?.filling === true);
  const verdicts = assessed.map((a) => overloadVerdict(a, nowMs, damped));
  const weighed = assessed
    .map((a, i) => [a, verdicts[i]] as const)
    .filter(([a]) => a.pin === undefined && !a.draining && a.metrics === 'fresh');
  const fleet: FleetContext = {
    policy,
    nowMs,
    meanUtil,
    meanCapacity: weightedMean(assessed.filter((a) => a.pin === undefined).map((a) => [a.capacity.connections, 1])) ?? 1,
    ...(filling === undefined ? {} : { filling }),
    ...(damped ? { gain: fleetGain(assessed, arrivals?.perSec, policy) } : {}),
    everyCut: damped && weighed.length > 1 && weighed.every(([, v]) => cutHard(v, damped)),
    // The room an overloaded broker's clients would go to: the brokers that are not cut.
    roomUtil: utilisationMean(assessed.filter((_, i) => !cutHard(verdicts[i], damped))),
  };
  const planned = assessed.map((a, i) => decide(a, verdicts[i], fleet));

  const fitted = fitWeightSum(planned.map((d) => d.decision.weight));
  const scaled = fitted.factor < 1 ? `; scaled x${fmt(fitted.factor, 6)} to keep the weight sum within uint32` : '';
  const published = planned.map((d, i): BrokerDecision => ({
    ...d.decision,
    weight: fitted.weights[i],
    reason: d.decision.reason + scaled,
  }));
  const endpoints = published.map((d, i): PlannedEndpoint => {
    const { name, address, port, websocketPort } = assessed[i].broker;
    return { name, address, port, ...(websocketPort === undefined ? {} : { websocketPort }), weight: d.weight, health: d.health };
  });
  const plan: WeightPlan = { endpoints };
  const decisions = [...published, ...views.filter((v) => v.excluded).map(excludedDecision)].sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
  return {
    plan,
    state: {
      brokers: planned.map((d) => d.state),
      plan,
      ...(filling === undefined ? {} : { filling: true }),
      ...(arrivals.samples === undefined ? {} : { arrivals: arrivals.samples }),
    },
    decisions,
    changed: !samePlan(input.previous?.plan, plan),
  };
}

function decide(a: Assessed, verdict: OverloadVerdict, fleet: FleetContext): Decided {
  const { policy, nowMs } = fleet;
  const last = a.state.weight;
  const fair = (policy.weightScale * a.capacity.connections) / fleet.meanCapacity;
  const { overloadedAtMs, samples: overloadSamples, calmSamples, severity: overloadSeverity } = verdict;
  let overloaded = false;
  let severeCut = false;
  const done = (weight: number, reason: string, factors: Factors = NO_FACTORS, heldError?: number): Decided => ({
    state: compact({ ...a.state, weight, heldError, overloadedAtMs, overloadSamples, calmSamples, overloadSeverity }),
    decision: {
      name: a.broker.name,
      weight,
      health: a.draining ? 'draining' : 'serving',
      excluded: false,
      ...(a.utilisation === undefined ? {} : { utilisation: a.utilisation }),
      capacity: a.capacity.connections,
      capacitySource: a.capacity.source,
      factors,
      reason,
      inputs: a.inputs,
      ...(a.missing.length > 0 ? { missingSignals: a.missing } : {}),
      ...(a.suspect === undefined ? {} : { suspect: { reason: a.suspect } }),
      ...(a.slowPage === undefined ? {} : { slowPage: a.slowPage }),
      ...(overloaded ? { overloaded: true as const } : {}),
      ...(severeCut ? { overloadSevere: true as const } : {}),
      ...(a.pin === undefined ? {} : { pinned: true as const }),
    },
  });

  if (a.pin !== undefined) {
    const drain = a.draining ? `draining (no new connections${a.movingWhy ? `: ${a.movingWhy}` : ''}); ` : '';
    return done(a.pin.weight, `${drain}pinned to ${a.pin.weight} by ${a.pin.by}`);
  }
  if (a.draining) {
    const kept = last ?? limitWeight(fair, undefined, { urgentDecrease: false, hold: false }, policy).weight;
    const why = a.movingWhy ? ` (${a.movingWhy})` : '';
    return done(kept, `draining${why}: no new connections; weight ${kept} kept for when the drain ends`);
  }

  const { windowMs, startFraction } = policy.slowStart;
  const progress = slowStartProgress(a.state.firstSeenMs, nowMs, windowMs);
  const ramp = slowStart(progress, startFraction, nowMs - a.state.firstSeenMs, windowMs);
  const reasons = [`fair share ${Math.round(fair)}`];
  let factors: Factors = { ...NO_FACTORS, slowStart: ramp.value };
  let target: number;
  let urgentDecrease = false;
  let hold = false;

  if (a.metrics === 'fresh') {
    const cause = verdict.cut;
    const lifted = cause !== undefined && fleet.everyCut;
    const hot = cause !== undefined && !lifted;
    overloaded = hot;
    // Damped: a severe overload counts the broker as full and cuts it as deep as the brokers
    // that would take its clients have room for; a mild one (at a threshold) only denies it
    // more than its fair share, so brokers hovering there do not take turns at a deep cut.
    const severe = hot && (fleet.gain === undefined || cutHard(verdict, true));
    const mild = hot && !severe;
    severeCut = severe;
    const room = fleet.roomUtil ?? fleet.meanUtil;
    const settings = { ...policy.controller, ...policy.catchUp };
    const controlled =
      fleet.gain === undefined
        ? catchUp(a.utilisation, fleet.meanUtil, policy.catchUp, a.capacity.connections, progress)
        : severe
          ? dampedFactor(
              a.utilisation,
              room,
              { ...fleet.gain, value: policy.controller.maxGain },
              settings,
              a.capacity.connections,
              progress,
              fullOf(a, room),
            )
          : dampedFactor(a.utilisation, fleet.meanUtil, fleet.gain, settings, a.capacity.connections, progress);
    const boost = mild && controlled.value > 1 ? { value: 1, reason: `${controlled.reason}, held at x1 while overloaded` } : controlled;
    const overload = hot && fleet.gain === undefined ? a.overload.weightFactor : 1;
    factors = { ...factors, catchUp: boost.value, overload };
    reasons.push(boost.reason);
    if (fleet.gain !== undefined) reasons.push(fleet.gain.reason);
    if (lifted) reasons.push(`${cause}: overloaded, but so is every broker: no cut (the fleet needs capacity)`);
    else if (severe && fleet.gain !== undefined) reasons.push(`${cause}: overloaded, counted as full`);
    else if (mild && verdict.calming === true) reasons.push(`${cause}: calm again, no more than its fair share until the cut ends`);
    else if (mild) reasons.push(`${cause}: overloaded at its threshold, no more than its fair share`);
    else if (hot) reasons.push(`${cause}: overloaded, x${overload}`);
    if (verdict.pending !== undefined) reasons.push(verdict.pending);
    // Fill: a broker at or above the mean gives way while another is far below it.
    const fill =
      fleet.filling !== undefined && a.utilisation !== undefined && fleet.meanUtil !== undefined && a.utilisation >= fleet.meanUtil
        ? policy.catchUp.fill.weightFactor
        : 1;
    if (fill < 1) reasons.push(`${fleet.filling}: fill x${fill}`);
    factors = { ...factors, fill };
    urgentDecrease = severe || fill < 1;
    target = fair * boost.value * ramp.value * overload * fill;
  } else if (a.metrics === 'stale') {
    const neutral = fair * ramp.value;
    const staleForMs = nowMs - (a.state.staleSinceMs ?? nowMs);
    const blend = staleBlend(a.state.staleHoldWeight ?? neutral, neutral, staleForMs, policy.stale.graceMs, policy.stale.decayMs);
    factors = { ...factors, stale: neutral > 0 ? blend.weight / neutral : 1 };
    reasons.push(blend.reason);
    hold = blend.holding;
    target = blend.weight;
  } else {
    reasons.push('not scraped yet: neutral');
    target = fair * ramp.value;
  }
  if (ramp.reason !== '') reasons.push(ramp.reason);
  const newSample = a.metrics === 'fresh' && a.newSample;
  const limited = limitWeight(target, last, { urgentDecrease, hold, newSample, heldError: a.state.heldError }, policy);
  if (limited.reason !== '') reasons.push(limited.reason);
  return done(limited.weight, reasons.join('; '), factors, limited.heldError);
}

function excludedDecision(v: View): BrokerDecision {
  return {
    name: v.broker.name,
    weight: 0,
    health: v.draining ? 'draining' : 'serving',
    excluded: true,
    capacitySource: v.known.source ?? 'neutral',
    factors: NO_FACTORS,
    reason: 'excluded by policy override: not in EDS, its established connections stay',
    inputs: v.inputs,
  };
}

/** Total load over total capacity of those of these brokers that take new clients and have a utilisation. */
function utilisationMean(brokers: readonly Assessed[]): number | undefined {
  return weightedMean(
    brokers.filter((a) => !a.draining && a.utilisation !== undefined).map((a) => [a.utilisation!, a.capacity.connections]),
  );
}
