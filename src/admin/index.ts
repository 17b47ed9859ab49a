// Operator HTTP surface: liveness, readiness, Prometheus metrics and a JSON status page.
export * from './admin-server';
export * from './status';
export { rebalanceActions, type DrainControl, type OperatorActions } from './operator-routes';
export {
  configDump,
  proxyStatus,
  proxyViews,
  MAX_PROXIES,
  typeLabel,
  type ProxyViewSources,
  type ProxyStatusBody,
  type ConfigDumpBody,
  type ProxyRow,
} from './proxy-views';
export { registerReadyGauge } from './ready-gauge';
export { pageView, type PageView } from './status-view';
export { StatusEvents, STATUS_EVENTS_DEFAULTS, type StatusEventsOptions } from './status-events';
