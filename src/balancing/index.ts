// Pure balancing: brokers (and, later, their scraped loads and the operator's policy)
// in, a WeightPlan out. No I/O, no clock.
export * from './static-weights';
