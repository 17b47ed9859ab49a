// Moves established connections on purpose: drains and rebalancing through the brokers'
// agents (docs/rebalancing.md). planMoves and chooseClients are pure; Rebalancer is the shell.
export * from './ack';
export * from './agent-client';
export * from './choose';
export * from './drain-status';
export * from './phases';
export * from './plan';
export * from './rebalancer';
export * from './sources';
