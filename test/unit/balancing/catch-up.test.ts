import { computeWeights } from '../../../src/balancing';
import type { LoadSignals } from '../../../src/domain';
import { broker, decisionOf, loads, rawWithClasses, RAW, tuned, weightsOf } from './fixtures';

const NOW = 1_000_000;
const abc = [broker('a'), broker('b'), broker('c')];
const equal = rawWithClasses({ a: 's', b: 's', c: 's' });

describe('fair share and catch-up', () => {
  it.each<[string, Record<string, LoadSignals>, Record<string, number>]>([
    [
      'equal utilisation gives every broker weightScale',
      { a: { connections: 5000 }, b: { connections: 5000 }, c: { connections: 5000 } },
      { a: 1000, b: 1000, c: 1000 },
    ],
    [
      'below the mean gets more, above gets less, in proportion',
      { a: { connections: 3000 }, b: { connections: 6000 }, c: { connections: 9000 } },
      { a: 2000, b: 1000, c: 667 },
    ],
    [
      'an empty broker gets maxBoost, not every new client',
      { a: { connections: 0 }, b: { connections: 5000 }, c: { connections: 5000 } },
      { a: 4000, b: 667, c: 667 },
    ],
    [
      'the boost is bounded by maxBoost',
      { a: { connections: 100 }, b: { connections: 9000 }, c: { connections: 9000 } },
      { a: 4000, b: 670, c: 670 },
    ],
  ])('%s', (_, signals, expected) => {
    const out = computeWeights({ brokers: abc, loads: loads(NOW, signals), policy: equal, nowMs: NOW });
    expect(weightsOf(out)).toEqual(expected);
  });

  it('bounds the cut by 1/maxBoost', () => {
    // a: 9000/10k = 0.9, c: 800/40k = 0.02; fleet 9800/50k = 0.196; fair shares 400 and 1600.
    const policy = rawWithClasses({ a: 's', c: 'l' });
    const out = computeWeights({
      brokers: [broker('a'), broker('c')],
      loads: loads(NOW, { a: { connections: 9000 }, c: { connections: 800 } }),
      policy,
      nowMs: NOW,
    });
    expect(weightsOf(out)).toEqual({ a: 100, c: 6400 });
    expect(decisionOf(out, 'a').factors.catchUp).toBe(0.25);
  });

  it('explains the catch-up in the reason', () => {
    const out = computeWeights({
      brokers: abc,
      loads: loads(NOW, { a: { connections: 3000 }, b: { connections: 6000 }, c: { connections: 9000 } }),
      policy: equal,
      nowMs: NOW,
    });
    expect(decisionOf(out, 'a').reason).toContain('util 0.30 vs mean 0.60: catch-up x2.00');
    expect(decisionOf(out, 'a')).toMatchObject({ utilisation: 0.3, capacity: 10_000, capacitySource: 'hint', factors: { catchUp: 2 } });
  });

  it('switches catch-up off with maxBoost 1', () => {
    const policy = rawWithClasses({ a: 's', b: 's', c: 's' }, { catchUp: { maxBoost: 1 } });
    const out = computeWeights({
      brokers: abc,
      loads: loads(NOW, { a: { connections: 0 }, b: { connections: 5000 }, c: { connections: 9000 } }),
      policy,
      nowMs: NOW,
    });
    expect(weightsOf(out)).toEqual({ a: 1000, b: 1000, c: 1000 });
  });

  it('uses the capacity-weighted mean: the level the whole fleet converges to', () => {
    // a holds 9000 of 10k (0.9), c 4000 of 40k (0.1): fleet 13000/50000 = 0.26.
    const policy = rawWithClasses({ a: 's', c: 'l' });
    const out = computeWeights({
      brokers: [broker('a'), broker('c')],
      loads: loads(NOW, { a: { connections: 9000 }, c: { connections: 4000 } }),
      policy,
      nowMs: NOW,
    });
    expect(decisionOf(out, 'a').factors.catchUp).toBeCloseTo(0.26 / 0.9, 6);
    expect(decisionOf(out, 'c').factors.catchUp).toBeCloseTo(2.6, 6);
  });
});

