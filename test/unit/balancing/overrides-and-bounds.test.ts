import { computeWeights, type PolicyState } from '../../../src/balancing';
import { MAX_WEIGHT_SUM, type Broker } from '../../../src/domain';
import { broker, decisionOf, load, loads, rawWithClasses, RAW, rounds, tuned, weightsOf } from './fixtures';

const NOW = 1_000_000;
const abc = [broker('a'), broker('b'), broker('c')];
const steady = { a: { connections: 5000 }, b: { connections: 5000 }, c: { connections: 5000 } };

describe('overrides', () => {
  const bigA = { ...steady, a: { connections: 20_000 } };
  const bigC = { ...steady, c: { connections: 20_000 } };
  it.each<[string, ReturnType<typeof tuned>, Broker[], Record<string, { connections: number }>, Record<string, number>, string]>([
    // The pinned broker still counts in the fleet mean: b and c catch up on its load.
    [
      'a pinned weight is kept whatever the load',
      rawWithClasses({}, { overrides: { a: { weight: 500 } } }),
      abc,
      bigA,
      { a: 500, b: 2000, c: 2000 },
      'pinned to 500 by policy override',
    ],
    [
      'a weight from discovery pins too',
      RAW,
      [broker('a', { staticWeight: 7 }), broker('b'), broker('c')],
      steady,
      { a: 7, b: 1000, c: 1000 },
      'pinned to 7 by discovery',
    ],
    [
      'the policy override wins over discovery',
      tuned({ overrides: { a: { weight: 9 } } }, RAW),
      [broker('a', { staticWeight: 7 }), broker('b'), broker('c')],
      steady,
      { a: 9, b: 1000, c: 1000 },
      'pinned to 9 by policy override',
    ],
    [
      'a capacity class override',
      rawWithClasses({ a: 's', b: 's', c: 's' }, { overrides: { a: { capacityClass: 'l' } } }),
      abc,
      bigA,
      { a: 2000, b: 500, c: 500 },
      'fair share 2000',
    ],
    [
      'a capacity override merged over the class',
      rawWithClasses({ a: 's', b: 's', c: 's' }, { overrides: { c: { capacity: { connections: 40_000 } } } }),
      abc,
      bigC,
      { a: 500, b: 500, c: 2000 },
      'fair share 500',
    ],
  ])('%s', (_, policy, brokers, signals, expected, reason) => {
    const out = computeWeights({ brokers, loads: loads(NOW, signals), policy, nowMs: NOW });
    expect(weightsOf(out)).toEqual(expected);
    expect(decisionOf(out, 'a').reason).toContain(reason);
  });

  it('leaves an excluded broker out of the plan and out of every mean', () => {
    const policy = rawWithClasses({ a: 's', b: 's', c: 'l' }, { overrides: { c: { exclude: true } } });
    const out = computeWeights({ brokers: abc, loads: loads(NOW, { ...steady, c: { connections: 0 } }), policy, nowMs: NOW });
    expect(out.plan.endpoints.map((e) => e.name)).toEqual(['a', 'b']);
    expect(weightsOf(out)).toEqual({ a: 1000, b: 1000 });
    expect(decisionOf(out, 'c')).toMatchObject({ excluded: true, weight: 0 });
    expect(decisionOf(out, 'c').reason).toContain('not in EDS');
    expect(out.state.brokers.map((b) => b.name)).toEqual(['a', 'b']);
  });

  it.each<[string, ReturnType<typeof tuned>, Broker[]]>([
    ['by policy', rawWithClasses({ a: 's', b: 's', c: 's' }, { overrides: { a: { drain: true } } }), abc],
    ['by discovery', rawWithClasses({ a: 's', b: 's', c: 's' }), [broker('a', { draining: true }), broker('b'), broker('c')]],
  ])('drains (%s): DRAINING health, weight kept, out of the fleet mean', (_, drainPolicy, drainBrokers) => {
    const before = computeWeights({
      brokers: abc,
      loads: loads(NOW, { ...steady, a: { connections: 2500 } }),
      policy: rawWithClasses({ a: 's', b: 's', c: 's' }),
      nowMs: NOW,
    });
    const kept = weightsOf(before).a;
    const out = computeWeights({
      brokers: drainBrokers,
      loads: loads(NOW + 10_000, { ...steady, a: { connections: 100 } }),
      previous: before.state,
      policy: drainPolicy,
      nowMs: NOW + 10_000,
    });
    expect(out.plan.endpoints[0]).toMatchObject({ name: 'a', health: 'draining', weight: kept });
    expect(decisionOf(out, 'a').reason).toContain(`draining: no new connections; weight ${kept} kept`);
    // a's low utilisation would otherwise pull the mean down and cut b and c.
    expect(weightsOf(out)).toMatchObject({ b: 1000, c: 1000 });
  });

  it('gives a draining broker without history its fair share as the kept weight', () => {
    const policy = rawWithClasses({}, { overrides: { a: { drain: true } } });
    const out = computeWeights({ brokers: abc, loads: loads(NOW, steady), policy, nowMs: NOW });
    expect(out.plan.endpoints[0]).toMatchObject({ weight: 1000, health: 'draining' });
  });

  it('applies per-broker signal weights', () => {
    // b is judged by cpu alone (0.5), a by connections (0.25).
    const policy = rawWithClasses({ a: 's', b: 's' }, { overrides: { b: { signals: { connections: 0, cpu: 1 } } } });
    const out = computeWeights({
      brokers: [broker('a'), broker('b')],
      loads: loads(NOW, { a: { connections: 2500 }, b: { connections: 2500, cpu: 0.5 } }),
      policy,
      nowMs: NOW,
    });
    expect(decisionOf(out, 'b').utilisation).toBeCloseTo(0.5, 9);
    expect(decisionOf(out, 'a').utilisation).toBeCloseTo(0.25, 9);
  });
});

