import { capacityTargets, fillFraction, imbalanceOf, minimumMoves, percentile, timeToFill } from '../../../bench/fleet/metrics';

describe('fleet metrics', () => {
  it('takes T90 as the first second the new brokers hold 90% of their target share', () => {
    const fill = [0.1, 0.5, 0.89, 0.9, 0.85, 0.95].map((f, i) => ({ tSec: 100 + i * 10, fill: f }));
    expect(timeToFill(fill, 100)).toBe(30);
    expect(timeToFill(fill, 100, 0.99)).toBeUndefined();
  });

  it('counts the new brokers fill against their capacity share of all connections', () => {
    // 900 connections on two old brokers; a new broker of the same size should hold 300.
    const targets = capacityTargets(900, [1, 1, 1]);
    expect(targets).toEqual([300, 300, 300]);
    expect(fillFraction([150], [targets[2]])).toBe(0.5);
  });

  it('puts the minimum disconnects of a scale-out at the sum of the excess over the targets', () => {
    const conns = [450, 450, 0];
    expect(minimumMoves(conns, capacityTargets(900, [1, 1, 1]))).toBe(300);
  });

  it('measures imbalance as max over mean utilisation', () => {
    expect(imbalanceOf([0.5, 0.5, 1])).toBeCloseTo(1.5);
    expect(imbalanceOf([0, 0])).toBeUndefined();
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
  });
});
