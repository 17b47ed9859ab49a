import type { StrategyResult } from '../../../test/bench/lb/analysis';
import { DrainTracker } from '../../../test/bench/lb/drain-watch';
import { analyseMoves, drainResult, joinMove, killResult, perHostLimit, scenarioPolicy } from '../../../test/bench/lb/move-results';
import { moveTables } from '../../../test/bench/lb/report';
import type { StrategyRun } from '../../../test/bench/lb/samples';
import { parseScenario } from '../../../test/bench/lb/scenario-parse';
import type { Scenario } from '../../../test/bench/lb/scenario';
import { broker, sample, series, timeline } from './fixtures';

function scenario(extra: string): Scenario {
  const text = `
name: t
durationSec: 90
scrapeIntervalMs: 1000
brokers:
  - { name: b1, capacity: 1500 }
  - { name: b2, capacity: 1500 }
  - { name: b3, capacity: 1500, startSec: 30 }
populations:
  - { name: p, count: 100, arrival: { startSec: 0 }, traffic: { kind: subscriber } }
steadyStateSec: 10
${extra}`;
  const r = parseScenario(text, 't.yaml');
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.value;
}

describe('joinMove', () => {
  // 3 × 1000 on b1..b3, b4 joins at 35: 750 must move.
  const samples = series(34, {
    b1: [1000, 1000, 1000, 900, 800, 750],
    b2: [1000, 1000, 1000, 900, 800, 750],
    b3: [1000, 1000, 1000, 900, 800, 750],
    b4: [undefined as unknown as number, 0, 0, 300, 600, 750],
  }).map((s, i) => ({ ...s, rebalanceDisconnects: [0, 0, 0, 300, 600, 780][i] }));
  // 780 closes, 100 in each of the seconds at 37.0 and 38.0 .. plus a few late ones.
  const disconnects = [
    ...Array.from({ length: 300 }, (_, i) => 37_000 + i),
    ...Array.from({ length: 300 }, (_, i) => 38_000 + i),
    ...Array.from({ length: 180 }, (_, i) => 39_000 + i),
  ];

  it('compares the disconnects caused with the excess the join left', () => {
    const r = joinMove(samples, timeline({ disconnects, failures: [36_000] }), 'b4', 35);
    expect(r).toMatchObject({
      broker: 'b4',
      joinSec: 35,
      t90Sec: 4,
      minimumMoves: 750,
      disconnects: 780,
      ratio: 1.04,
      agentDisconnects: 780,
      failedAfter: 1,
      lastMoveSec: 4.18,
    });
    expect(r.peakRate).toEqual({ count: 300, atMs: 37_000 });
    // The sources count from 107 % (t = 38) on; nobody went higher after that.
    expect(r.peakShare).toEqual({ share: 1.067, broker: 'b1', atSec: 38 });
    expect(r.endShare).toEqual({ share: 1, broker: 'b1', atSec: 39 });
  });

  it('takes the excess from the first sample that has the new broker in the balancer', () => {
    // b4 starts at 35 but is in the balancer only from 36 on (a 5 s scrape saw it late).
    const late = samples.map((s) =>
      s.tSec === 35 ? { ...s, brokers: s.brokers.map((b) => (b.name === 'b4' ? { ...b, present: false } : b)) } : s,
    );
    const r = joinMove(late, timeline({ disconnects }), 'b4', 35);
    expect(r.minimumMoves).toBe(750);
    expect(r.peakShare).toEqual({ share: 1.067, broker: 'b1', atSec: 38 });
  });

  it('has no ratio when nothing needed moving', () => {
    const even = series(0, { a: [10, 10], b: [10, 10] });
    expect(joinMove(even, timeline({}), 'b', 0)).toMatchObject({ minimumMoves: 0, ratio: null, lastMoveSec: null, t90Sec: 0 });
  });
});

