import { backoffRangeMs, DEFAULT_BACKOFF, ReconnectQueue } from '../../../bench/fleet/reconnects';

describe('the reconnect queue', () => {
  it('doubles the backoff per attempt up to the maximum, with equal jitter', () => {
    expect(backoffRangeMs(DEFAULT_BACKOFF, 0)).toEqual({ lo: 1000, hi: 1000 });
    expect(backoffRangeMs(DEFAULT_BACKOFF, 3)).toEqual({ lo: 4000, hi: 8000 });
    expect(backoffRangeMs(DEFAULT_BACKOFF, 20)).toEqual({ lo: 60_000, hi: 120_000 });
  });

  it('spreads a storm evenly over the backoff range and gives every client back', () => {
    const q = new ReconnectQueue(1);
    q.add(0, 0, 3, 40_000, 0.5);
    const perSecond: number[] = [];
    for (let t = 1; t <= 10; t++) perSecond.push(q.take(t).reduce((n, d) => n + d.n, 0));
    expect(perSecond.reduce((a, b) => a + b, 0)).toBe(40_000);
    expect(perSecond.slice(0, 4)).toEqual([0, 0, 0, 0]);
    for (const n of perSecond.slice(4, 8)) expect(n).toBeCloseTo(10_000, -1);
    expect(q.total()).toBe(0);
  });

  it('keeps each client class and attempt apart', () => {
    const q = new ReconnectQueue(2);
    q.add(10, 1, 0, 5, 0);
    expect(q.take(11)).toEqual([{ k: 1, attempt: 0, n: 5 }]);
  });
});
