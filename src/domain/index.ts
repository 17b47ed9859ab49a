// The small types the stages meet through: discovery yields Brokers, scraping yields
// BrokerLoads, balancing turns both into a WeightPlan, translation turns the plan into
// Envoy resources.
export * from './broker';
export * from './broker-load';
export * from './weight-plan';
