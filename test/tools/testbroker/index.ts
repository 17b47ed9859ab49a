// Test brokers for the demo, the integration tests and the benchmarks: real MQTT brokers
// in child processes. The capacity broker simulates a HiveMQ node of a given size.
export { launchCapacityBroker, capacityBrokerScript, meshBrokers } from './launch';
export type { ClusterStatus, PeerStatus } from './cluster-link';
export type { LaunchOptions, LaunchedBroker, AdminReply, AgentRequest } from './launch';
export type { AgentClient, AgentClientList } from './capacity-agent';
export type { BrokerState } from './capacity-admin';
export type { ClientInfo } from './capacity-ledger';
export type { CapacityBrokerOptions } from './capacity-config';
export type { ProxyReport, ProxyReportQuery, ProxyConnectionRecord, ProxyCounts } from './proxy-ledger';
export type { ProxyHeader, ProxyTlvs, ProxySsl, ProxyRawTlv, ProxyEndpoint, ProxyErrorCode } from './proxy-header';
export type { ProxyMode } from './proxy-accept';
