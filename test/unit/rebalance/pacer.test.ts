import { MissingClients, TokenBucket } from '../../../src/rebalance/pacer';

describe('TokenBucket', () => {
  it('starts full, refills at the rate, and never holds more than the burst', () => {
    const b = new TokenBucket(100, 50);
    expect(b.available(0)).toBe(50);
    b.take(50);
    expect(b.available(100)).toBe(10);
    expect(b.available(10_000)).toBe(50);
  });

  it('a lower burst applies at once', () => {
    const b = new TokenBucket(100, 50);
    b.configure(100, 5);
    expect(b.available(0)).toBe(5);
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
