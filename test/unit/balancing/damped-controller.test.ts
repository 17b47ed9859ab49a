import { computeWeights, type PolicyState } from '../../../src/balancing';
import { controllerGain, dampedFactor, loopTiming } from '../../../src/balancing/controller';
import { overloadSeverity } from '../../../src/balancing/factors';
import { defaultPolicy, type Policy } from '../../../src/config/policy';
import type { Broker, BrokerLoad, LoadSignals } from '../../../src/domain';
import { broker, decisionOf, lcg, load, loads, PROPORTIONAL, splitByWeight, tuned, weightsOf } from './fixtures';

const CONTROLLER = defaultPolicy().controller;
const SMOOTHING = defaultPolicy().smoothing;
const SETTINGS = { ...CONTROLLER, maxBoost: 4, quietConnections: 0 };

describe('the damped controller', () => {
  it('closes a gap over e x (dead time + period): one scrape plus the EWMA delay', () => {
    const t = loopTiming(1000, SMOOTHING, CONTROLLER);
    expect(t.deadTimeMs).toBeCloseTo(1000 + 1000 * (0.7 / 0.3), 6);
    expect(t.horizonMs).toBeCloseTo(Math.E * (t.deadTimeMs + 1000), 6);
    expect(loopTiming(undefined, SMOOTHING, CONTROLLER).periodMs).toBe(5000);
    // alpha is per second: at a 5 s scrape 1 - 0.7^5 = 0.83, so the dead time is 5 s plus about 1 s.
    const five = loopTiming(5000, SMOOTHING, CONTROLLER);
    expect(five.deadTimeMs).toBeCloseTo(5000 + (5000 * 0.7 ** 5) / (1 - 0.7 ** 5), 6);
    expect(loopTiming(5000, { ...SMOOTHING, per: 'scrape' }, CONTROLLER).deadTimeMs).toBeCloseTo(5000 + (5000 * 0.7) / 0.3, 6);
    expect(loopTiming(1000, SMOOTHING, { ...CONTROLLER, horizonMs: 30_000 }).horizonMs).toBe(30_000);
  });

  it('takes its gain from the measured lifetime over the horizon, bounded by maxGain', () => {
    const t = loopTiming(1000, SMOOTHING, CONTROLLER);
    // 3000 connections, 100 new per second: 30 s lifetimes.
    const g = controllerGain(3000, 100, t, CONTROLLER);
    expect(g).toMatchObject({ source: 'measured', lifetimeMs: 30_000 });
    expect(g.value).toBeCloseTo(30_000 / t.horizonMs, 6);
    expect(controllerGain(3000, 0.001, t, CONTROLLER).value).toBe(CONTROLLER.maxGain);
    expect(controllerGain(3000, 0, t, CONTROLLER).value).toBe(CONTROLLER.maxGain);
    expect(controllerGain(3000, undefined, t, CONTROLLER)).toMatchObject({ value: 1, source: 'none' });
    expect(controllerGain(3000, 100, t, { ...CONTROLLER, lifetimeMs: 60_000 })).toMatchObject({ source: 'configured', lifetimeMs: 60_000 });
  });

  it('moves nothing inside the deadband and acts on the part of a gap outside it', () => {
    const gain = { value: 2, source: 'measured', reason: '' } as const;
    expect(dampedFactor(0.51, 0.5, gain, SETTINGS, 10_000, 1).value).toBe(1);
    expect(dampedFactor(0.49, 0.5, gain, SETTINGS, 10_000, 1).value).toBe(1);
    // gap 0.2 below the mean, 0.17 outside the deadband, gain 2.
    expect(dampedFactor(0.4, 0.5, gain, SETTINGS, 10_000, 1).value).toBeCloseTo(1 + 2 * (0.2 - 0.03), 9);
    expect(dampedFactor(0.6, 0.5, gain, SETTINGS, 10_000, 1).value).toBeCloseTo(1 - 2 * (0.2 - 0.03), 9);
  });

  it('bounds the factor to [minFactor, maxBoost] and ramps a boost in with slow start', () => {
    const gain = { value: 20, source: 'measured', reason: '' } as const;
    expect(dampedFactor(0, 0.5, gain, SETTINGS, 10_000, 1).value).toBe(4);
    expect(dampedFactor(1, 0.5, gain, SETTINGS, 10_000, 1).value).toBe(CONTROLLER.minFactor);
    expect(dampedFactor(0, 0.5, gain, SETTINGS, 10_000, 0.5).value).toBe(2.5);
    expect(dampedFactor(1, 0.5, gain, SETTINGS, 10_000, 0.5).value).toBe(CONTROLLER.minFactor);
  });

  it('counts an overloaded broker as full, unsoftened, and gives it the floor in an idle fleet', () => {
    const gain = { value: 1, source: 'none', reason: '' } as const;
    const quiet = { ...SETTINGS, quietConnections: 20 };
    // Known capacity, fleet at 0.5: counted at 1, a gap of -1 (minus the deadband), gain 1.
    expect(dampedFactor(0.4, 0.5, gain, quiet, 100, 1, 1).value).toBe(CONTROLLER.minFactor);
    expect(dampedFactor(0.9, 0.95, gain, quiet, 10_000, 1, 1).value).toBeCloseTo(1 - (0.05 / 0.95 - 0.03), 9);
    expect(dampedFactor(0, 0, gain, quiet, 10_000, 1, 1)).toMatchObject({
      value: CONTROLLER.minFactor,
      reason: 'overloaded in an idle fleet: x0.05',
    });
    expect(dampedFactor(0, 0, gain, quiet, 10_000, 1).value).toBe(1);
  });

  it('is the default, and says its gain in every decision', () => {
    const out = computeWeights({
      brokers: [broker('a'), broker('b')],
      loads: loads(1_000_000, { a: { connections: 1000, connectRate: 10 }, b: { connections: 3000, connectRate: 30 } }),
      policy: tuned({ slowStart: { windowMs: 0 } }),
      nowMs: 1_000_000,
    });
    expect(decisionOf(out, 'a').reason).toMatch(/gain [\d.]+ \(mean lifetime 100s, horizon \d+s\)/);
    expect(decisionOf(out, 'a').factors.fill).toBe(1);
    expect(weightsOf(out).a).toBeGreaterThan(weightsOf(out).b);
  });
});

