import { NO_MISSING, observeMissing, rateAvailable, rateTake, type MissingClients, type RateWindow } from '../../../src/rebalance/pacer';

describe('the rate window', () => {
  it('allows at most the rate in any one-second window', () => {
    let w: RateWindow = [];
    expect(rateAvailable(w, 100, 0)).toBe(100);
    w = rateTake(w, 60, 0);
    expect(rateAvailable(w, 100, 500)).toBe(40);
    w = rateTake(w, 40, 500);
    expect(rateAvailable(w, 100, 999)).toBe(0);
    // The first 60 leave the window at 1000 ms, the next 40 at 1500 ms.
    expect(rateAvailable(w, 100, 1000)).toBe(60);
    expect(rateAvailable(w, 100, 1500)).toBe(100);
  });

  it('applies a new rate at once', () => {
    const w = rateTake([], 50, 0);
    expect(rateAvailable(w, 40, 10)).toBe(0);
  });

  it('never changes the window it is given', () => {
    const w = rateTake([], 50, 0);
    rateTake(w, 10, 2000);
    expect(w).toEqual([{ atMs: 0, n: 50 }]);
  });
});

describe('missing clients', () => {
  /** Feeds observations in order, like the rebalancer does, and returns each count. */
  function counter(forgetMs: number): (total: number | undefined, active: boolean, nowMs: number) => number {
    let m: MissingClients = NO_MISSING;
    return (total, active, nowMs) => {
      m = observeMissing(m, total, active, nowMs, forgetMs);
      return m.count;
    };
  }

  it('counts how far the fleet total is below its level since moving began', () => {
    const observe = counter(60_000);
    expect(observe(1000, true, 0)).toBe(0);
    expect(observe(900, true, 1)).toBe(100);
    expect(observe(1010, true, 2)).toBe(0);
    expect(observe(1000, true, 3)).toBe(10);
  });

  it('after moving ends, keeps counting until the clients are back or forgetMs passed', () => {
    const observe = counter(60_000);
    observe(1000, true, 0);
    expect(observe(900, false, 1000)).toBe(100);
    expect(observe(950, false, 30_000)).toBe(50);
    expect(observe(1000, false, 40_000)).toBe(0);
    expect(observe(500, true, 50_000)).toBe(0);
    expect(observe(400, false, 60_000)).toBe(100);
    expect(observe(400, false, 200_000)).toBe(0);
  });

  it('keeps the last count while the fleet total is unknown', () => {
    const observe = counter(60_000);
    observe(1000, true, 0);
    observe(900, true, 1);
    expect(observe(undefined, true, 2)).toBe(100);
  });
});
