import { computeWeights } from '../../../src/balancing';
import type { BrokerLoad, LoadSignals, WeighedSignal } from '../../../src/domain';
import { broker, decisionOf, load, loads, RAW, rawWithClasses, rounds, tuned } from './fixtures';

const NOW = 1_000_000;
const a = [broker('a')];

/** Capacity of broker a after each sample, one computation per sample. */
function inferred(policy: typeof RAW, samples: readonly LoadSignals[]): number[] {
  return rounds(samples.length, { brokers: a, policy }, (r, nowMs) => loads(nowMs, { a: samples[r] })).map(
    (o) => decisionOf(o, 'a').capacity ?? NaN,
  );
}

describe('capacity inference', () => {
  // alpha 1: each sample used replaces the estimate, so only the step bound limits it.
  const instant = tuned({ capacity: { inference: { alpha: 1 } } }, RAW);

  it('skips samples taken while the broker is throttled at its CPU quota', () => {
    // Throttled, the broker's CPU reads as its limit (1) whatever its load: 4000 / 1 would
    // halve a capacity of 8000.
    const capacities = inferred(instant, [
      { connections: 2000, cpu: 0.25, throttledRatio: 0 },
      { connections: 4000, cpu: 1, throttledRatio: 0.3 },
      { connections: 4200, cpu: 1, throttledRatio: 0.06 },
      { connections: 2100, cpu: 0.25, throttledRatio: 0.05 },
    ]);
    expect(capacities).toEqual([8000, 8000, 8000, 8400]);
  });

  it('uses throttled samples when capacity.inference.maxThrottledRatio allows them', () => {
    const lenient = tuned({ capacity: { inference: { maxThrottledRatio: 1, maxStepRatio: 10 } } }, instant);
    expect(
      inferred(lenient, [
        { connections: 2000, cpu: 0.25 },
        { connections: 4000, cpu: 1, throttledRatio: 0.3 },
      ]),
    ).toEqual([8000, 4000]);
  });

  it('moves an inferred capacity by at most maxStepRatio per sample, up and down', () => {
    const capacities = inferred(instant, [
      { connections: 1000, cpu: 0.1 },
      { connections: 4000, cpu: 0.1 },
      { connections: 4000, cpu: 0.1 },
      { connections: 1000, cpu: 0.5 },
    ]);
    expect(capacities).toEqual([10_000, 12_000, 14_400, 12_000]);
  });

  it('starts afresh when the kind of CPU changes (the agent deployed), rather than walk there step by step', () => {
    const capacities = inferred(tuned({}, RAW), [
      { connections: 3000, cpu: 0.06, cpuSource: 'system' },
      { connections: 3000, cpu: 0.06, cpuSource: 'system' },
      { connections: 3000, cpu: 0.9, cpuSource: 'limit' },
      { connections: 3000, cpu: 0.9, cpuSource: 'limit' },
    ]);
    expect(capacities.map(Math.round)).toEqual([50_000, 50_000, 3333, 3333]);
  });

  it('bounds the inferred publish-rate capacity the same way', () => {
    const p = tuned({ signals: { publishRate: 1 }, capacity: { inference: { alpha: 1, maxStepRatio: 1.5 } } }, RAW);
    const history = rounds(2, { brokers: a, policy: p }, (r, nowMs) =>
      loads(nowMs, { a: { connections: 100, cpu: 0.5, incomingPublishRate: r === 0 ? 500 : 5000 } }),
    );
    // 500/s at cpu 0.5 is 1000/s at cpu 1; then 10,000/s is bounded to 1500/s: utilisation 5000 / 1500.
    expect(decisionOf(history[1], 'a').utilisation).toBeCloseTo((100 / 200 + 5000 / 1500) / 2, 9);
  });
});

describe('signals the policy uses that a page cannot give', () => {
  const withUnavailable = (signals: LoadSignals, unavailable: WeighedSignal[]): BrokerLoad => ({
    ...load('a', NOW, signals),
    unavailable,
  });
  const decide = (policy: typeof RAW, l: BrokerLoad) =>
    decisionOf(computeWeights({ brokers: [broker('a'), broker('b')], loads: new Map([['a', l]]), policy, nowMs: NOW }), 'a');

  it('names cpu when capacity is inferred (the default) and the page has none', () => {
    const d = decide(RAW, withUnavailable({ connections: 300 }, ['cpu']));
    expect(d.missingSignals).toEqual(['cpu']);
    expect(d.capacitySource).toBe('neutral');
  });

  it.each<[string, typeof RAW, WeighedSignal[], WeighedSignal[] | undefined]>([
    ['cpu weighed although capacity is hinted', rawWithClasses({ a: 's' }, { signals: { cpu: 1 } }), ['cpu'], ['cpu']],
    ['cpu neither weighed nor needed for a hinted capacity', rawWithClasses({ a: 's' }), ['cpu', 'publishRate'], undefined],
    ['publish rate weighed', rawWithClasses({ a: 's' }, { signals: { publishRate: 1 } }), ['publishRate'], ['publishRate']],
    [
      'cpu to infer the publish-rate capacity a class leaves out',
      rawWithClasses({ a: 's' }, { signals: { publishRate: 1 } }),
      ['cpu'],
      ['cpu'],
    ],
    ['connections weighed', RAW, ['connections', 'cpu'], ['connections', 'cpu']],
    ['a pinned broker: its weight uses no signal', tuned({ overrides: { a: { weight: 5 } } }, RAW), ['cpu'], undefined],
    ['an excluded broker', tuned({ overrides: { a: { exclude: true } } }, RAW), ['cpu'], undefined],
    [
      'cpu weighed for this broker only',
      tuned({ overrides: { a: { signals: { cpu: 1 } } } }, rawWithClasses({ a: 's' })),
      ['cpu'],
      ['cpu'],
    ],
  ])('%s', (_, policy, unavailable, missing) => {
    expect(decide(policy, withUnavailable({ connections: 300 }, unavailable)).missingSignals).toEqual(missing);
  });

  it('keeps naming them while the metrics are stale, from the last good page', () => {
    const d = decide(RAW, { ...withUnavailable({ connections: 300 }, ['cpu']), stale: true });
    expect(d.missingSignals).toEqual(['cpu']);
  });
});