describe('overload confirmed over two scrapes', () => {
  const ab = [broker('a'), broker('b')];
  const policy = tuned({ slowStart: { windowMs: 0 }, capacity: { classes: { s: { connections: 10_000 } }, default: 's' } });
  const normal = { connections: 5000, cpu: 0.5 };

  function series(aSignals: readonly LoadSignals[]): { weights: number[]; reasons: string[] } {
    let previous: PolicyState | undefined;
    const weights: number[] = [];
    const reasons: string[] = [];
    aSignals.forEach((a, r) => {
      const nowMs = 1_000_000 + r * 5000;
      const out = computeWeights({ brokers: ab, loads: loads(nowMs, { a, b: normal }), previous, policy, nowMs });
      previous = out.state;
      weights.push(weightsOf(out).a);
      reasons.push(decisionOf(out, 'a').reason);
    });
    return { weights, reasons };
  }
  const level = { ...normal, overloadLevel: 8 };

  it('confirms CPU over two scrapes of its smoothed value, and then only denies the broker more than its fair share', () => {
    const hot = { ...normal, cpu: 0.99 };
    const { reasons } = series([normal, hot, hot, hot]);
    expect(reasons[1]).toMatch(/cpu 0\.9\d >= 0\.9 in 1 of 2 scrapes: not cut yet/);
    expect(reasons[3]).toContain('overloaded at its threshold, no more than its fair share');
    // Below the mean it would be boosted; overloaded, it is held at x1.
    const below = series([
      { connections: 2000, cpu: 0.5 },
      { connections: 2000, cpu: 0.99 },
      { connections: 2000, cpu: 0.99 },
      { connections: 2000, cpu: 0.99 },
    ]);
    expect(below.weights[0]).toBeGreaterThan(1000);
    expect(below.weights[3]).toBe(1000);
  });

  it('cuts a broker pinned at its CPU quota hard: throttling is severe', () => {
    const { weights } = series([normal, { ...normal, throttledRatio: 0.9 }, { ...normal, throttledRatio: 0.9 }]);
    expect(weights[2]).toBe(50);
  });

  it('no longer cuts hard once a severe overload has eased to a mild one', () => {
    // Throttled once (severe), then at the CPU threshold only: held at its fair share, not the floor.
    const throttled = { ...normal, cpu: 0.99, throttledRatio: 0.9 };
    const hot = { ...normal, cpu: 0.99, throttledRatio: 0 };
    const { weights, reasons } = series([normal, throttled, hot, hot, hot]);
    expect(weights[1]).toBe(50);
    expect(reasons[4]).toContain('overloaded at its threshold, no more than its fair share');
    expect(weights[4]).toBeGreaterThan(weights[1]);
  });

  it('ends the cut after two calm scrapes, and an overloaded one starts the count again', () => {
    const { weights, reasons } = series([level, level, normal, level, normal, normal, normal]);
    // A severe level is believed at once, and cuts to the floor on every overloaded scrape.
    expect([weights[0], weights[1], weights[3]]).toEqual([50, 50, 50]);
    // A calm scrape within the cut is no longer counted as full: back up by at most
    // maxStepRatio 2, and no boost while the cut lasts.
    expect(weights[2]).toBe(100);
    expect(weights[4]).toBe(100);
    expect(reasons[4]).toContain('1 of 2 calm scrapes before the cut ends');
    expect(reasons[4]).toContain('no more than its fair share');
    // The calm count restarted at the fourth scrape; the cut ends at the sixth.
    expect(reasons[5]).not.toContain('calm scrapes before the cut ends');
    expect(weights.slice(5)).toEqual([200, 400]);
  });

  it('cuts by severity: gently at a threshold near the fleet level, to the floor far past it', () => {
    const hot = { connections: 8000, cpu: 0.5 };
    const run = (aSignals: LoadSignals): number => {
      let previous: PolicyState | undefined;
      let weight = 0;
      for (let r = 0; r < 3; r++) {
        const nowMs = 1_000_000 + r * 5000;
        // b near the same level: the fleet has little room.
        const out = computeWeights({
          brokers: ab,
          loads: loads(nowMs, { a: aSignals, b: { connections: 7600, cpu: 0.5 } }),
          previous,
          policy,
          nowMs,
        });
        previous = out.state;
        weight = weightsOf(out).a;
      }
      return weight;
    };
    // Level 1, the threshold: a gentle cut. Level 10: the floor.
    expect(run({ ...hot, overloadLevel: 1 })).toBeGreaterThan(500);
    expect(run({ ...hot, overloadLevel: 10 })).toBe(50);
  });

  it('believes a severe overload on one scrape, CPU alone never', () => {
    const once = (a: LoadSignals): number => {
      const first = computeWeights({ brokers: ab, loads: loads(1_000_000, { a: normal, b: normal }), policy, nowMs: 1_000_000 });
      const out = computeWeights({
        brokers: ab,
        loads: loads(1_005_000, { a, b: normal }),
        previous: first.state,
        policy,
        nowMs: 1_005_000,
      });
      return weightsOf(out).a;
    };
    expect(once({ ...normal, overloadLevel: 8 })).toBe(50);
    expect(once({ ...normal, backpressureClients: 5 })).toBe(50);
    expect(once({ ...normal, cpu: 1 })).toBe(1000);
    expect(once({ ...normal, overloadLevel: 2 })).toBe(1000);
  });

  it('rates an overload 0 at its threshold and 1 far past it', () => {
    const o = defaultPolicy().overload;
    expect(overloadSeverity({ overloadLevel: 1 }, o)).toBe(0);
    expect(overloadSeverity({ overloadLevel: 10 }, o)).toBe(1);
    expect(overloadSeverity({ cpu: 0.99 }, o)).toBe(0);
    expect(overloadSeverity({ throttledRatio: 0.625 }, o)).toBeCloseTo(0.5, 9);
    expect(overloadSeverity({ backpressureClients: 3 }, o)).toBe(1);
    expect(overloadSeverity({ cpu: 0.5, overloadLevel: 0 }, o)).toBe(0);
  });

  it('compares CPU smoothed: a spike over one scrape is no overload at all', () => {
    const hot = { ...normal, cpu: 0.99 };
    const spike = series([normal, normal, hot, normal, normal]);
    expect(spike.weights).toEqual([1000, 1000, 1000, 1000, 1000]);
    expect(spike.reasons.some((r) => r.includes('overloaded'))).toBe(false);
  });

  it('counts a scrape once however often the weights are computed', () => {
    let previous: PolicyState | undefined;
    let last = 0;
    for (let r = 0; r < 3; r++) {
      const nowMs = 1_000_000 + r * 1000;
      // The same scrape (scrapedAtMs fixed) seen by three computations.
      const out = computeWeights({
        brokers: ab,
        loads: new Map([
          ['a', load('a', 1_000_000, { ...normal, cpu: 0.97 })],
          ['b', load('b', 1_000_000, normal)],
        ]),
        previous,
        policy,
        nowMs,
      });
      previous = out.state;
      last = weightsOf(out).a;
    }
    expect(last).toBe(1000);
  });

  it('does not cut when every broker is overloaded: no share would change', () => {
    const first = computeWeights({
      brokers: ab,
      loads: loads(1_000_000, { a: { ...normal, overloadLevel: 8 }, b: { ...normal, overloadLevel: 8 } }),
      policy,
      nowMs: 1_000_000,
    });
    const out = computeWeights({
      brokers: ab,
      loads: loads(1_005_000, { a: { ...normal, overloadLevel: 8 }, b: { ...normal, overloadLevel: 8 } }),
      previous: first.state,
      policy,
      nowMs: 1_005_000,
    });
    expect(weightsOf(out)).toEqual({ a: 1000, b: 1000 });
    expect(decisionOf(out, 'a').reason).toContain('so is every broker');
  });
});

