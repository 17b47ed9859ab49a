// Pure: policy + brokers + their loads → the limits Envoy enforces (circuit breakers,
// connection rate, connection duration). No I/O, no clock; translation turns them into Envoy config.
export * from './connection-limits';
