// The static weights an operator who knows the node sizes would configure: each broker's
// weight ∝ its capacity, the largest at `maxWeight` (HAProxy's weights go up to 256), and
// never below 1, since a weight of 0 takes a server out of rotation.
import type { BrokerSpec } from '../scenario';

export const MAX_STATIC_WEIGHT = 256;

export function capacityWeights(brokers: readonly BrokerSpec[], maxWeight = MAX_STATIC_WEIGHT): Map<string, number> {
  const largest = Math.max(...brokers.map((b) => b.capacity));
  return new Map(brokers.map((b) => [b.name, Math.max(1, Math.round((maxWeight * b.capacity) / largest))]));
}
