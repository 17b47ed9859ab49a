// Envoy's own view of the fleet: the connections every Envoy reports over LRS, added up per
// broker endpoint, as a second source of truth beside the brokers' metrics. Pure.
export * from './aggregator';