describe('DrainTracker and drainResult', () => {
  const policy = scenarioPolicy(scenario('policy:\n  rebalance: { ratePerSec: 150 }\n'));

  function drained(): DrainTracker {
    const t = new DrainTracker('b4', 40);
    t.observe({ atSec: 40, acked: false, envoyCx: 1000, connections: 1000, clientConnects: 1000 });
    t.observe({
      atSec: 40.2,
      acked: false,
      envoyCx: 1001,
      connections: 1000,
      clientConnects: 1001,
      progress: { state: 'draining', drained: false, moved: 0, phase: 'waiting-for-ack' },
    });
    // Seen DRAINING here; the counters of this poll may hold sessions from before the ACK.
    t.observe({
      atSec: 40.4,
      acked: true,
      envoyCx: 1003,
      connections: 1000,
      clientConnects: 1003,
      progress: { state: 'draining', drained: false, moved: 0, phase: 'waiting-for-ack' },
    });
    t.observe({
      atSec: 41.2,
      acked: true,
      envoyCx: 1003,
      connections: 900,
      clientConnects: 1003,
      progress: { state: 'draining', drained: false, moved: 100, phase: 'moving' },
    });
    t.observe({
      atSec: 51.2,
      acked: true,
      envoyCx: 1003,
      connections: 0,
      clientConnects: 1003,
      progress: { state: 'draining', drained: false, moved: 1001, phase: 'moving' },
    });
    t.observe({
      atSec: 52.2,
      acked: true,
      envoyCx: 1004,
      connections: 0,
      clientConnects: 1004,
      progress: { state: 'drained', drained: true, moved: 1001, phase: 'moving' },
    });
    return t;
  }

  it('keeps the last counters before the ACK was seen, the times and the phase changes', () => {
    const t = drained();
    expect(t.settled).toBe(true);
    expect(t.result()).toEqual({
      broker: 'b4',
      requestedAtSec: 40,
      connectionsAtRequest: 1000,
      ackSeenAtSec: 40.4,
      connectsBeforeAck: 1001,
      envoyCxBeforeAck: 1001,
      connectsAtEnd: 1004,
      envoyCxAtEnd: 1004,
      emptyAtSec: 51.2,
      drainedAtSec: 52.2,
      moved: 1001,
      phases: [
        { atSec: 40.2, phase: 'waiting-for-ack' },
        { atSec: 41.2, phase: 'moving' },
      ],
    });
  });

  it('turns the record into the drain targets', () => {
    const remaining = series(75, { b1: [1340, 1330], b2: [1330, 1330], b3: [1330, 1340], b4: [0, 0] });
    const r = drainResult(
      remaining,
      timeline({ disconnects: [41_300, 41_310, 42_305], failures: [10_000, 45_000] }),
      drained().result(),
      policy,
    );
    expect(r).toMatchObject({
      broker: 'b4',
      failedAfter: 1,
      ackAfterSec: 0.4,
      routedAfterAck: 3,
      envoyRoutedAfterAck: 3,
      configuredRatePerSec: 150,
      emptyAfterSec: 11.2,
      drainedAfterSec: 12.2,
      moved: 1001,
      peakRate: { count: 2, atMs: 41_300 },
    });
    expect(r.endImbalance).toBeCloseTo(1.005, 3);
  });

  it('reports nothing routed after an ACK that never came', () => {
    const t = new DrainTracker('b4', 40);
    t.observe({ atSec: 40, acked: false, connections: 5, clientConnects: 5 });
    t.observe({ atSec: 41, connections: 5, clientConnects: 9 });
    const r = drainResult([], timeline({}), t.result(), policy);
    expect(r).toMatchObject({ ackAfterSec: null, routedAfterAck: null, emptyAfterSec: null });
  });

  it('keeps the reason a drain could not be asked for', () => {
    const t = new DrainTracker('b4', 40);
    t.fail('this strategy has no drain API');
    expect(drainResult([], timeline({}), t.result(), policy).error).toBe('this strategy has no drain API');
  });
});

