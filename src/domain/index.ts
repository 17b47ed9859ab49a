// The small types the stages meet through: discovery yields Brokers, scraping yields
// BrokerLoads, balancing turns both into a WeightPlan, translation turns the plan into
// Envoy resources; Envoys report their connections back as EnvoyLoadReports.
export * from './broker';
export * from './broker-load';
export * from './weight-plan';
export * from './envoy-report';
