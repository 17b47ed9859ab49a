import { DEFAULT_CLASSES, Population, dailyFactor, devicesFor, meanLifetimeSec, type ClientClass } from '../../../bench/fleet/population';
import { binomial, seeded } from '../../../bench/fleet/random';

const TEN_MINUTES: ClientClass = { name: 'mobile', share: 1, onMeanSec: 600, offMeanSec: 1e12, dailyAmplitude: 0, cost: 1 };

describe('the client population', () => {
  it('gives connections the mean lifetime of their class', () => {
    // A cohort connected at once and never replaced: Σ survivors per second = Σ lifetimes.
    const pop = new Population([TEN_MINUTES], 1, 0, 1);
    pop.conn[0] = 200_000;
    const rng = seeded(7);
    let connectedSeconds = 0;
    for (let t = 0; t < 20 * 600 && pop.conn[0] > 0; t++) {
      pop.depart([0], rng);
      connectedSeconds += pop.conn[0];
    }
    expect(connectedSeconds / 200_000).toBeGreaterThan(600 * 0.97);
    expect(connectedSeconds / 200_000).toBeLessThan(600 * 1.03);
  });

  it('sizes each class so that its share is online at the daily mean', () => {
    const mobile = DEFAULT_CLASSES[0];
    const devices = devicesFor(mobile, 1_000_000);
    expect((devices * mobile.onMeanSec) / (mobile.onMeanSec + mobile.offMeanSec)).toBeCloseTo(mobile.share * 1_000_000, -1);
  });

  it('mixes minutes-long and days-long lifetimes (a heavy tail)', () => {
    const lifetimes = DEFAULT_CLASSES.map((c) => c.onMeanSec);
    expect(Math.max(...lifetimes) / Math.min(...lifetimes)).toBeGreaterThan(100);
    expect(meanLifetimeSec(DEFAULT_CLASSES)).toBeGreaterThan(86_400);
  });

  it('peaks reconnections in the evening and dips them in the morning', () => {
    const mobile = DEFAULT_CLASSES[0];
    expect(dailyFactor(mobile, 20 * 3600)).toBeCloseTo(1.5);
    expect(dailyFactor(mobile, 8 * 3600)).toBeCloseTo(0.5);
  });

  it('moves devices between connected and offline without creating or losing any', () => {
    const pop = new Population(DEFAULT_CLASSES, 3, 30_000, 1);
    pop.placeInitial([0.2, 0.3, 0.5], seeded(1));
    const fresh = new Float64Array(pop.k);
    const rng = seeded(2);
    for (let t = 0; t < 600; t++) {
      pop.depart([0, 1, 2], rng);
      pop.wake(t, rng, fresh);
      fresh.forEach((n, k) => (pop.conn[(t % 3) * pop.k + k] += n));
    }
    expect(pop.connectedTotal() + pop.offlineTotal()).toBe(pop.devices);
  });

  it('draws binomial counts with the right mean, never outside 0..n', () => {
    const rng = seeded(3);
    let sum = 0;
    for (let i = 0; i < 2000; i++) {
      const x = binomial(rng, 1000, 0.3);
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThanOrEqual(1000);
      sum += x;
    }
    expect(sum / 2000).toBeCloseTo(300, 0);
  });
});
