import { computeWeights, type PolicyState, type WeighOutcome } from '../../../src/balancing';
import { contradiction } from '../../../src/balancing/envoy-check';
import { defaultPolicy } from '../../../src/config/policy';
import type { BrokerLoad, EnvoyBrokerLoad, LoadSignals } from '../../../src/domain';
import { broker, decisionOf, load, tuned, weightsOf } from './fixtures';

const SUSPECT = defaultPolicy().suspect;
const abc = [broker('a'), broker('b'), broker('c')];
const policy = tuned({ slowStart: { windowMs: 0 }, capacity: { classes: { s: { connections: 1000 } }, default: 's' } });
const envoy = (connections: number, openedPerSec = 5): EnvoyBrokerLoad => ({ connections, openedPerSec, envoys: 2 });

/** Computations every 5 s, one scrape each; `a` gives a's page per round, b and c hold 250. */
function series(aPages: readonly (LoadSignals | 'timeout')[], aEnvoy: (round: number) => EnvoyBrokerLoad): WeighOutcome[] {
  const out: WeighOutcome[] = [];
  let previous: PolicyState | undefined;
  let lastGood: BrokerLoad | undefined;
  aPages.forEach((page, r) => {
    const nowMs = 1_000_000 + r * 5000;
    const a =
      page === 'timeout'
        ? {
            ...(lastGood ?? load('a', undefined, {})),
            error: { code: 'SCRAPE_TIMEOUT', message: 'slow' },
            consecutiveFailures: 3,
            stale: true,
          }
        : load('a', nowMs, page);
    if (page !== 'timeout') lastGood = a;
    const loads = new Map<string, BrokerLoad>([
      ['a', a],
      ['b', load('b', nowMs, { connections: 250 })],
      ['c', load('c', nowMs, { connections: 250 })],
    ]);
    const envoys = new Map([
      ['a', aEnvoy(r)],
      ['b', envoy(250)],
      ['c', envoy(250)],
    ]);
    const o = computeWeights({ brokers: abc, loads, previous, policy, nowMs, envoys });
    previous = o.state;
    out.push(o);
  });
  return out;
}