describe('killResult and the per-host limit', () => {
  it('derives the limit mqtt-xds gives Envoy, or none while capacities are unknown', () => {
    const explicit = scenario('policy:\n  limits: { connections: { perHost: 2500, cluster: 10000 } }\n');
    expect(perHostLimit(explicit, scenarioPolicy(explicit))).toBe(2500);
    const derived = scenario('policy:\n  capacity: { classes: { std: { connections: 2000 } }, default: std }\n');
    expect(perHostLimit(derived, scenarioPolicy(derived))).toBe(3000);
    const unknown = scenario('');
    expect(perHostLimit(unknown, scenarioPolicy(unknown))).toBeUndefined();
  });

  it('times the way back and checks the remaining brokers against the limit', () => {
    const samples = series(44, { b1: [2000], b2: [2000, 2000, 2600, 2600], b3: [0, 0, 1400, 1400] });
    const clients = timeline({
      connects: [...Array.from({ length: 4000 }, (_, i) => i), 45_900, 46_000, 47_500],
      disconnects: [45_010, 45_011, 45_012],
      failures: [45_600, 46_100],
    });
    const r = killResult(samples, clients, { broker: 'b1', atSec: 45, connectionsAtKill: 3 }, 2500);
    expect(r).toEqual({
      broker: 'b1',
      atSec: 45,
      connectionsAtKill: 3,
      allBackSec: 2.5,
      mostBackSec: 2.5,
      failedAfter: 2,
      disconnectsAfter: 3,
      peak: { broker: 'b2', connections: 2600 },
      perHostLimit: 2500,
      overLimit: true,
    });
    expect(killResult(samples, clients, { broker: 'b1', atSec: 45 }, undefined).overLimit).toBeUndefined();
  });

  it("splits Envoy's shedding counters into what happened after the kill", () => {
    const k = { broker: 'b1', atSec: 45, countersAtKill: { rateLimited: 10, connectFail: 0, overflow: 1, pendingOverflow: 0 } };
    const r = killResult([], timeline({}), k, undefined, { rateLimited: 1510, connectFail: 240, overflow: 1, pendingOverflow: 3 });
    expect(r.envoyCounters).toEqual({ rateLimited: 1500, connectFail: 240, overflow: 0, pendingOverflow: 3 });
  });
});

describe('analyseMoves and the tables', () => {
  const run = (over: Partial<StrategyRun>): StrategyRun => ({
    strategy: 'mqtt-xds',
    label: 'mqtt-xds',
    samples: [
      sample(30, [broker('b1', 50), broker('b2', 50), broker('b3', 0)]),
      sample(31, [broker('b1', 34), broker('b2', 33), broker('b3', 33)]),
    ],
    events: [],
    wallSec: 1,
    workDir: '/tmp',
    timeline: timeline({ disconnects: [30_500] }),
    ...over,
  });

  it('measures joins only in scenarios with agents, and drains and kills when they happened', () => {
    expect(analyseMoves(scenario(''), run({}))).toEqual({});
    const withAgents = analyseMoves(scenario('agents: true\n'), run({ kills: [{ broker: 'b2', atSec: 31 }] }));
    expect(withAgents.joinMoves?.map((j) => [j.broker, j.minimumMoves, j.disconnects])).toEqual([['b3', 33, 1]]);
    expect(withAgents.killResults?.map((k) => k.broker)).toEqual(['b2']);
    expect(withAgents.drainResults).toBeUndefined();
  });

  it('renders a row per strategy and says when a target is missed', () => {
    const s = scenario('agents: true\npolicy:\n  limits: { connections: { perHost: 40, cluster: 1000 } }\n');
    const result = {
      strategy: 'mqtt-xds' as const,
      label: 'mqtt-xds',
      ...analyseMoves(s, run({ kills: [{ broker: 'b3', atSec: 30, connectionsAtKill: 0 }] })),
    };
    const text = moveTables([result as unknown as StrategyResult]).join('\n');
    expect(text).toMatch(/\| mqtt-xds \| b3 \| 1 \| 1 \/ 33 \(0\.03\) \| – \| 102% \(b1 at 31 s\) \| 102% \(b1\) \| 1 \| 0 \| 0\.5 \|/);
    expect(text).toMatch(/\| mqtt-xds \| b3 \(0\) \| – \/ not by the end \| 0 \| – \| 1 \| b1 50 \| 40 \| \*\*yes\*\* \|/);
  });
});
