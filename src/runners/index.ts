// Runners for the stages whose libraries live elsewhere: discovery, policy, leader election.
// Each owns its state, metrics and status(); src/main.ts only connects them.
export * from './discovery-runner';
export * from './leader-runner';
export * from './policy-runner';
