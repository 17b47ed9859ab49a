import { sortBrokers, type Broker, type WeightPlan } from '../domain';

/** The weight a broker gets when neither the file nor a policy says otherwise. */
export const DEFAULT_WEIGHT = 1;

/**
 * The plan for brokers with static weights: each broker's pinned weight, or the default.
 * A draining broker keeps its weight so that its share is known again if the drain is
 * cancelled; Envoy sends it no new connections while it is DRAINING.
 */
export function staticWeightPlan(brokers: readonly Broker[]): WeightPlan {
  return {
    endpoints: sortBrokers(brokers).map((b) => ({
      name: b.name,
      address: b.address,
      port: b.port,
      ...(b.websocketPort === undefined ? {} : { websocketPort: b.websocketPort }),
      weight: b.staticWeight ?? DEFAULT_WEIGHT,
      health: b.draining ? 'draining' : 'serving',
    })),
  };
}
