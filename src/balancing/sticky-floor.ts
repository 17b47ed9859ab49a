import { MAX_WEIGHT_SUM, type PlannedEndpoint } from '../domain';
import { fmt } from './factors';
import { fitWeightSum } from './weight-limits';
import type { BrokerDecision } from './weights';

/**
 * In sticky placement a weight is two things to Envoy: a broker's share of the Maglev table
 * (where ids hash) and, through bounded load, its cap on the connections it holds: 1.25 × its
 * weighted share of all of them. The balancer's weights steer *new* connections: to fill a new
 * broker they give it several times its capacity share, and the other brokers a share below
 * what they already hold. Their caps then sit under their connections, and every reconnecting
 * id of theirs spills to its next choice (measured on scale-out-3-to-4: docs/lb-benchmark.md,
 * "Sticky weights floored at the connections held"). So a sticky cluster gives every serving
 * broker at least `floor` × its share of the connections held, but not more than its capacity
 * share, the brokers above their floor keeping their computed weights; a broker cut hard for
 * overload (counted as full), a pinned and a draining one get no floor.
 */
export interface FloorOutcome {
  readonly endpoints: readonly PlannedEndpoint[];
  /** Brokers raised to their floor: the computed weight and the one given, for the log. */
  readonly raised: Readonly<Record<string, string>>;
}

export function floorStickyWeights(next: readonly PlannedEndpoint[], decisions: readonly BrokerDecision[], floor: number): FloorOutcome {
  const none: FloorOutcome = { endpoints: next, raised: {} };
  if (floor <= 0) return none;
  const byName = new Map(decisions.map((d) => [d.name, d]));
  const held = (e: PlannedEndpoint): number => Math.max(0, byName.get(e.name)?.inputs.connections ?? 0);
  // Envoy's cap is a share of all its connections, a DRAINING broker's included.
  const total = next.reduce((sum, e) => sum + held(e), 0);
  const serving = next.filter((e) => e.health !== 'draining' && e.weight > 0);
  const weightSum = serving.reduce((sum, e) => sum + e.weight, 0);
  if (total <= 0 || weightSum <= 0 || serving.length < 2) return none;
  // No floor above a broker's capacity share: the floor keeps what a broker holds up to its
  // share, and what it holds beyond may spill, as under fixed weights. The share is the
  // operator's (capacity classes, hints) when every serving broker has one; else equal. An
  // inferred capacity is no ceiling: a broker that just joined has too little load to infer
  // from (measured: 36 connections for a broker of 400, which starved it).
  const stated = serving.every((e) => byName.get(e.name)?.capacitySource === 'hint' && byName.get(e.name)?.capacity !== undefined);
  const capacityOf = (e: PlannedEndpoint): number => (stated ? byName.get(e.name)!.capacity! : 1);
  const capacitySum = serving.reduce((sum, e) => sum + capacityOf(e), 0);
  const floors = new Map(
    serving.map((e) => {
      const d = byName.get(e.name);
      // A mild overload only holds a broker to its fair share, which the ceiling does too.
      const free = d === undefined || d.pinned === true || d.excluded || d.overloadSevere === true;
      const share = capacityOf(e) / capacitySum;
      return [e.name, free ? 0 : Math.min((floor * held(e)) / total, share)] as const;
    }),
  );
  // Water-filling over the shares: brokers below their floor are raised to it; the rest keep
  // their proportions, scaled by lambda (at most 1) to leave room.
  const raised = new Set<string>();
  let scale = weightSum;
  for (;;) {
    const fixedShare = [...raised].reduce((sum, n) => sum + floors.get(n)!, 0);
    const freeWeight = serving.filter((e) => !raised.has(e.name)).reduce((sum, e) => sum + e.weight, 0);
    if (freeWeight <= 0 || fixedShare >= 1) {
      // Every broker at its floor (a floor of 1, no connections elsewhere): the shares held.
      scale = weightSum / fixedShare;
      break;
    }
    const lambda = (1 - fixedShare) / (freeWeight / weightSum);
    // In weights: the free brokers keep theirs, a raised one gets its floor at the same scale.
    scale = weightSum / lambda;
    const below = serving.filter((e) => !raised.has(e.name) && e.weight < floors.get(e.name)! * scale);
    if (below.length === 0) break;
    for (const e of below) raised.add(e.name);
  }
  if (raised.size === 0) return none;
  const weights = next.map((e) => (raised.has(e.name) ? Math.max(1, Math.round(floors.get(e.name)! * scale)) : e.weight));
  const fitted = weights.reduce((a, b) => a + b, 0) > MAX_WEIGHT_SUM ? fitWeightSum(weights).weights : weights;
  const why: Record<string, string> = {};
  const endpoints = next.map((e, i) => {
    if (!raised.has(e.name)) return fitted[i] === e.weight ? e : { ...e, weight: fitted[i] };
    why[e.name] = `${e.weight} -> ${fitted[i]} (holds ${fmt((held(e) / total) * 100, 1)}% of the connections)`;
    return { ...e, weight: fitted[i] };
  });
  return { endpoints, raised: why };
}
