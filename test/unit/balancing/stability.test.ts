import { computeWeights } from '../../../src/balancing';
import type { Policy } from '../../../src/config/policy';
import type { Broker } from '../../../src/domain';
import { broker, decisionOf, lcg, loads, rawWithClasses, rounds, tuned, weightsOf } from './fixtures';

const abc = [broker('a'), broker('b'), broker('c')];
const CAPACITY = [10_000, 20_000, 40_000];
// The noise below is drawn afresh for every scrape, ten seconds apart: smoothing per scrape is
// what these tests exercise (per second, 0.3 compounds to 0.97 over 10 s: no smoothing left).
const hinted = tuned({
  smoothing: { per: 'scrape' },
  slowStart: { windowMs: 0 },
  capacity: {
    classes: { s: { connections: 10_000 }, m: { connections: 20_000 }, l: { connections: 40_000 } },
    brokers: { a: 's', b: 'm', c: 'l' },
  },
});
const auto = tuned({ smoothing: { per: 'scrape' }, slowStart: { windowMs: 0 } });

describe('steady under noise', () => {
  // Inferring capacity from two noisy signals (connections / cpu) is noisier than a hint.
  it.each<[string, Policy, boolean, number]>([
    ['capacity hints, connections signal', hinted, false, 0.25],
    ['inferred capacity from cpu', auto, true, 0.5],
  ])('±20%% noise over 50 rounds moves weights less than the noise, and mostly not at all (%s)', (_, policy, withCpu, maxPushShare) => {
    const noise = lcg(7);
    const jitter = (): number => 0.8 + 0.4 * noise();
    // Every broker at half its capacity: the noise-free weights are the fair shares.
    const history = rounds(50, { brokers: abc, policy }, (_r, nowMs) =>
      loads(
        nowMs,
        Object.fromEntries(
          abc.map((b, i) => {
            const connections = (CAPACITY[i] / 2) * jitter();
            return [b.name, withCpu ? { connections, cpu: 0.5 * jitter() } : { connections }];
          }),
        ),
      ),
    );
    const fair = { a: 1000 * (10 / 70) * 3, b: 1000 * (20 / 70) * 3, c: 1000 * (40 / 70) * 3 };
    const settled = history.slice(10);
    for (const out of settled) {
      for (const [name, w] of Object.entries(weightsOf(out))) {
        expect(Math.abs(w / fair[name as keyof typeof fair] - 1)).toBeLessThanOrEqual(0.2);
      }
    }
    const pushes = settled.filter((o) => o.changed).length;
    expect(pushes).toBeLessThan(settled.length * maxPushShare);
  });

  it('reports changed=false and keeps the weight when the change is below minRelativeChange', () => {
    const policy = rawWithClasses({ a: 's', b: 's' }, { smoothing: { minRelativeChange: 0.1 } });
    const history = rounds(3, { brokers: [broker('a'), broker('b')], policy }, (r, nowMs) =>
      loads(nowMs, { a: { connections: [5000, 4800, 4000][r] }, b: { connections: 5000 } }),
    );
    expect(history.map((o) => weightsOf(o).a)).toEqual([1000, 1000, 1125]);
    expect(history.map((o) => o.changed)).toEqual([true, false, true]);
    expect(decisionOf(history[1], 'a').reason).toContain('held at 1000: change 2.1% < 10.0%');
  });

  it('measures hysteresis against the last published weight, so slow drift still gets through', () => {
    const policy = rawWithClasses({ a: 's', b: 's' }, { smoothing: { minRelativeChange: 0.1 } });
    const history = rounds(6, { brokers: [broker('a'), broker('b')], policy }, (r, nowMs) =>
      loads(nowMs, { a: { connections: 5000 - 200 * r }, b: { connections: 5000 } }),
    );
    // Each step is 2-3%; the fifth reaches 12.5% from the published 1000.
    expect(history.map((o) => weightsOf(o).a)).toEqual([1000, 1000, 1000, 1000, 1000, 1125]);
  });

  it('moves a weight at most maxStepRatio per computation', () => {
    const policy = rawWithClasses({ a: 's', b: 's' }, { smoothing: { maxStepRatio: 1.5 } });
    const history = rounds(4, { brokers: [broker('a'), broker('b')], policy }, (r, nowMs) =>
      loads(nowMs, { a: { connections: r === 0 ? 5000 : 0 }, b: { connections: 5000 } }),
    );
    expect(history.map((o) => weightsOf(o).a)).toEqual([1000, 1500, 2250, 3375]);
    expect(decisionOf(history[1], 'a').reason).toContain('step limited to x1.5 of 1000');
  });

  it('smooths inputs with an EWMA, counting each scrape once however often it is asked', () => {
    const policy = rawWithClasses({ a: 's', b: 's' }, { smoothing: { alpha: 0.5 } });
    const two = [broker('a'), broker('b')];
    const first = computeWeights({
      brokers: two,
      loads: loads(1000, { a: { connections: 5000 }, b: { connections: 5000 } }),
      policy,
      nowMs: 1000,
    });
    const spike = loads(2000, { a: { connections: 1000 }, b: { connections: 5000 } });
    const second = computeWeights({ brokers: two, loads: spike, previous: first.state, policy, nowMs: 2000 });
    const again = computeWeights({ brokers: two, loads: spike, previous: second.state, policy, nowMs: 3000 });
    expect(decisionOf(second, 'a').utilisation).toBeCloseTo(0.3, 9);
    expect(decisionOf(again, 'a').utilisation).toBeCloseTo(0.3, 9);
  });
});

