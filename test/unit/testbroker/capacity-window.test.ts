import { RateWindow } from '../../tools/testbroker/capacity-window';

describe('RateWindow', () => {
  it('measures a steady stream at its true rate once the window is full', () => {
    const w = new RateWindow(5000, 250);
    // 20 events per second for 10 s, one every 50 ms.
    for (let t = 0; t < 10_000; t += 50) w.record(t);
    expect(w.ratePerSecond(10_000)).toBeCloseTo(20, 0);
  });

  it('forgets events older than the window', () => {
    const w = new RateWindow(5000, 250);
    for (let t = 0; t < 1000; t += 10) w.record(t);
    expect(w.count(1000)).toBe(100);
    expect(w.count(6000)).toBe(0);
    expect(w.ratePerSecond(6000)).toBe(0);
  });

  it('measures a young client over the time since it connected, not the whole window', () => {
    const w = new RateWindow(5000, 250);
    const since = 100_000;
    for (let t = since; t < since + 2000; t += 100) w.record(t);
    // 20 events in 2 s: 10/s, not 20 events / 5 s.
    expect(w.ratePerSecond(since + 2000, since)).toBeCloseTo(10, 5);
  });

  it('does not read one early message as a burst', () => {
    const w = new RateWindow(5000, 250);
    w.record(1010);
    expect(w.ratePerSecond(1020, 1000)).toBe(1);
  });

  it('keeps counting in the newest bucket when the clock steps back', () => {
    const w = new RateWindow(1000, 100);
    w.record(5000);
    w.record(4000);
    expect(w.count(5000)).toBe(2);
  });

  it('drops whole buckets as time passes', () => {
    const w = new RateWindow(1000, 100);
    w.record(0, 5);
    w.record(550, 3);
    expect(w.count(999)).toBe(8);
    expect(w.count(1000)).toBe(3);
    expect(w.count(1600)).toBe(0);
  });

  it('refuses a bucket larger than the window', () => {
    expect(() => new RateWindow(100, 200)).toThrow(/bucketMs/);
  });
});