describe('bounds and the uint32 sum', () => {
  it.each<[string, ReturnType<typeof tuned>, Record<string, number>]>([
    ['ceiling caps a boost', rawWithClasses({ a: 's', b: 's', c: 's' }, { bounds: { ceiling: 1500 } }), { a: 1500, b: 667, c: 667 }],
    ['floor lifts a cut', rawWithClasses({ a: 's', b: 's', c: 's' }, { bounds: { floor: 800 } }), { a: 4000, b: 800, c: 800 }],
  ])('%s', (_, policy, expected) => {
    const out = computeWeights({ brokers: abc, loads: loads(NOW, { ...steady, a: { connections: 0 } }), policy, nowMs: NOW });
    expect(weightsOf(out)).toEqual(expected);
  });

  it('publishes integer weights of at least 1', () => {
    const policy = tuned({ weightScale: 1, bounds: { floor: 1, ceiling: 3 } }, RAW);
    const out = computeWeights({
      brokers: abc,
      loads: loads(NOW, { a: { connections: 1 }, b: { connections: 1000 }, c: { connections: 0, cpu: 0.99 } }),
      policy,
      nowMs: NOW,
    });
    for (const e of out.plan.endpoints) {
      expect(Number.isInteger(e.weight)).toBe(true);
      expect(e.weight).toBeGreaterThanOrEqual(1);
    }
  });

  it.each<[string, number, number]>([
    ['three brokers at a huge scale', 3, MAX_WEIGHT_SUM],
    ['a thousand brokers', 1000, 50_000_000],
  ])('keeps the weight sum within uint32 by scaling proportionally: %s', (_, n, scale) => {
    const policy = tuned({ weightScale: scale, bounds: { ceiling: MAX_WEIGHT_SUM } }, RAW);
    const brokers = Array.from({ length: n }, (_, i) => broker(`b${String(i).padStart(4, '0')}`));
    const m = new Map(brokers.map((b, i) => [b.name, load(b.name, NOW, { connections: i % 3 === 0 ? 100 : 5000 })]));
    const out = computeWeights({ brokers, loads: m, policy, nowMs: NOW });
    const sum = out.plan.endpoints.reduce((a, e) => a + e.weight, 0);
    expect(sum).toBeLessThanOrEqual(MAX_WEIGHT_SUM);
    expect(sum).toBeGreaterThan(MAX_WEIGHT_SUM * 0.999);
    expect(out.plan.endpoints.every((e) => Number.isInteger(e.weight) && e.weight >= 1)).toBe(true);
    expect(out.decisions[0].reason).toContain('to keep the weight sum within uint32');
    // Proportions survive: a boosted broker (i % 3 === 0) still outweighs a cut one.
    expect(out.plan.endpoints[0].weight).toBeGreaterThan(out.plan.endpoints[1].weight);
  });

  it('keeps the unscaled weight in the state, so scaling alone never looks like a change', () => {
    const policy = tuned(
      { weightScale: MAX_WEIGHT_SUM, bounds: { ceiling: MAX_WEIGHT_SUM } },
      tuned({ smoothing: { minRelativeChange: 0.1 } }, RAW),
    );
    const history = rounds(3, { brokers: abc, policy }, (_r, nowMs) => loads(nowMs, steady));
    expect(history.map((o) => o.changed)).toEqual([true, false, false]);
    expect(history[2].state.brokers[0].weight).toBe(MAX_WEIGHT_SUM);
  });
});

