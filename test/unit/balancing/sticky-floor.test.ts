import { floorStickyWeights, type BrokerDecision } from '../../../src/balancing';
import type { EndpointHealth, PlannedEndpoint } from '../../../src/domain';

const endpoints = (weights: Record<string, number>, health: Record<string, EndpointHealth> = {}): PlannedEndpoint[] =>
  Object.entries(weights).map(([name, weight], i) => ({
    name,
    address: `10.0.0.${i + 1}`,
    port: 1883,
    weight,
    health: health[name] ?? 'serving',
  }));

const decision = (name: string, connections: number | undefined, extra: Partial<BrokerDecision> = {}): BrokerDecision => ({
  name,
  weight: 0,
  health: 'serving',
  excluded: false,
  capacitySource: 'hint',
  factors: { catchUp: 1, slowStart: 1, overload: 1, stale: 1, fill: 1 },
  reason: '',
  inputs: connections === undefined ? {} : { connections },
  ...extra,
});
/** Connections held, and capacities the operator stated (1000 each unless given: no ceiling in the way). */
const held = (counts: Record<string, number>, capacities: Record<string, number> = {}): BrokerDecision[] =>
  Object.entries(counts).map(([n, c]) => decision(n, c, { capacity: capacities[n] ?? 1000 }));
const weightsOf = (eps: readonly PlannedEndpoint[]): Record<string, number> => Object.fromEntries(eps.map((e) => [e.name, e.weight]));
const shares = (eps: readonly PlannedEndpoint[]): Record<string, number> => {
  const serving = eps.filter((e) => e.health !== 'draining');
  const sum = serving.reduce((s, e) => s + e.weight, 0);
  return Object.fromEntries(serving.map((e) => [e.name, e.weight / sum]));
};

