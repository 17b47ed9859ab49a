// Pure balancing: brokers, their scraped loads, the operator's policy and the time in; a
// WeightPlan (with the reasons for it) out. No I/O, no clock.
export * from './static-weights';
export { computeWeights, type BrokerDecision, type Factors, type WeighInput, type WeighOutcome } from './weights';
export type { BrokerState, PolicyState } from './policy-state';
export { gatePush, type PushVerdict } from './push-gate';
export { awaitingScrape } from './awaiting';
export { fleetSignal, type FleetSignal } from './fleet-signal';
export { floorStickyWeights, type FloorOutcome } from './sticky-floor';
export { holdStickyWeights, type HoldOptions, type HoldOutcome } from './sticky-hold';
