import { computeWeights, type PolicyState } from '../../../src/balancing';
import { defaultPolicy } from '../../../src/config/policy';
import type { BrokerLoad } from '../../../src/domain';
import { broker, load, splitByWeight } from './fixtures';

// A small closed-loop simulation: three brokers of capacity 1:2:4 that the policy is not
// told about. Their CPU follows a synthetic model (cpu = connections / capacity), clients
// arrive in batches split by the published weights, and a share of clients leaves each
// round. The weights should bring the TOTAL utilisation of all brokers together.

const brokers = [broker('small'), broker('medium'), broker('large')];
const CAPACITY = [10_000, 20_000, 40_000];

interface Run {
  readonly imbalance: number[];
  readonly largestBatchShare: number;
  readonly pushes: number;
}

function simulate(opts: { start: number[]; batch: number; churn: number; rounds: number }): Run {
  const connections = [...opts.start];
  const imbalance: number[] = [];
  let previous: PolicyState | undefined;
  let largestBatchShare = 0;
  let pushes = 0;
  for (let r = 0; r < opts.rounds; r++) {
    const nowMs = 10_000 * (r + 1);
    const loads = new Map<string, BrokerLoad>(
      brokers.map((b, i) => [b.name, load(b.name, nowMs, { connections: connections[i], cpu: connections[i] / CAPACITY[i] })]),
    );
    const out = computeWeights({ brokers, loads, previous, policy: defaultPolicy(), nowMs });
    previous = out.state;
    if (out.changed) pushes++;
    for (let i = 0; i < connections.length; i++) connections[i] -= Math.floor(connections[i] * opts.churn);
    const weight = new Map(out.plan.endpoints.map((e) => [e.name, e.weight]));
    const arrivals = splitByWeight(
      opts.batch,
      brokers.map((b) => weight.get(b.name)!),
    );
    arrivals.forEach((n, i) => (connections[i] += n));
    largestBatchShare = Math.max(largestBatchShare, ...arrivals.map((n, i) => n / opts.batch / (CAPACITY[i] / 70_000)));
    const util = connections.map((c, i) => c / CAPACITY[i]);
    const mean = connections.reduce((a, b) => a + b, 0) / 70_000;
    imbalance.push(Math.max(...util) / mean);
  }
  return { imbalance, largestBatchShare, pushes };
}

describe('convergence of total utilisation (capacities 1:2:4 inferred from cpu)', () => {
  it.each([
    ['from an even split of existing clients, with churn', { start: [3000, 3000, 3000], batch: 500, churn: 0.01, rounds: 60 }],
    ['from empty brokers, without churn', { start: [0, 0, 0], batch: 1000, churn: 0, rounds: 40 }],
    // The small broker sheds load only as its clients leave: slower, whatever the weights.
    ['from everything on the small broker', { start: [9000, 0, 0], batch: 800, churn: 0.02, rounds: 80 }],
  ])('%s: max/mean utilisation ends within 1.10', (_, opts) => {
    const run = simulate(opts);
    expect(run.imbalance[0]).toBeGreaterThan(1.5);
    expect(run.imbalance[run.imbalance.length - 1]).toBeLessThanOrEqual(1.1);
  });

  it('never herds: no broker gets more than maxBoost times its capacity share of a batch', () => {
    const run = simulate({ start: [9000, 0, 0], batch: 800, churn: 0.02, rounds: 60 });
    expect(run.largestBatchShare).toBeLessThanOrEqual(4);
  });

  it('stops pushing once the fleet is balanced', () => {
    const run = simulate({ start: [3000, 6000, 12_000], batch: 300, churn: 0.01, rounds: 40 });
    expect(run.imbalance.every((x) => x <= 1.1)).toBe(true);
    expect(run.pushes).toBeLessThanOrEqual(12);
  });
});