describe('capacity', () => {
  const balanced = { a: { connections: 1000, cpu: 0.1 }, b: { connections: 2000, cpu: 0.1 }, c: { connections: 4000, cpu: 0.1 } };

  it.each<[string, ReturnType<typeof tuned>, Record<string, LoadSignals>, Record<string, number>, string]>([
    [
      'hints: fair share in proportion to class capacity',
      rawWithClasses({ a: 's', b: 'm', c: 'l' }),
      { a: { connections: 5000 }, b: { connections: 10000 }, c: { connections: 20000 } },
      { a: 429, b: 857, c: 1714 },
      'hint',
    ],
    ['auto: capacity inferred as connections / cpu', RAW, balanced, { a: 429, b: 857, c: 1714 }, 'inferred'],
    [
      'auto without cpu: all neutral, connection counts equalised',
      RAW,
      { a: { connections: 1000 }, b: { connections: 2000 }, c: { connections: 4000 } },
      { a: 2333, b: 1167, c: 583 },
      'neutral',
    ],
    [
      'auto below inference.minCpu: idle CPU says nothing, neutral',
      RAW,
      { a: { connections: 10, cpu: 0.01 }, b: { connections: 10, cpu: 0.02 }, c: { connections: 10, cpu: 0.04 } },
      { a: 1000, b: 1000, c: 1000 },
      'neutral',
    ],
    [
      'a default class applies to brokers without one',
      rawWithClasses({ c: 'l' }, { capacity: { default: 's' } }),
      { a: { connections: 5000 }, b: { connections: 5000 }, c: { connections: 20000 } },
      { a: 500, b: 500, c: 2000 },
      'hint',
    ],
  ])('%s', (_, policy, signals, expected, source) => {
    const out = computeWeights({ brokers: abc, loads: loads(NOW, signals), policy, nowMs: NOW });
    expect(weightsOf(out)).toEqual(expected);
    expect(decisionOf(out, 'a').capacitySource).toBe(source);
  });

  it('treats a broker of unknown capacity as average among known ones', () => {
    // a: hint 10k, b: inferred 2000/0.1 = 20k, c: nothing to infer from → mean 15k.
    const policy = rawWithClasses({ a: 's' });
    const out = computeWeights({
      brokers: abc,
      loads: loads(NOW, { a: { connections: 1000 }, b: { connections: 2000, cpu: 0.1 }, c: { connections: 1500 } }),
      policy,
      nowMs: NOW,
    });
    expect(out.decisions.map((d) => [d.name, d.capacity, d.capacitySource])).toEqual([
      ['a', 10_000, 'hint'],
      ['b', 20_000, 'inferred'],
      ['c', 15_000, 'neutral'],
    ]);
    expect(weightsOf(out)).toEqual({ a: 667, b: 1333, c: 1000 });
  });

  it('smooths inferred capacity with inference.alpha', () => {
    // maxStepRatio out of the way: x1.5 in one sample is what alpha alone gives here.
    const policy = tuned({ capacity: { inference: { alpha: 0.5, maxStepRatio: 2 } } }, RAW);
    const first = computeWeights({ brokers: [broker('a')], loads: loads(NOW, { a: { connections: 1000, cpu: 0.1 } }), policy, nowMs: NOW });
    const second = computeWeights({
      brokers: [broker('a')],
      loads: loads(NOW + 1, { a: { connections: 1000, cpu: 0.05 } }),
      previous: first.state,
      policy,
      nowMs: NOW + 1,
    });
    expect(decisionOf(first, 'a').capacity).toBe(10_000);
    expect(decisionOf(second, 'a').capacity).toBe(15_000);
  });

  it('mixes signals by their weights and divides publish rates by the class rate', () => {
    const policy = tuned(
      {
        signals: { connections: 0, publishRate: 1, cpu: 0 },
        capacity: { classes: { s: { connections: 10_000, publishRatePerSec: 1000 } }, default: 's' },
      },
      RAW,
    );
    const out = computeWeights({
      brokers: [broker('a'), broker('b')],
      loads: loads(NOW, {
        a: { connections: 9000, incomingPublishRate: 100, outgoingPublishRate: 100 },
        b: { connections: 100, outgoingPublishRate: 600 },
      }),
      policy,
      nowMs: NOW,
    });
    expect(decisionOf(out, 'a').utilisation).toBeCloseTo(0.2, 9);
    expect(decisionOf(out, 'b').utilisation).toBeCloseTo(0.6, 9);
    expect(weightsOf(out)).toEqual({ a: 2000, b: 667 });
  });

  it('drops a signal without a reading and re-weights the rest', () => {
    const policy = rawWithClasses({ a: 's', b: 's' }, { signals: { connections: 1, cpu: 1 } });
    const out = computeWeights({
      brokers: [broker('a'), broker('b')],
      loads: loads(NOW, { a: { connections: 4000, cpu: 0.6 }, b: { connections: 5000 } }),
      policy,
      nowMs: NOW,
    });
    expect(decisionOf(out, 'a').utilisation).toBeCloseTo(0.5, 9);
    expect(decisionOf(out, 'b').utilisation).toBeCloseTo(0.5, 9);
  });

  it('ignores readings that are not finite non-negative numbers', () => {
    const out = computeWeights({
      brokers: [broker('a'), broker('b')],
      loads: loads(NOW, { a: { connections: NaN, cpu: -1 }, b: { connections: 100 } }),
      policy: RAW,
      nowMs: NOW,
    });
    expect(decisionOf(out, 'a').reason).toContain('no usable signal');
    expect(out.plan.endpoints.every((e) => Number.isInteger(e.weight) && e.weight >= 1)).toBe(true);
  });
});

