// The small types the stages meet through: discovery yields Brokers, balancing turns them
// into a WeightPlan, translation turns the plan into Envoy resources.
export * from './broker';
export * from './weight-plan';
