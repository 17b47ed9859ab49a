// The versioned snapshot cache and the ADS gRPC server (State-of-the-World and Delta).
// Envoy types and wire formats stop here and in translation/.
export * from './type-urls';
export * from './snapshot';
export * from './cache';
export * from './ads-server';
export * from './metrics';
export * from './messages';
export * from './tls-credentials';
export * from './node-identity';