describe('capacity inference at a lighter or heavier load', () => {
  // alpha 1 and a loose step bound: each sample used replaces the estimate, so only the rule under test holds it.
  const instant = tuned({ capacity: { inference: { alpha: 1, maxStepRatio: 10 } } }, RAW);

  it('lowers it at a clearly lower CPU too: a broker at its quota is used only at its lighter moments', () => {
    // 3000 at cpu 0.6 is 5000 at cpu 1; 1000 at cpu 0.3 reads 3333. Kept from lowering, a
    // throttled broker's estimate only ever rose (real HiveMQ at 0.15 CPU: 3x its size).
    expect(
      inferred(instant, [
        { connections: 3000, cpu: 0.6 },
        { connections: 1000, cpu: 0.3 },
      ]),
    ).toEqual([5000, 1000 / 0.3]);
  });

  it('still raises it at a lower CPU', () => {
    expect(
      inferred(instant, [
        { connections: 3000, cpu: 0.6 },
        { connections: 2000, cpu: 0.3 },
      ]),
    ).toEqual([5000, 2000 / 0.3]);
  });

  it('lowers it when the CPU at the same load rises: a real loss of capacity', () => {
    expect(
      inferred(instant, [
        { connections: 3000, cpu: 0.6 },
        { connections: 3000, cpu: 0.75 },
      ]),
    ).toEqual([5000, 4000]);
  });

  it('learns nothing from a broker that reports an overload (its CPU goes to more than its connections)', () => {
    expect(
      inferred(instant, [
        { connections: 3000, cpu: 0.6 },
        { connections: 1000, cpu: 0.9, overloadLevel: 7 },
        { connections: 1000, cpu: 0.9, overloadLevel: 0 },
        { connections: 1000, cpu: 0.9, overloadLevel: 0 },
      ]).map(Math.round),
    ).toEqual([5000, 5000, 5000, 1111]);
  });

  it('learns nothing from the first sample after an overload: its CPU rate still spans the overload', () => {
    // At 5 s scrapes, the sample after the level drops reads CPU over the 5 s before it, most
    // of them overloaded: 100 connections at 0.85 would take the broker for 118.
    const history = inferred(instant, [
      { connections: 3000, cpu: 0.6 },
      { connections: 1000, cpu: 0.95, overloadLevel: 7 },
      { connections: 1000, cpu: 0.85, overloadLevel: 0 },
      { connections: 1000, cpu: 0.2, overloadLevel: 0 },
    ]).map(Math.round);
    expect(history).toEqual([5000, 5000, 5000, 5000]);
  });

  it('without an estimate yet, learns from the overloaded sample, then again from the second calm one', () => {
    expect(
      inferred(instant, [
        { connections: 1000, cpu: 0.9, overloadLevel: 7 },
        { connections: 1000, cpu: 0.8, overloadLevel: 0 },
        { connections: 1000, cpu: 0.8, overloadLevel: 0 },
      ]).map(Math.round),
    ).toEqual([1111, 1111, 1250]);
  });
});

describe('capacity inference of a broker far lighter than its peers', () => {
  // alpha 1 and a loose step bound: each sample used replaces the estimate, so only the rule under test holds it.
  const instant = tuned({ capacity: { inference: { alpha: 1, maxStepRatio: 10 } } }, RAW);
  const three = [broker('a'), broker('b'), broker('c')];
  const busy: LoadSignals = { connections: 4000, cpu: 0.8 };

  /** c's capacity per round: a and b busy from the start, c joining at round 1 with `joining` samples. */
  function joiner(policy: typeof RAW, joining: readonly LoadSignals[]): number[] {
    return rounds(joining.length + 1, { brokers: three, policy }, (r, nowMs) =>
      loads(nowMs, r === 0 ? { a: busy, b: busy } : { a: busy, b: busy, c: joining[r - 1] }),
    )
      .slice(1)
      .map((o) => decisionOf(o, 'c').capacity ?? NaN);
  }

  it('starts a broker that joins empty at its peers’ mean, not at what its light CPU says, and keeps it until its CPU is comparable', () => {
    // CPU per connection is several times higher at light load: 200 at cpu 0.2 reads as 1000,
    // a fifth of the peers' 5000, though the broker is as large as they are.
    expect(
      joiner(instant, [
        { connections: 200, cpu: 0.2 },
        { connections: 400, cpu: 0.3 },
        { connections: 3000, cpu: 0.7 },
      ]).map(Math.round),
    ).toEqual([5000, 5000, 4286]);
  });

  it('still raises the estimate of a light broker when its sample says it is larger', () => {
    expect(
      joiner(instant, [
        { connections: 200, cpu: 0.2 },
        { connections: 2400, cpu: 0.3 },
      ]),
    ).toEqual([5000, 8000]);
  });

  it('takes the light sample as it is with capacity.inference.minRelativeCpu 0', () => {
    const off = tuned({ capacity: { inference: { minRelativeCpu: 0 } } }, instant);
    expect(
      joiner(off, [
        { connections: 200, cpu: 0.2 },
        { connections: 400, cpu: 0.3 },
      ]).map(Math.round),
    ).toEqual([1000, 1333]);
  });
});
