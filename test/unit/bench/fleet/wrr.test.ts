import { EdfScheduler } from '../../../bench/fleet/wrr';
import { seeded } from '../../../bench/fleet/random';

describe('EdfScheduler (one Envoy weighted round robin)', () => {
  it('spreads picks in proportion to the weights, within one pick at every point of the run', () => {
    const edf = new EdfScheduler(4);
    edf.reset([1, 2, 4, 8], seeded(1));
    const counts = new Float64Array(4);
    for (let i = 1; i <= 1500; i++) {
      counts[edf.pick()]++;
      [1, 2, 4, 8].forEach((w, b) => expect(Math.abs(counts[b] - (i * w) / 15)).toBeLessThan(2));
    }
    expect([...counts]).toEqual([100, 200, 400, 800]);
  });

  it('never picks a host whose weight is 0 (not in EDS or DRAINING)', () => {
    const edf = new EdfScheduler(3);
    edf.reset([5, 0, 5], seeded(2));
    const counts = new Float64Array(3);
    expect(edf.pickMany(1000, counts)).toBe(true);
    expect([...counts]).toEqual([500, 0, 500]);
  });

  it('refuses the connections when no host is left', () => {
    const edf = new EdfScheduler(2);
    edf.reset([0, 0], seeded(3));
    const counts = new Float64Array(2);
    expect(edf.pickMany(10, counts)).toBe(false);
    expect([...counts]).toEqual([0, 0]);
  });

  it('starts each host at a random point, so different Envoys do not pick in lockstep', () => {
    const first = (seed: number): number => {
      const edf = new EdfScheduler(10);
      edf.reset(new Array(10).fill(1), seeded(seed));
      return edf.pick();
    };
    expect(new Set([1, 2, 3, 4, 5, 6, 7, 8].map(first)).size).toBeGreaterThan(3);
  });
});
