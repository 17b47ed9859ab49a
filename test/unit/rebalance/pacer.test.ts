import { MissingClients, RateWindow } from '../../../src/rebalance/pacer';

describe('RateWindow', () => {
  it('allows at most the rate in any one-second window', () => {
    const w = new RateWindow(100);
    expect(w.available(0)).toBe(100);
    w.take(60, 0);
    expect(w.available(500)).toBe(40);
    w.take(40, 500);
    expect(w.available(999)).toBe(0);
    // The first 60 leave the window at 1000 ms, the next 40 at 1500 ms.
    expect(w.available(1000)).toBe(60);
    expect(w.available(1500)).toBe(100);
  });

  it('applies a new rate at once', () => {
    const w = new RateWindow(100);
    w.take(50, 0);
    w.configure(40);
    expect(w.available(10)).toBe(0);
  });
});

describe('MissingClients', () => {
  it('counts how far the fleet total is below its level since moving began', () => {
    const m = new MissingClients(60_000);
    expect(m.observe(1000, true, 0)).toBe(0);
    expect(m.observe(900, true, 1)).toBe(100);
    expect(m.observe(1010, true, 2)).toBe(0);
    expect(m.observe(1000, true, 3)).toBe(10);
  });

  it('after moving ends, keeps counting until the clients are back or forgetMs passed', () => {
    const m = new MissingClients(60_000);
    m.observe(1000, true, 0);
    expect(m.observe(900, false, 1000)).toBe(100);
    expect(m.observe(950, false, 30_000)).toBe(50);
    expect(m.observe(1000, false, 40_000)).toBe(0);
    expect(m.observe(500, true, 50_000)).toBe(0);
    expect(m.observe(400, false, 60_000)).toBe(100);
    expect(m.observe(400, false, 200_000)).toBe(0);
  });

  it('keeps the last count while the fleet total is unknown', () => {
    const m = new MissingClients(60_000);
    m.observe(1000, true, 0);
    m.observe(900, true, 1);
    expect(m.observe(undefined, true, 2)).toBe(100);
  });
});