// A closed loop on simulated time: clients arrive at a fixed rate and live lifetimeSec on
// average (exponential), the balancer sees the brokers' connections and CONNECT rates every
// scrape (with ±noise, and an overload level from 80 %), and Envoy applies a new plan one second after it is computed.
interface LoopRun {
  /** Per second, each broker's utilisation. */
  readonly util: number[][];
}

function closedLoop(opts: {
  readonly capacity: readonly number[];
  readonly start: readonly number[];
  readonly arrivalsPerSec: number;
  readonly lifetimeSec: number;
  readonly scrapeSec: number;
  readonly seconds: number;
  readonly noise: number;
  readonly policy: Policy;
  readonly joinAtSec?: number;
}): LoopRun {
  const rnd = lcg(7);
  const brokers: Broker[] = opts.capacity.map((_, i) => broker(`b${i}`));
  const conns = [...opts.start];
  const connects = conns.map(() => 0);
  let previous: PolicyState | undefined;
  let applied: number[] = opts.capacity.map(() => 1);
  let pending: number[] | undefined;
  const util: number[][] = [];
  for (let t = 0; t < opts.seconds; t++) {
    const present = brokers.map((_, i) => opts.joinAtSec === undefined || i < brokers.length - 1 || t >= opts.joinAtSec);
    if (pending) applied = pending;
    pending = undefined;
    for (let i = 0; i < conns.length; i++) {
      let leaving = 0;
      for (let c = 0; c < conns[i]; c++) if (rnd() < 1 / opts.lifetimeSec) leaving++;
      conns[i] -= leaving;
    }
    const arrivals = splitByWeight(
      opts.arrivalsPerSec,
      applied.map((w, i) => (present[i] ? w : 0)),
    );
    arrivals.forEach((n, i) => {
      conns[i] += n;
      connects[i] += n;
    });
    if (t % opts.scrapeSec === 0) {
      const nowMs = 1_000_000 + t * 1000;
      const live = brokers.filter((_, i) => present[i]);
      const m = new Map<string, BrokerLoad>();
      brokers.forEach((b, i) => {
        if (!present[i]) return;
        const jitter = 1 + opts.noise * (2 * rnd() - 1);
        m.set(
          b.name,
          load(b.name, nowMs, {
            connections: Math.round(conns[i] * jitter),
            connectRate: connects[i] / opts.scrapeSec,
            cpu: Math.min(1, (conns[i] / opts.capacity[i]) * jitter),
            // HiveMQ-like overload protection: level 1 from utilisation 0.8 (docs/test-broker.md).
            overloadLevel: conns[i] / opts.capacity[i] > 0.8 ? 1 : 0,
          }),
        );
        connects[i] = 0;
      });
      const out = computeWeights({ brokers: live, loads: m, previous, policy: opts.policy, nowMs });
      previous = out.state;
      const w = new Map(out.plan.endpoints.map((e) => [e.name, e.weight]));
      pending = brokers.map((b) => w.get(b.name) ?? 0);
    }
    util.push(conns.map((c, i) => c / opts.capacity[i]));
  }
  return { util };
}

