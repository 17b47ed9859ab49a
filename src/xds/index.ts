// The versioned snapshot cache, the ADS gRPC server (SotW and Delta) and Envoy's load
// reports (LRS) on the same server. Envoy types and wire formats stop here and in translation/.
export * from './type-urls';
export * from './snapshot';
export * from './secret-trust';
export * from './cache';
export * from './ads-server';
export { LISTEN_BACKLOG } from './ads-transport';
export { MAX_NAMES_PER_STREAM, MAX_NAMES_TOTAL, MAX_NODE_ID_BYTES } from './request-limits';
export { STATUS_NAMES, type StreamKind, type StreamStatus } from './stream-status';
export * from './metrics';
export * from './messages';
export * from './tls-credentials';
export * from './node-identity';
export * from './sync-state';
export { dumpResource, redact, REDACTED, type DumpedResource } from './config-dump';
export { LrsMetrics, LrsService, MAX_LRS_STREAMS, type LoadReportSink, type LrsOptions } from './lrs-server';
export { REPORT_LIMITS, SEND_ALL_CLUSTERS_FEATURE, type LrsRejectReason, type ReportLimits } from './lrs-messages';
export { SYNC_STATES, registerSyncGauge, syncCounts, type SyncSource } from './sync-gauge';
