// The scale-out signal: how full the fleet is, and how many brokers it would take to bring
// it to the policy's target utilisation. Pure; exported as gauges for KEDA or an HPA
// (docs/autoscaling.md). Brokers count with the capacity balancing assumed for them, so a
// large broker weighs more than a small one, as it does in the weights.
import type { BrokerDecision } from './weights';

export interface FleetSignal {
  /** Connections-equivalent load over capacity, of the brokers with both known; undefined without any. */
  readonly utilisation?: number;
  /** Brokers of the fleet's mean capacity needed to carry that load at the target; undefined without any. */
  readonly recommendedBrokers?: number;
  /** Brokers the figures are computed from. */
  readonly counted: number;
}

export function fleetSignal(decisions: readonly BrokerDecision[], targetUtilisation: number): FleetSignal {
  let load = 0;
  let capacity = 0;
  let counted = 0;
  for (const d of decisions) {
    // An excluded broker serves nobody. A draining one still counts until discovery drops it:
    // the rebalancer marks brokers DRAINING for seconds while it moves clients, and a signal
    // that jumped with each mark would have an autoscaler chase it.
    if (d.excluded) continue;
    if (d.utilisation === undefined || d.capacity === undefined || !(d.capacity > 0)) continue;
    load += d.utilisation * d.capacity;
    capacity += d.capacity;
    counted++;
  }
  if (counted === 0) return { counted };
  const meanCapacity = capacity / counted;
  return {
    utilisation: load / capacity,
    recommendedBrokers: Math.max(1, Math.ceil(load / (targetUtilisation * meanCapacity) - 1e-9)),
    counted,
  };
}
