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
    const m = new MissingClients();
    expect(m.observe(1000, true)).toBe(0);
    expect(m.observe(900, true)).toBe(100);
    expect(m.observe(1010, true)).toBe(0);
    expect(m.observe(1000, true)).toBe(10);
  });

  it('forgets the level when moving ends', () => {
    const m = new MissingClients();
    m.observe(1000, true);
    expect(m.observe(500, false)).toBe(0);
    expect(m.observe(500, true)).toBe(0);
  });
});
