// Test support for the integration suites: real Envoy, real MQTT brokers and clients
// on 127.0.0.1, each started here and stoppable so nothing outlives a test file.
export * from './brokers';
export * from './envoy';
export { EnvoyAdmin, parseClusterHosts, parseConfigDumpVersions } from './envoy-admin';
export { bootstrapPath, renderBootstrap } from './envoy-bootstrap';
export * from './hivemq';
export * from './mqtt-clients';
export * from './ports';
export * from './wait';