describe('quiet connections', () => {
  const auto = tuned({ catchUp: { quietConnections: 20 } }, RAW);

  it('a gap of one connection in an idle fleet leaves the weights almost equal', () => {
    // Capacity unknown: utilisation is relative to the mean, so 1 vs 0 connections would
    // otherwise be util 1 vs 0 and swing the weights by maxBoost both ways.
    const out = computeWeights({
      brokers: [broker('a'), broker('b')],
      loads: loads(NOW, { a: { connections: 1 }, b: { connections: 0 } }),
      policy: auto,
      nowMs: NOW,
    });
    const w = weightsOf(out);
    expect(w.b / w.a).toBeGreaterThan(1);
    expect(w.b / w.a).toBeLessThan(1.11);
  });

  it('a real gap keeps nearly its full catch-up', () => {
    const policy = rawWithClasses({ a: 's', b: 's', c: 's' }, { catchUp: { quietConnections: 20 } });
    const out = computeWeights({
      brokers: abc,
      loads: loads(NOW, { a: { connections: 3000 }, b: { connections: 6000 }, c: { connections: 9000 } }),
      policy,
      nowMs: NOW,
    });
    // (6000 + 20) / (3000 + 20) instead of 2.
    expect(decisionOf(out, 'a').factors.catchUp).toBeCloseTo(6020 / 3020, 9);
  });

  it('an empty broker among busy ones is still bounded by maxBoost', () => {
    const policy = rawWithClasses({ a: 's', b: 's', c: 's' }, { catchUp: { quietConnections: 20 } });
    const out = computeWeights({
      brokers: abc,
      loads: loads(NOW, { a: { connections: 0 }, b: { connections: 5000 }, c: { connections: 5000 } }),
      policy,
      nowMs: NOW,
    });
    expect(decisionOf(out, 'a').factors.catchUp).toBe(4);
  });
});

describe('fill mode', () => {
  const fill = (extra: Parameters<typeof tuned>[0] = {}): ReturnType<typeof tuned> =>
    rawWithClasses({ a: 's', b: 's', c: 's', d: 's' }, { catchUp: { fill: { below: 0.25, until: 0.05, weightFactor: 0.05 } }, ...extra });
  const abcd = [broker('a'), broker('b'), broker('c'), broker('d')];
  const conns = (d: number, others = 3000): Record<string, LoadSignals> => ({
    a: { connections: others },
    b: { connections: others },
    c: { connections: others },
    d: { connections: d },
  });

  it('cuts the brokers at or above the mean while one is far below it, so it gets nearly every new client', () => {
    const out = computeWeights({ brokers: abcd, loads: loads(NOW, conns(1500)), policy: fill(), nowMs: NOW });
    const w = weightsOf(out);
    // Mean 0.2625: d at 0.15 is 43% below; a, b, c above are cut x0.05.
    expect(decisionOf(out, 'a').factors.fill).toBe(0.05);
    expect(decisionOf(out, 'd').factors.fill).toBe(1);
    expect(w.d / (w.a + w.b + w.c + w.d)).toBeGreaterThan(0.9);
    expect(decisionOf(out, 'a').reason).toContain('d is 43% below the mean: fill x0.05');
    expect(out.state.filling).toBe(true);
  });

  it('does not start for a smaller gap, but once started goes on until the gap is under `until`', () => {
    // d 20% below: not enough to start.
    const calm = computeWeights({ brokers: abcd, loads: loads(NOW, conns(2500, 3200)), policy: fill(), nowMs: NOW });
    expect(calm.state.filling).toBeUndefined();
    expect(decisionOf(calm, 'a').factors.fill).toBe(1);
    // The same loads after fill mode started: it goes on.
    const previous = computeWeights({ brokers: abcd, loads: loads(NOW - 10_000, conns(1500)), policy: fill(), nowMs: NOW - 10_000 }).state;
    const going = computeWeights({ brokers: abcd, loads: loads(NOW, conns(2500, 3200)), previous, policy: fill(), nowMs: NOW });
    expect(going.state.filling).toBe(true);
    // Within 5 %: it ends.
    const done = computeWeights({
      brokers: abcd,
      loads: loads(NOW + 10_000, conns(2900, 3050)),
      previous: going.state,
      policy: fill(),
      nowMs: NOW + 10_000,
    });
    expect(done.state.filling).toBeUndefined();
  });

  it('is off with below: off', () => {
    const out = computeWeights({
      brokers: abcd,
      loads: loads(NOW, conns(0)),
      policy: fill({ catchUp: { fill: { below: 'off' } } }),
      nowMs: NOW,
    });
    expect(out.state.filling).toBeUndefined();
    expect(weightsOf(out).a).toBeGreaterThan(500);
  });

  it('ignores draining and pinned brokers when looking for a gap', () => {
    const out = computeWeights({
      brokers: [broker('a'), broker('b'), broker('c'), broker('d', { draining: true })],
      loads: loads(NOW, conns(0)),
      policy: fill(),
      nowMs: NOW,
    });
    expect(out.state.filling).toBeUndefined();
  });
});

describe('fill mode in an idle fleet', () => {
  it('does not start for a gap of one connection', () => {
    const policy = tuned({ catchUp: { quietConnections: 20, fill: { below: 0.25 } } }, RAW);
    const out = computeWeights({
      brokers: [broker('a'), broker('b')],
      loads: loads(NOW, { a: { connections: 1 }, b: { connections: 0 } }),
      policy,
      nowMs: NOW,
    });
    expect(out.state.filling).toBeUndefined();
  });
});
