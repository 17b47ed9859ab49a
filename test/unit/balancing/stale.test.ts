import { computeWeights } from '../../../src/balancing';
import type { BrokerLoad } from '../../../src/domain';
import { broker, decisionOf, load, loads, rawWithClasses, rounds, tuned, weightsOf } from './fixtures';

const ab = [broker('a'), broker('b')];
// a at 0.25, b at 0.75 of 10k: a's weight is 2000 (catch-up x2), b's 667; a's fair share is 1000.
const busy = { a: { connections: 2500 }, b: { connections: 7500 } };

describe('stale or missing metrics', () => {
  const policy = rawWithClasses({ a: 's', b: 's' }, { stale: { graceMs: 30_000, decayMs: 60_000 } });

  it('holds the last weight for graceMs, then decays linearly to the fair share, never to zero', () => {
    const staleFrom = 3;
    const history = rounds(14, { brokers: ab, policy, intervalMs: 10_000 }, (r, nowMs) => {
      const m = loads(nowMs, busy);
      if (r >= staleFrom) m.set('a', load('a', nowMs - (r - staleFrom + 1) * 10_000, busy.a, { stale: true, consecutiveFailures: r }));
      return m;
    });
    const a = history.map((o) => weightsOf(o).a);
    // 3 fresh rounds, stale at 0 s, 10 s, 20 s (hold), then 30 s … 90 s linear to 1000.
    expect(a).toEqual([2000, 2000, 2000, 2000, 2000, 2000, 2000, 1833, 1667, 1500, 1333, 1167, 1000, 1000]);
    expect(decisionOf(history[4], 'a').reason).toContain('no fresh metrics for 10s: holding 2000 for up to 30s');
    expect(decisionOf(history[9], 'a').reason).toContain('50% of the way from 2000 to fair share 1000');
    expect(decisionOf(history[9], 'a').factors.stale).toBeCloseTo(1.5, 9);
  });

  it('decays from a low weight up to the fair share too', () => {
    const history = rounds(12, { brokers: ab, policy, intervalMs: 10_000 }, (r, nowMs) => {
      const m = loads(nowMs, { a: { connections: 9000 }, b: { connections: 1000 } });
      if (r >= 2) m.delete('a');
      return m;
    });
    expect(history.map((o) => weightsOf(o).a)).toEqual([556, 556, 556, 556, 556, 556, 630, 704, 778, 852, 926, 1000]);
  });

  it.each<[string, (nowMs: number) => BrokerLoad | undefined]>([
    ['no load entry at all', () => undefined],
    [
      'a scrape that never succeeded',
      () => load('a', undefined, {}, { consecutiveFailures: 5, error: { code: 'SCRAPE_CONNECT', message: 'refused' } }),
    ],
    ['stale signals without a success time', () => load('a', undefined, {}, { stale: true })],
  ])('gives a broker never scraped its neutral fair share (%s)', (_, entry) => {
    const m = loads(1_000_000, { b: { connections: 9000 } });
    const e = entry(1_000_000);
    if (e !== undefined) m.set('a', e);
    const out = computeWeights({ brokers: ab, loads: m, policy, nowMs: 1_000_000 });
    expect(weightsOf(out).a).toBe(1000);
    expect(decisionOf(out, 'a').reason).toContain('not scraped yet');
  });

  it('gives a never-scraped broker its slow start as well', () => {
    const p = tuned({ slowStart: { windowMs: 60_000, startFraction: 0.1 } }, policy);
    const out = computeWeights({ brokers: ab, loads: loads(1_000_000, { b: { connections: 9000 } }), policy: p, nowMs: 1_000_000 });
    expect(weightsOf(out).a).toBe(100);
  });

  it('keeps a broker with metrics missing for a day at its fair share, never zero', () => {
    const history = rounds(3, { brokers: ab, policy, intervalMs: 43_200_000 }, (r, nowMs) => {
      const m = loads(nowMs, busy);
      if (r > 0) m.delete('a');
      return m;
    });
    expect(weightsOf(history[2]).a).toBe(1000);
  });

  it('treats a failed scrape the scraper does not yet call stale as fresh', () => {
    const history = rounds(2, { brokers: ab, policy }, (r, nowMs) => {
      const m = loads(nowMs, busy);
      if (r === 1)
        m.set('a', load('a', nowMs - 10_000, busy.a, { consecutiveFailures: 1, error: { code: 'SCRAPE_TIMEOUT', message: 't' } }));
      return m;
    });
    expect(weightsOf(history[1]).a).toBe(2000);
    expect(decisionOf(history[1], 'a').reason).not.toContain('no fresh metrics');
  });

  it('leaves a stale broker out of the fleet mean, so it does not skew the others', () => {
    const abc = [...ab, broker('c')];
    const p = rawWithClasses({ a: 's', b: 's', c: 's' });
    const history = rounds(2, { brokers: abc, policy: p }, (r, nowMs) => {
      const m = loads(nowMs, { a: { connections: 100 }, b: { connections: 5000 }, c: { connections: 5000 } });
      if (r === 1) m.delete('a');
      return m;
    });
    expect(weightsOf(history[1])).toMatchObject({ b: 1000, c: 1000 });
  });

  it('resumes computing as soon as metrics are fresh again', () => {
    const history = rounds(8, { brokers: ab, policy }, (r, nowMs) => {
      const m = loads(nowMs, busy);
      if (r >= 1 && r <= 6) m.delete('a');
      if (r === 7) m.set('a', load('a', nowMs, { connections: 5000 }));
      return m;
    });
    const last = history[7];
    expect(weightsOf(last)).toEqual({ a: 1250, b: 833 });
    expect(decisionOf(last, 'a').factors.stale).toBe(1);
  });
});
