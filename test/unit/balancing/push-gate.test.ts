import { gatePush } from '../../../src/balancing';
import type { WeightPlan } from '../../../src/domain';

const plan = (...weights: number[]): WeightPlan => ({
  endpoints: weights.map((weight, i) => ({ name: `b${i}`, address: `10.0.0.${i}`, port: 1883, weight, health: 'serving' as const })),
});

describe('gatePush', () => {
  it('pushes the first plan at once', () => {
    expect(gatePush(undefined, plan(1, 1), 0, 0, 5000)).toEqual({ push: true, why: 'first plan' });
  });

  it('holds a weight adjustment until the interval since the last push is over', () => {
    expect(gatePush(plan(1000, 1000), plan(1100, 900), 10_000, 12_000, 5000)).toEqual({ push: false, retryAtMs: 15_000 });
    expect(gatePush(plan(1000, 1000), plan(1100, 900), 10_000, 15_000, 5000)).toMatchObject({ push: true });
  });

  it('pushes an overload cut at once', () => {
    expect(gatePush(plan(1000, 1000), plan(10, 1000), 10_000, 10_001, 5000)).toEqual({
      push: true,
      why: 'weight of b0 cut from 1000 to 10',
    });
  });

  it('pushes membership and health changes at once', () => {
    expect(gatePush(plan(1000, 1000), plan(1000, 1000, 1000), 10_000, 10_001, 5000).push).toBe(true);
    const draining: WeightPlan = {
      endpoints: plan(1000, 1000).endpoints.map((e, i) => (i === 0 ? { ...e, health: 'draining' as const } : e)),
    };
    expect(gatePush(plan(1000, 1000), draining, 10_000, 10_001, 5000).push).toBe(true);
  });

  it('lets every change through when the interval is zero', () => {
    expect(gatePush(plan(1000, 1000), plan(1001, 999), 10_000, 10_000, 0).push).toBe(true);
  });
});