describe('determinism', () => {
  const policy = tuned({ capacity: { classes: { s: { connections: 10_000 } }, brokers: { a: 's' } } });
  const signals = { a: { connections: 1234, cpu: 0.31 }, b: { connections: 2345, cpu: 0.42 }, c: { connections: 3456, cpu: 0.93 } };

  function run(order: string[], previous?: PolicyState) {
    const brokers = order.map((n) => broker(n));
    const m = new Map(order.map((n) => [n, load(n, NOW, signals[n as keyof typeof signals])]));
    return computeWeights({ brokers, loads: m, previous, policy, nowMs: NOW });
  }

  it('gives the same outcome for the same inputs, whatever their order', () => {
    const first = run(['a', 'b', 'c']);
    expect(run(['c', 'a', 'b'])).toEqual(first);
    expect(run(['b', 'c', 'a'])).toEqual(first);
    expect(first.plan.endpoints.map((e) => e.name)).toEqual(['a', 'b', 'c']);
    expect(first.decisions.map((d) => d.name)).toEqual(['a', 'b', 'c']);
  });

  it('keeps its state as plain data: a replica that gets it as JSON computes the same', () => {
    const first = run(['a', 'b', 'c']);
    const copied = JSON.parse(JSON.stringify(first.state)) as PolicyState;
    const later = (previous: PolicyState) =>
      computeWeights({ brokers: abc, loads: loads(NOW + 10_000, signals), previous, policy, nowMs: NOW + 10_000 });
    expect(later(copied)).toEqual(later(first.state));
  });

  it('does not mutate its inputs', () => {
    const first = run(['a', 'b', 'c']);
    const snapshot = JSON.stringify(first.state);
    run(['a', 'b', 'c'], first.state);
    expect(JSON.stringify(first.state)).toBe(snapshot);
  });
});

describe('broker names', () => {
  it('does not mistake Object.prototype for an override or a class', () => {
    const brokers = [broker('constructor'), broker('b')];
    const out = computeWeights({
      brokers,
      loads: loads(NOW, { constructor: { connections: 5 }, b: { connections: 5 } }),
      policy: RAW,
      nowMs: NOW,
    });
    expect(out.plan.endpoints.map((e) => [e.name, e.weight, e.health])).toEqual([
      ['b', 1000, 'serving'],
      ['constructor', 1000, 'serving'],
    ]);
  });
});
