// The versioned snapshot cache and the ADS gRPC server (State-of-the-World and Delta).
// Envoy types and wire formats stop here and in translation/.
export * from './type-urls';
export * from './snapshot';
export * from './cache';
export * from './ads-server';
export { LISTEN_BACKLOG } from './ads-transport';
export { MAX_NAMES_PER_STREAM, MAX_NAMES_TOTAL, MAX_NODE_ID_BYTES } from './request-limits';
export { STATUS_NAMES, type StreamKind, type StreamStatus } from './stream-status';
export * from './metrics';
export * from './messages';
export * from './tls-credentials';
export * from './node-identity';
