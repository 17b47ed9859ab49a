// Moves established connections on purpose: drains and rebalancing through the brokers'
// agents (docs/rebalancing.md). step() decides (a pure state machine); Rebalancer performs its actions.
export * from './ack';
export * from './agent-client';
export * from './choose';
export * from './drain-status';
export * from './phases';
export * from './plan';
export * from './rebalancer';
export * from './sources';
export * from './sticky-salts';
export { INITIAL_STATE, type RebalanceAction, type RebalanceEvent, type RebalanceState, type World } from './state';
export * from './step';
