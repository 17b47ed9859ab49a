import { computeWeights } from '../../../src/balancing';
import type { LoadSignals } from '../../../src/domain';
import { broker, decisionOf, loads, rawWithClasses, rounds, tuned, weightsOf, PROPORTIONAL } from './fixtures';

const NOW = 1_000_000;
const ab = [broker('a'), broker('b')];
const normal: LoadSignals = { connections: 5000, cpu: 0.5 };

describe('overload', () => {
  const policy = rawWithClasses({ a: 's', b: 's' });

  it.each<[string, LoadSignals, string]>([
    ['cpu at the threshold', { cpu: 0.95 }, 'cpu 0.95 >= 0.9: overloaded, x0.01'],
    [
      'throttling at its CPU quota, whatever CPU it reads',
      { throttledRatio: 0.25 },
      'throttled in 0.25 of CPU periods >= 0.25: overloaded, x0.01',
    ],
    ['HiveMQ overload protection level', { overloadLevel: 1 }, 'overload protection level 1 >= 1: overloaded, x0.01'],
    ['clients under back-pressure', { backpressureClients: 3 }, '3 clients under back-pressure >= 1: overloaded, x0.01'],
    ['too many clients not writable', { notWritable: 300 }, 'not-writable ratio 0.060 >= 0.05: overloaded, x0.01'],
  ])('cuts the weight to weightFactor on %s', (_, extra, reason) => {
    const out = computeWeights({ brokers: ab, loads: loads(NOW, { a: { ...normal, ...extra }, b: normal }), policy, nowMs: NOW });
    expect(weightsOf(out)).toEqual({ a: 10, b: 1000 });
    expect(decisionOf(out, 'a').reason).toContain(reason);
    expect(decisionOf(out, 'a').factors.overload).toBe(0.01);
  });

  it.each<[string, LoadSignals, ReturnType<typeof tuned>]>([
    ['below every threshold', { cpu: 0.89, throttledRatio: 0.24, notWritable: 200, overloadLevel: 0, backpressureClients: 0 }, policy],
    ['a trigger switched off', { cpu: 0.95 }, rawWithClasses({ a: 's', b: 's' }, { overload: { cpuThreshold: 'off' } })],
    ['throttling switched off', { throttledRatio: 1 }, rawWithClasses({ a: 's', b: 's' }, { overload: { throttledThreshold: 'off' } })],
    [
      'a per-broker throttling override',
      { throttledRatio: 0.5 },
      rawWithClasses({ a: 's', b: 's' }, { overrides: { a: { overload: { throttledThreshold: 0.6 } } } }),
    ],
    [
      'a per-broker threshold override',
      { cpu: 0.95 },
      rawWithClasses({ a: 's', b: 's' }, { overrides: { a: { overload: { cpuThreshold: 0.99 } } } }),
    ],
  ])('leaves the weight alone %s', (_, extra, p) => {
    const out = computeWeights({ brokers: ab, loads: loads(NOW, { a: { ...normal, ...extra }, b: normal }), policy: p, nowMs: NOW });
    expect(weightsOf(out)).toEqual({ a: 1000, b: 1000 });
  });

  it('never goes below the floor', () => {
    const p = rawWithClasses({ a: 's', b: 's' }, { bounds: { floor: 50 }, overload: { weightFactor: 0.0001 } });
    const out = computeWeights({ brokers: ab, loads: loads(NOW, { a: { ...normal, cpu: 0.99 }, b: normal }), policy: p, nowMs: NOW });
    expect(weightsOf(out).a).toBe(50);
  });

  it('acts at once despite smoothing, step limit and hysteresis, and recovers one step at a time', () => {
    const p = tuned(
      {
        slowStart: { windowMs: 0 },
        overload: { holdMs: 0 },
        capacity: { classes: { s: { connections: 10_000 } }, default: 's' },
      },
      PROPORTIONAL,
    );
    const hot = new Set([5]);
    const history = rounds(12, { brokers: ab, policy: p }, (r, nowMs) =>
      loads(nowMs, { a: hot.has(r) ? { ...normal, cpu: 0.97 } : normal, b: normal }),
    );
    const a = history.map((o) => weightsOf(o).a);
    expect(a.slice(0, 5)).toEqual([1000, 1000, 1000, 1000, 1000]);
    expect(a[5]).toBe(10);
    expect(history[5].changed).toBe(true);
    // maxStepRatio 2 per computation on the way back up.
    expect(a.slice(6)).toEqual([20, 40, 80, 160, 320, 640]);
  });

  it('holds the cut for holdMs after the last overloaded scrape, so a broker hovering at a threshold does not flap', () => {
    // Computations every 10 s; a is overloaded in rounds 2 and 4 only, holdMs 25 s.
    const p = tuned(
      {
        slowStart: { windowMs: 0 },
        overload: { holdMs: 25_000 },
        capacity: { classes: { s: { connections: 10_000 } }, default: 's' },
      },
      PROPORTIONAL,
    );
    const hot = new Set([2, 4]);
    const history = rounds(10, { brokers: ab, policy: p }, (r, nowMs) =>
      loads(nowMs, { a: hot.has(r) ? { ...normal, overloadLevel: 1 } : normal, b: normal }),
    );
    const a = history.map((o) => weightsOf(o).a);
    // Cut in round 2, held through round 6 (20 s after round 4), then back up x2 per round.
    expect(a).toEqual([1000, 1000, 10, 10, 10, 10, 10, 20, 40, 80]);
    expect(decisionOf(history[5], 'a').reason).toContain('overloaded 10s ago, cut held for 25s');
  });

  it('keeps relative weights when every broker is overloaded (HiveMQ reports the level cluster-wide)', () => {
    const out = computeWeights({
      brokers: ab,
      loads: loads(NOW, { a: { connections: 3000, overloadLevel: 2 }, b: { connections: 6000, overloadLevel: 2 } }),
      policy,
      nowMs: NOW,
    });
    // Without overload 1500 : 750; at x0.01 rounding to integers costs some precision.
    expect(weightsOf(out)).toEqual({ a: 15, b: 8 });
  });
});