describe('a page checked against what the Envoys routed', () => {
  it('sees a contradiction beyond the tolerance and the minimum, in the directions asked for', () => {
    expect(contradiction(0, 250, SUSPECT)).toBe('page says 0 connections, the Envoys hold 250');
    expect(contradiction(500, 250, SUSPECT)).toBe('page says 500 connections, the Envoys hold only 250');
    expect(contradiction(240, 250, SUSPECT)).toBeUndefined();
    expect(contradiction(5, 20, SUSPECT)).toBeUndefined();
    expect(contradiction(500, 250, { ...SUSPECT, direction: 'below' })).toBeUndefined();
    expect(contradiction(0, 250, { ...SUSPECT, direction: 'off' })).toBeUndefined();
  });

  it('does not boost a broker whose page goes idle while the Envoys hold its clients: suspect after two scrapes', () => {
    const idle = { connections: 0, cpu: 0 };
    const out = series([{ connections: 250 }, idle, idle, idle], () => envoy(250));
    expect(decisionOf(out[1], 'a').suspect).toBeUndefined();
    expect(decisionOf(out[2], 'a').suspect).toEqual({ reason: 'page says 0 connections, the Envoys hold 250' });
    // Weighed from the Envoys' 250, like its peers: no boost.
    expect(weightsOf(out[3])).toEqual({ a: 1000, b: 1000, c: 1000 });
  });

  it('does not fold a contradicting page in even before it counts as suspect, and keeps the reason between scrapes', () => {
    const idle = { connections: 0, cpu: 0 };
    const out = series([{ connections: 250, cpu: 0.5 }, idle, idle], () => envoy(250));
    expect(decisionOf(out[1], 'a').suspect).toBeUndefined();
    expect(weightsOf(out[1])).toEqual({ a: 1000, b: 1000, c: 1000 });
    // A computation between scrapes (an Envoy report) says the same.
    const between = computeWeights({
      brokers: abc,
      loads: new Map([
        ['a', load('a', 1_010_000, idle)],
        ['b', load('b', 1_010_000, { connections: 250 })],
        ['c', load('c', 1_010_000, { connections: 250 })],
      ]),
      previous: out[2].state,
      policy,
      nowMs: 1_011_000,
      envoys: new Map([
        ['a', envoy(250)],
        ['b', envoy(250)],
        ['c', envoy(250)],
      ]),
    });
    expect(decisionOf(between, 'a').suspect).toEqual({ reason: 'page says 0 connections, the Envoys hold 250' });
  });

  it('is believed again after two agreeing scrapes', () => {
    const idle = { connections: 0 };
    const out = series([idle, idle, { connections: 250 }, { connections: 250 }, { connections: 250 }], () => envoy(250));
    expect(decisionOf(out[2], 'a').suspect).toBeDefined();
    expect(decisionOf(out[3], 'a').suspect).toBeUndefined();
  });

  it('leaves a page alone when no Envoy reports', () => {
    const out = series([{ connections: 0 }, { connections: 0 }, { connections: 0 }], () => ({
      connections: 0,
      openedPerSec: 0,
      envoys: 0,
    }));
    expect(decisionOf(out[2], 'a').suspect).toBeUndefined();
  });

  it('counts a page that times out while the Envoys keep routing to the broker as overloaded, at once', () => {
    const out = series([{ connections: 250 }, { connections: 250 }, 'timeout'], (r) => envoy(250 + 30 * r, 6));
    const d = decisionOf(out[2], 'a');
    expect(d.slowPage).toBe('metrics page timed out (3 in a row) while the Envoys open 6.0/s to it');
    expect(d.reason).toContain('overloaded, counted as full');
    expect(weightsOf(out[2]).a).toBeLessThan(100);
  });

  it('holds the last weight as before when the page times out and nobody routes to the broker', () => {
    const out = series([{ connections: 250 }, { connections: 250 }, 'timeout'], () => envoy(250, 0));
    expect(decisionOf(out[2], 'a').slowPage).toBeUndefined();
    expect(weightsOf(out[2]).a).toBe(weightsOf(out[1]).a);
  });

  it("takes the damped controller's gain from the Envoys' arrival rate, once reports span 5 s", () => {
    const out = series([{ connections: 250 }, { connections: 250 }, { connections: 250 }], () => envoy(250));
    expect(decisionOf(out[0], 'a').reason).toContain('gain 1 (no connect rate');
    // 750 connections, 15 opened per second: 50 s lifetimes.
    expect(decisionOf(out[2], 'a').reason).toMatch(/gain [\d.]+ \(mean lifetime 50s/);
  });

  it("smooths the Envoys' arrival rate: quiet one-second reports do not send the gain to its bound", () => {
    // About 20 new connections a second, reported as 0s and 40s: lifetimes of about 40 s.
    const gains: number[] = [];
    let previous: PolicyState | undefined;
    for (let r = 0; r < 30; r++) {
      const nowMs = 1_000_000 + r * 1000;
      const opened = r % 2 === 0 ? 0 : 40;
      const loads = new Map(['a', 'b', 'c'].map((n) => [n, load(n, nowMs, { connections: 250 })]));
      const envoys = new Map(['a', 'b', 'c'].map((n) => [n, { connections: 250, openedPerSec: opened / 3, envoys: 1 }]));
      const o = computeWeights({ brokers: abc, loads, previous, policy, nowMs, envoys });
      previous = o.state;
      gains.push(Number(/gain ([\d.]+)/.exec(decisionOf(o, 'a').reason)![1]));
    }
    const later = gains.slice(5);
    expect(Math.max(...later)).toBeLessThan(defaultPolicy().controller.maxGain);
    expect(Math.max(...later) / Math.min(...later)).toBeLessThan(1.5);
  });

  it('counts a broker filling faster than its page shows as holding what the Envoys hold', () => {
    const out = series([{ connections: 250 }], () => envoy(600));
    expect(decisionOf(out[0], 'a').utilisation).toBeCloseTo(0.6, 6);
    expect(weightsOf(out[0]).a).toBeLessThan(weightsOf(out[0]).b);
  });

  describe('after the Envoys replaced their cluster (their counts start from zero)', () => {
    const replaced = (connections: number, uncounted: number): EnvoyBrokerLoad => ({ connections, openedPerSec: 5, envoys: 2, uncounted });

    it('does not call a page suspect for the connections the Envoys stopped counting', () => {
      const out = series(
        [{ connections: 250 }, { connections: 250 }, { connections: 255 }, { connections: 255 }, { connections: 255 }],
        (r) => (r < 2 ? envoy(250) : replaced(5, 250)),
      );
      for (const o of out) expect(decisionOf(o, 'a').suspect).toBeUndefined();
      expect(weightsOf(out[4])).toEqual({ a: 1000, b: 1000, c: 1000 });
    });

    it('does not lower the bound while an Envoy may still count on its old cluster', () => {
      // Until Envoy switches, its count holds the same 250 its uncounted part does.
      const settling = { ...replaced(250, 250), settling: true };
      const out = series([{ connections: 250 }, { connections: 250 }, { connections: 255 }, { connections: 255 }], (r) =>
        r < 2 ? settling : replaced(5, 250),
      );
      for (const o of out) expect(decisionOf(o, 'a').suspect).toBeUndefined();
      expect(out[1].state.brokers.find((b) => b.name === 'a')?.uncountedCap).toBe(250);
    });

    it('still catches a page that says more than even the uncounted connections allow', () => {
      const out = series([{ connections: 250 }, { connections: 1000 }, { connections: 1000 }], () => replaced(5, 250));
      expect(decisionOf(out[2], 'a').suspect?.reason).toBe(
        'page says 1000 connections, the Envoys hold only 5 (and at most 250 made before their cluster was replaced)',
      );
    });

    it('lowers the bound on a believed page: connections that closed do not come back', () => {
      // 240 of the 250 uncounted closed; the page then inflates back to 260.
      const out = series([{ connections: 250 }, { connections: 20 }, { connections: 260 }, { connections: 260 }], () => replaced(10, 250));
      expect(decisionOf(out[1], 'a').suspect).toBeUndefined();
      // 20 − 10 + the margin of 20 connections: at most 30 still up.
      expect(out[1].state.brokers.find((b) => b.name === 'a')?.uncountedCap).toBe(30);
      expect(decisionOf(out[3], 'a').suspect?.reason).toBe(
        'page says 260 connections, the Envoys hold only 10 (and at most 30 made before their cluster was replaced)',
      );
    });

    it('weighs a suspect page’s broker from the Envoys’ count and the uncounted connections that may be up', () => {
      const idle = { connections: 0 };
      const out = series([idle, idle, idle], () => replaced(50, 200));
      expect(decisionOf(out[2], 'a').suspect).toBeDefined();
      expect(weightsOf(out[2])).toEqual({ a: 1000, b: 1000, c: 1000 });
    });
  });
});
