// Runners for the stages whose libraries live elsewhere: discovery, policy, leader election,
// the Envoy view, the missing-signal and suspect reports, and the credentials read before any of them
// starts. src/main.ts only connects them.
export * from './discovery-runner';
export * from './envoy-view-runner';
export * from './leader-runner';
export * from './missing-signals';
export * from './policy-runner';
export * from './credentials';
export * from './stages';
export * from './suspect-report';
export * from './fleet-signal-gauges';
