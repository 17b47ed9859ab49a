// Pure translation from the domain model to Envoy resources: one builder file per
// resource kind, no I/O, no clock. Envoy types stop here and in xds/.
export * from './model';
export * from './any';
export * from './listener';
export * from './network-filters';
export * from './mqtt-filter';
export * from './sticky-salts';
export * from './cluster';
export * from './proxy-protocol';
export * from './endpoint';
export * from './health-check';
export * from './secret';
export * from './resources';
export * from './validate';
