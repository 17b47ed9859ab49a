import { analyse, fairShareFraction, imbalanceOf, joinResult } from '../../../test/bench/lb/analysis';
import type { StrategyRun } from '../../../test/bench/lb/samples';
import { parseScenario } from '../../../test/bench/lb/scenario-parse';
import type { Scenario } from '../../../test/bench/lb/scenario';
import { broker, NO_CLIENTS, sample } from './fixtures';

const SCENARIO: Scenario = (() => {
  const r = parseScenario(
    `
name: t
durationSec: 10
scrapeIntervalMs: 1000
brokers:
  - { name: a, capacity: 100 }
  - { name: b, capacity: 100, startSec: 2 }
populations:
  - { name: p, count: 10, arrival: { startSec: 0 }, traffic: { kind: subscriber } }
steadyStateSec: [5, 10]
`,
    't.yaml',
  );
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.value;
})();

describe('imbalanceOf and fairShareFraction', () => {
  it('is max / mean utilisation over the brokers present', () => {
    const s = sample(0, [
      broker('a', 60, { capacity: 100 }),
      broker('b', 20, { capacity: 100 }),
      broker('c', 90, { capacity: 100, present: false }),
    ]);
    expect(imbalanceOf(s)).toBeCloseTo(1.5, 10);
    expect(imbalanceOf(sample(0, [broker('a', 0)]))).toBeUndefined();
  });

  it('measures cost against the capacity share of the total cost', () => {
    const s = sample(0, [broker('big', 300, { capacity: 300 }), broker('small', 100, { capacity: 100 })]);
    expect(fairShareFraction(s, 'small')).toBeCloseTo(1, 10);
    expect(fairShareFraction(s, 'nobody')).toBeUndefined();
  });
});

describe('joinResult', () => {
  it('is the first sample after the join at 90 % of the fair share of cost', () => {
    const samples = [0, 1, 2, 3, 4].map((t) => sample(t + 2, [broker('a', 100 - t * 10), broker('b', t * 10)]));
    // b holds 30 of 100 at t = 5 (fair 50: 60 %) and 40 at t = 6 (80 %): never 90 % here.
    expect(joinResult(samples, 'b', 2)).toEqual({ broker: 'b', joinSec: 2, t90Sec: null });
    const filled = [...samples, sample(7, [broker('a', 52), broker('b', 48)])];
    expect(joinResult(filled, 'b', 2)).toEqual({ broker: 'b', joinSec: 2, t90Sec: 5 });
  });
});

describe('analyse', () => {
  const samples = Array.from({ length: 10 }, (_, i) =>
    sample(i + 1, [broker('a', i < 4 ? 120 : 50, { capacity: 100 }), broker('b', i < 4 ? 0 : 50, { capacity: 100, present: i + 1 >= 2 })], {
      clients: { ...NO_CLIENTS, attempts: 10 + i, connected: 10 },
      edsPushes: 100 + i * 2,
    }),
  );
  const run: StrategyRun = {
    strategy: 'mqtt-xds',
    label: 'mqtt-xds',
    samples,
    events: [],
    edsPushesAtStart: 100,
    wallSec: 20,
    workDir: '/tmp',
  };

  it('sums overload seconds, keeps the peak and the last client counters', () => {
    const r = analyse(SCENARIO, run);
    // a above 1.0 in the first four samples.
    expect(r.overloadSec).toBe(4);
    expect(r.peakUtilisation).toBeCloseTo(1.2, 10);
    expect(r.clients.attempts).toBe(19);
    expect(r.imbalance).toBeCloseTo(1, 10);
    expect(r.steady).toEqual({ a: { utilisation: 0.5, connections: 50 }, b: { utilisation: 0.5, connections: 50 } });
    expect(r.joins).toEqual([{ broker: 'b', joinSec: 2, t90Sec: 3 }]);
  });

  it('counts EDS pushes per 5 s, in the steady window and at the busiest', () => {
    const r = analyse(SCENARIO, run);
    // Two pushes a second throughout.
    expect(r.eds).toEqual({ perEnvoy: 18, per5sSteady: 10, max5s: 10 });
  });

  it('adds no move results to a scenario without agents, drains or kills', () => {
    const r = analyse(SCENARIO, run);
    expect(r.joinMoves).toBeUndefined();
    expect(r.drainResults).toBeUndefined();
    expect(r.killResults).toBeUndefined();
  });
});
