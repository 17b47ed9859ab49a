// Operator HTTP surface: liveness, readiness, Prometheus metrics and a JSON status page.
export * from './admin-server';
export * from './status';
export { rebalanceActions, type DrainControl, type OperatorActions } from './operator-routes';
export { registerReadyGauge } from './ready-gauge';