describe('floorStickyWeights', () => {
  it('raises no broker above its capacity share: at the join, the new broker gets its own share', () => {
    const next = endpoints({ b1: 250, b2: 250, b3: 250, b4: 4000 });
    const decisions = Object.entries({ b1: 323, b2: 323, b3: 324, b4: 0 }).map(([n, c]) => decision(n, c, { capacity: 400 }));
    const s = shares(floorStickyWeights(next, decisions, 0.9).endpoints);
    for (const b of ['b1', 'b2', 'b3', 'b4']) expect(s[b]).toBeCloseTo(0.25, 3);
    // Below its capacity share the floor stands: a broker of a third of the capacity holding 30 %.
    const small = ['a', 'b', 'c'].map((n, i) => decision(n, [300, 350, 350][i], { capacity: 400 }));
    const out = floorStickyWeights(endpoints({ a: 100, b: 1000, c: 1000 }), small, 0.9);
    expect(shares(out.endpoints).a).toBeCloseTo(0.27, 3);
  });

  it('takes an equal share as the ceiling unless the operator stated every capacity', () => {
    // A broker that just joined infers a tiny capacity from its tiny load: it is no ceiling.
    const next = endpoints({ b1: 250, b2: 250, b3: 250, b4: 4000 });
    const inferred = Object.entries({ b1: 323, b2: 323, b3: 324, b4: 0 }).map(([n, c]) =>
      decision(n, c, { capacity: n === 'b4' ? 36 : 330, capacitySource: 'inferred' }),
    );
    const s = shares(floorStickyWeights(next, inferred, 0.9).endpoints);
    for (const b of ['b1', 'b2', 'b3', 'b4']) expect(s[b]).toBeCloseTo(0.25, 3);
    // Stated capacities 1 : 2 : 4: the small broker's floor stops at a seventh.
    const stated = ['s', 'm', 'l'].map((n, i) => decision(n, [300, 300, 400][i], { capacity: [100, 200, 400][i] }));
    expect(shares(floorStickyWeights(endpoints({ s: 10, m: 1000, l: 1000 }), stated, 0.9).endpoints).s).toBeCloseTo(1 / 7, 3);
  });

  it('changes nothing while every weighted share is at or above its floor', () => {
    const next = endpoints({ a: 1000, b: 1000, c: 1000 });
    const out = floorStickyWeights(next, held({ a: 300, b: 330, c: 370 }), 0.9);
    expect(out.endpoints).toBe(next);
    expect(out.raised).toEqual({});
  });

  it('raises only those below, the others keeping their proportions', () => {
    const out = floorStickyWeights(endpoints({ a: 100, b: 1400, c: 1600 }), held({ a: 600, b: 150, c: 250 }, { a: 3000 }), 0.9);
    const s = shares(out.endpoints);
    expect(s.a).toBeCloseTo(0.54, 2);
    expect(weightsOf(out.endpoints)).toMatchObject({ b: 1400, c: 1600 });
    expect(Object.keys(out.raised)).toEqual(['a']);
    // Raising one can push another under its floor: it is raised in turn.
    const chained = floorStickyWeights(endpoints({ a: 100, b: 1000, c: 2000 }), held({ a: 500, b: 250, c: 250 }, { a: 2000 }), 0.9);
    expect(Object.keys(chained.raised)).toEqual(['a', 'b']);
    expect(shares(chained.endpoints)).toMatchObject({ a: expect.closeTo(0.45, 2), b: expect.closeTo(0.225, 2) });
  });

  it('floors a broker overloaded at its threshold up to its capacity share', () => {
    // The balancer holds it to its fair share: the floor keeps it there, so its cap does not
    // drop under what it holds and push its own ids away.
    const mild = [decision('a', 400, { overloaded: true }), decision('b', 300), decision('c', 300)];
    expect(shares(floorStickyWeights(endpoints({ a: 50, b: 1000, c: 1000 }), mild, 0.9).endpoints).a).toBeCloseTo(0.333, 3);
  });

  it('gives no floor to a broker cut hard for overload or pinned, and leaves a DRAINING one as it is', () => {
    const decisions = [
      decision('a', 500, { overloaded: true, overloadSevere: true }),
      decision('b', 300, { pinned: true }),
      decision('c', 100),
      decision('d', 100),
    ];
    const next = endpoints({ a: 10, b: 5, c: 1000, d: 1000 });
    expect(floorStickyWeights(next, decisions, 0.9).endpoints).toBe(next);
    // Draining: untouched, but its connections count in the total Envoy's cap is a share of.
    const drained = floorStickyWeights(endpoints({ a: 700, b: 100, c: 1000 }, { a: 'draining' }), held({ a: 600, b: 300, c: 100 }), 0.9);
    expect(weightsOf(drained.endpoints).a).toBe(700);
    expect(shares(drained.endpoints).b).toBeCloseTo(0.27, 2);
  });

  it('does nothing with a floor of 0, without connection counts, or with one serving broker', () => {
    const next = endpoints({ a: 100, b: 1000 });
    expect(floorStickyWeights(next, held({ a: 500, b: 10 }), 0).endpoints).toBe(next);
    expect(floorStickyWeights(next, [decision('a', undefined), decision('b', undefined)], 0.9).endpoints).toBe(next);
    expect(floorStickyWeights(endpoints({ a: 100 }), held({ a: 500 }), 0.9).endpoints).toEqual(endpoints({ a: 100 }));
  });

  it('keeps the weight sum within uint32', () => {
    const big = 2_000_000_000;
    const out = floorStickyWeights(endpoints({ a: 1, b: big, c: big }), held({ a: 900, b: 50, c: 50 }, { a: 1_000_000, b: 1, c: 1 }), 1);
    const sum = out.endpoints.reduce((s, e) => s + e.weight, 0);
    expect(sum).toBeLessThanOrEqual(0xffff_ffff);
    expect(shares(out.endpoints).a).toBeGreaterThan(0.85);
  });
});