describe('slow start', () => {
  const policy = rawWithClasses({ a: 's', b: 's', c: 's' }, { slowStart: { windowMs: 60_000, startFraction: 0.1 } });
  const fleet = (brokers: Broker[], prior: ReturnType<typeof computeWeights>['state'] | undefined, nowMs: number, cConnections = 5000) =>
    computeWeights({
      brokers,
      loads: loads(nowMs, { a: { connections: 5000 }, b: { connections: 5000 }, c: { connections: cConnections } }),
      previous: prior,
      policy,
      nowMs,
    });

  it('ramps a new broker from startFraction to its full weight over windowMs', () => {
    const settled = fleet([broker('a'), broker('b')], undefined, 0);
    let state = fleet([broker('a'), broker('b')], settled.state, 100_000).state;
    const weights: number[] = [];
    for (const t of [100_000, 130_000, 160_000, 190_000]) {
      const out = fleet(abc, state, t);
      state = out.state;
      weights.push(weightsOf(out).c);
      expect(weightsOf(out)).toMatchObject({ a: 1000, b: 1000 });
    }
    expect(weights).toEqual([100, 550, 1000, 1000]);
  });

  it('does not flood an empty new broker: its catch-up boost ramps in with it', () => {
    const settled = fleet([broker('a'), broker('b')], undefined, 0);
    const first = fleet(abc, settled.state, 100_000, 0);
    expect(weightsOf(first).c).toBe(100);
    const half = fleet(abc, first.state, 130_000, 0);
    // boost x(1 + 3 × 0.5) = 2.5, slow start x0.55.
    expect(weightsOf(half).c).toBe(1375);
    expect(decisionOf(half, 'c').reason).toContain('slow start x0.55 (30s of 60s)');
  });

  it('ramps every broker together after a restart, which leaves their ratios alone', () => {
    const out = fleet(abc, undefined, 0);
    expect(weightsOf(out)).toEqual({ a: 100, b: 100, c: 100 });
  });

  it('starts the ramp again for a broker that left and came back', () => {
    const before = fleet(abc, undefined, 0);
    const without = fleet([broker('a'), broker('b')], before.state, 100_000);
    const back = fleet(abc, without.state, 110_000);
    expect(decisionOf(back, 'c').factors.slowStart).toBeCloseTo(0.1, 9);
  });
});

describe('smoothing per second', () => {
  it('gives a step in load the same time constant at 1 s and at 5 s scrapes', () => {
    const policy = rawWithClasses({ a: 's', b: 's' }, { smoothing: { alpha: 0.3, per: 'second' } });
    const utilAfter = (intervalMs: number): number => {
      const n = 10_000 / intervalMs + 1;
      const history = rounds(n, { brokers: [broker('a'), broker('b')], policy, intervalMs }, (r, nowMs) =>
        loads(nowMs, { a: { connections: r === 0 ? 1000 : 5000 }, b: { connections: 3000 } }),
      );
      return decisionOf(history[history.length - 1], 'a').utilisation!;
    };
    // 10 s after the step: 1 − 0.7^10 of the way from 0.1 to 0.5, at either interval.
    const expected = 0.1 + 0.4 * (1 - 0.7 ** 10);
    expect(utilAfter(1000)).toBeCloseTo(expected, 6);
    expect(utilAfter(5000)).toBeCloseTo(expected, 6);
  });
});