/** Per broker, peak-to-trough utilisation in points over [from, to), after a 5 s moving average. */
function oscillation(run: LoopRun, from: number, to: number): number {
  const n = run.util[0].length;
  let worst = 0;
  for (let i = 0; i < n; i++) {
    const smooth: number[] = [];
    for (let t = from; t < to; t++) {
      const window = run.util.slice(Math.max(0, t - 4), t + 1).map((u) => u[i]);
      smooth.push(window.reduce((a, b) => a + b, 0) / window.length);
    }
    worst = Math.max(worst, (Math.max(...smooth) - Math.min(...smooth)) * 100);
  }
  return worst;
}

function imbalance(run: LoopRun, from: number, to: number): number {
  let sum = 0;
  for (let t = from; t < to; t++) {
    const u = run.util[t];
    sum += Math.max(...u) / (u.reduce((a, b) => a + b, 0) / u.length);
  }
  return sum / (to - from);
}

describe('closed loop on simulated time', () => {
  const hinted = (base: Policy, capacity: readonly number[]): Policy =>
    tuned(
      {
        capacity: {
          classes: Object.fromEntries(capacity.map((c, i) => [`c${i}`, { connections: c }])),
          brokers: Object.fromEntries(capacity.map((_, i) => [`b${i}`, `c${i}`])),
        },
      },
      base,
    );

  it('a churning fleet near 80% utilisation, 1:2:4, scraped every 5 s: oscillation within 10 points and balanced', () => {
    // 1600 + 3200 + 6400 connections at 80%: 8960 clients with 30 s lifetimes, ~300 new per second.
    const capacity = [1600, 3200, 6400];
    const run = closedLoop({
      capacity,
      start: [0, 0, 0],
      arrivalsPerSec: 300,
      lifetimeSec: 30,
      scrapeSec: 5,
      seconds: 400,
      noise: 0.05,
      policy: hinted(tuned({ slowStart: { windowMs: 0 } }), capacity),
    });
    expect(oscillation(run, 200, 400)).toBeLessThanOrEqual(10);
    expect(imbalance(run, 200, 400)).toBeLessThanOrEqual(1.1);
  });

  it('long-lived clients and a new broker without agents: it fills to its share as leastconn would', () => {
    // Clients live an hour: only ~2 per second arrive, and the new broker must get nearly all of them.
    const capacity = [2000, 2000, 2000, 2000];
    const run = closedLoop({
      capacity,
      start: [1200, 1200, 1200, 0],
      arrivalsPerSec: 2,
      lifetimeSec: 3600,
      scrapeSec: 5,
      seconds: 1500,
      noise: 0,
      policy: hinted(tuned({ slowStart: { windowMs: 0 } }), capacity),
      joinAtSec: 10,
    });
    const last = run.util[run.util.length - 1];
    const mean = last.reduce((a, b) => a + b, 0) / last.length;
    expect(last[3]).toBeGreaterThanOrEqual(0.85 * mean);
  });

  it('herds less than the proportional controller on the churning fleet', () => {
    const capacity = [1600, 1600, 1600];
    const opts = { capacity, start: [2400, 600, 600], arrivalsPerSec: 120, lifetimeSec: 30, scrapeSec: 1, seconds: 240, noise: 0.1 };
    const damped = closedLoop({ ...opts, policy: hinted(tuned({ slowStart: { windowMs: 0 } }), capacity) });
    const proportional = closedLoop({ ...opts, policy: hinted(tuned({ slowStart: { windowMs: 0 } }, PROPORTIONAL), capacity) });
    expect(oscillation(damped, 120, 240)).toBeLessThanOrEqual(10);
    expect(oscillation(damped, 120, 240)).toBeLessThan(oscillation(proportional, 120, 240));
  });
});
