import { computeWeights, type WeighOutcome } from '../../../src/balancing';
import { defaultPolicy, type Policy } from '../../../src/config/policy';
import type { Broker, BrokerLoad } from '../../../src/domain';
import { broker, load, PROPORTIONAL, tuned } from './fixtures';

// The worked examples of docs/policy.md for the proportional controller: the default policy
// with controller.mode proportional, overloads cut on one scrape and catchUp.quietConnections
// 0 (exact arithmetic), weights computed every 10 s.

function series(n: number, brokers: Broker[], policy: Policy, loads: (round: number, nowMs: number) => BrokerLoad[]): WeighOutcome[] {
  const out: WeighOutcome[] = [];
  for (let r = 0; r < n; r++) {
    const nowMs = 100_000 + r * 10_000;
    const m = new Map(loads(r, nowMs).map((l) => [l.broker, l]));
    out.push(computeWeights({ brokers, loads: m, previous: out[r - 1]?.state, policy, nowMs }));
  }
  return out;
}

const weight = (o: WeighOutcome, name: string): number => o.plan.endpoints.find((e) => e.name === name)!.weight;

describe('docs/policy.md worked examples', () => {
  const abc = [broker('broker-a'), broker('broker-b'), broker('broker-c')];
  const classes = tuned(
    {
      catchUp: { quietConnections: 0, fill: { below: 'off' } },
      capacity: {
        classes: { small: { connections: 10_000 }, medium: { connections: 20_000 }, large: { connections: 40_000 } },
        brokers: { 'broker-a': 'small', 'broker-b': 'medium', 'broker-c': 'large' },
      },
    },
    PROPORTIONAL,
  );
  const even = (nowMs: number, cpuOfC = 0.5): BrokerLoad[] => [
    load('broker-a', nowMs, { connections: 6000 }),
    load('broker-b', nowMs, { connections: 6000 }),
    load('broker-c', nowMs, { connections: 6000, cpu: cpuOfC }),
  ];

  it('catch-up: 184, 735 and 2939 for utilisations 0.60, 0.30 and 0.15 once slow start is over', () => {
    const last = series(7, abc, classes, (_r, nowMs) => even(nowMs))[6];
    expect(last.plan.endpoints.map((e) => e.weight)).toEqual([184, 735, 2939]);
  });

  it('overload: 29 at once, held for 15 s, then at most x2 per computation', () => {
    const out = series(12, abc, classes, (r, nowMs) => even(nowMs, r === 7 ? 0.93 : 0.5));
    expect(out.slice(6).map((o) => weight(o, 'broker-c'))).toEqual([2939, 29, 29, 58, 116, 232]);
  });

  it('stale metrics: 2000 held for 30 s, the step below the hysteresis skipped, 1000 from 90 s', () => {
    // x at 0.25 and y at 0.75 of 10k: x's fair share is 1000, its catch-up x2.
    const policy = tuned(
      {
        catchUp: { quietConnections: 0, fill: { below: 'off' } },
        capacity: { classes: { s: { connections: 10_000 } }, default: 's' },
      },
      PROPORTIONAL,
    );
    const out = series(17, [broker('x'), broker('y')], policy, (r, nowMs) => [
      load('y', nowMs, { connections: 7500 }),
      ...(r < 7 ? [load('x', nowMs, { connections: 2500 })] : []),
    ]);
    expect(out.slice(6).map((o) => weight(o, 'x'))).toEqual([2000, 2000, 2000, 2000, 2000, 2000, 1667, 1500, 1333, 1167, 1000]);
  });

  it('slow start: 100, 200 (step limit), 400, 550, 700, 850, 1000', () => {
    const out = series(7, [broker('new')], defaultPolicy(), (_r, nowMs) => [load('new', nowMs, { connections: 100 })]);
    expect(out.map((o) => weight(o, 'new'))).toEqual([100, 200, 400, 550, 700, 850, 1000]);
  });
});
