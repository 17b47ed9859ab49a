// Publishing runner: weight plan → model (with derived limits) → Envoy resources → snapshot,
// behind the debounce and the push gate. Owns its timers (via the Clock) and its status().
export * from './model';
export * from './publisher';
export * from './drain-ack';
export * from './tenant-pools';
export * from './mqtt-filter-module';
