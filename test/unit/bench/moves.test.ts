import {
  connectedAt,
  connectionShares,
  countBetween,
  endImbalance,
  maxShare,
  minimumMoves,
  peakConnections,
  peakInWindow,
  peakShareDuringMove,
  timeToShare,
  timeUntilAllBack,
} from '../../../test/bench/lb/moves';
import { broker, sample, series, timeline } from './fixtures';

describe('connectionShares', () => {
  it('splits the connections by capacity and leaves out excluded and absent brokers', () => {
    const s = sample(0, [
      broker('big', 600, { capacity: 2000 }),
      broker('small', 300),
      broker('gone', 500, { present: false }),
      broker('draining', 100),
    ]);
    const shares = connectionShares(s, new Set(['draining']));
    expect([...shares.keys()]).toEqual(['big', 'small']);
    expect(shares.get('big')).toEqual({ connections: 600, fair: 600, share: 1 });
    expect(shares.get('small')).toEqual({ connections: 300, fair: 300, share: 1 });
  });

  it('has no share when nobody is connected', () => {
    expect(connectionShares(sample(0, [broker('a', 0), broker('b', 0)])).get('a')).toEqual({ connections: 0, fair: 0 });
  });
});

describe('timeToShare (T90)', () => {
  it('counts from the join to the first sample at 90 % of the fair share', () => {
    // Fair share of b4 is 750 throughout; it passes 675 at t = 43.
    const samples = series(38, {
      b1: [1000, 1000, 950, 850, 800, 775, 760],
      b2: [1000, 1000, 950, 850, 800, 775, 760],
      b3: [1000, 1000, 950, 850, 800, 775, 760],
      b4: [0, 0, 150, 450, 600, 675, 720],
    });
    expect(timeToShare(samples, 'b4', 38)).toBe(5);
  });

  it('is null when the broker never gets there', () => {
    const samples = series(0, { a: [1000, 1000], b: [0, 100] });
    expect(timeToShare(samples, 'b', 0)).toBeNull();
  });

  it('ignores samples before the join', () => {
    const samples = series(0, { a: [500, 500, 500], b: [500, 500, 500] });
    expect(timeToShare(samples, 'b', 1.5)).toBeCloseTo(0.5, 10);
  });
});

describe('minimumMoves', () => {
  it('is the excess over the fair share: 3 × 1000 over four brokers needs 750', () => {
    expect(minimumMoves(sample(35, [broker('b1', 1000), broker('b2', 1000), broker('b3', 1000), broker('b4', 0)]))).toBe(750);
  });

  it('follows capacity, and a draining broker must lose everything', () => {
    const s = sample(0, [broker('a', 500, { capacity: 2000 }), broker('b', 500), broker('c', 300)]);
    // Without c: fair 666.7 / 333.3, so b is 166.7 over; c is excluded but its clients are not counted either.
    expect(minimumMoves(s, new Set(['c']))).toBe(166);
  });

  it('is 0 when the split is already fair', () => {
    expect(minimumMoves(sample(0, [broker('a', 10), broker('b', 10)]))).toBe(0);
  });
});

describe('peakShareDuringMove', () => {
  it('counts a source only once it came down to the ceiling', () => {
    const samples = series(35, {
      b1: [1000, 900, 800, 760, 750],
      b2: [1000, 900, 800, 740, 750],
      b3: [1000, 900, 800, 750, 750],
      b4: [0, 300, 600, 750, 750],
    });
    // b1..b3 start at 133 % and are skipped at 120 %; from 107 % (t = 37) on they count.
    expect(peakShareDuringMove(samples, 35, Infinity)).toEqual({ share: 1.067, broker: 'b1', atSec: 37 });
  });

  it('reports a receiver pushed over the ceiling', () => {
    const overshoot = series(0, { a: [1000, 500, 400], b: [0, 500, 600] });
    expect(peakShareDuringMove(overshoot, 0, Infinity)).toEqual({ share: 1.2, broker: 'b', atSec: 2 });
  });

  it('reports a source that climbs back above the ceiling', () => {
    const bounce = series(0, { a: [1000, 500, 700], b: [0, 500, 300] });
    expect(peakShareDuringMove(bounce, 0, Infinity)).toEqual({ share: 1.4, broker: 'a', atSec: 2 });
  });

  it('keeps a source that never came down out of the peak, but not out of the end share', () => {
    const stuck = series(0, { a: [1000, 1000], b: [1000, 1000], c: [0, 0] });
    expect(peakShareDuringMove(stuck, 0, Infinity)).toEqual({ share: 0, broker: 'c', atSec: 0 });
    expect(maxShare(stuck[1])).toEqual({ share: 1.5, broker: 'a', atSec: 1 });
  });

  it('has no peak without samples in the window', () => {
    expect(peakShareDuringMove(series(0, { a: [1] }), 5, 10)).toEqual({ share: null });
  });
});

describe('peakInWindow (sliding 1 s window)', () => {
  it('finds the busiest second wherever it starts', () => {
    // Two batches of 100, 900 ms apart, each spread over 50 ms: one window holds both.
    const batch = (at: number): number[] => Array.from({ length: 100 }, (_, i) => at + i / 2);
    expect(peakInWindow([...batch(0), ...batch(900)], 1000)).toEqual({ count: 200, atMs: 0 });
    // 1000 ms apart: the window [t, t + 1000) never holds both whole batches.
    expect(peakInWindow([...batch(0), ...batch(1000)], 1000).count).toBe(100);
  });

  it('counts only events in [from, to], in any order', () => {
    expect(peakInWindow([5000, 100, 200, 5100], 1000, 1000)).toEqual({ count: 2, atMs: 5000 });
    expect(peakInWindow([], 1000)).toEqual({ count: 0 });
  });
});

describe('client timeline', () => {
  const storm = timeline({
    connects: [0, 10, 20, 30, 2000, 2500, 2600],
    disconnects: [1000, 1001, 1002],
    failures: [1500, 1600],
  });

  it('replays how many clients were connected', () => {
    expect(connectedAt(storm, 999)).toBe(4);
    expect(connectedAt(storm, 1000)).toBe(3);
    expect(connectedAt(storm, 2000)).toBe(2);
    expect(countBetween(storm.failures, 1000)).toBe(2);
  });

  it('times how long until every client is back', () => {
    expect(timeUntilAllBack(storm, 1000)).toBe(1.6);
  });

  it('times the return of most of the lost clients, leaving out the slowest', () => {
    const slow = timeline({
      connects: [...Array.from({ length: 200 }, (_, i) => i), ...Array.from({ length: 99 }, (_, i) => 1100 + i), 9000],
      disconnects: Array.from({ length: 100 }, (_, i) => 1000 + i / 10),
    });
    // 100 lost at 1000 ms; 99 back by 1198 ms, the last one at 9000 ms.
    expect(timeUntilAllBack(slow, 1000, 0.99)).toBe(0.2);
    expect(timeUntilAllBack(slow, 1000)).toBe(8);
  });

  it('is 0 when nobody lost a connection and null when they never all came back', () => {
    expect(timeUntilAllBack(storm, 3000)).toBe(0);
    expect(timeUntilAllBack(timeline({ connects: [0, 1], disconnects: [10, 11], lifetimeEnds: [] }), 5)).toBeNull();
  });

  it('counts lifetime ends as closes', () => {
    const churn = timeline({ connects: [0, 100, 150], lifetimeEnds: [120] });
    expect(connectedAt(churn, 130)).toBe(1);
    expect(timeUntilAllBack(churn, 110)).toBe(0.04);
  });
});

describe('endImbalance and peakConnections', () => {
  it('measures the other brokers at the end, without the drained one', () => {
    const samples = series(70, { b1: [1300, 1340], b2: [1330, 1330], b3: [1370, 1330], b4: [0, 0] });
    // Last two samples: 1370 / 1333.3 and 1340 / 1333.3.
    expect(endImbalance(samples, new Set(['b4']))).toBeCloseTo((1370 / 1333.3333 + 1340 / 1333.3333) / 2, 3);
    expect(endImbalance(samples, new Set(['b4']), 1)).toBeCloseTo(1.005, 3);
  });

  it('finds the fullest remaining broker after a kill', () => {
    const samples = series(40, { b1: [2000], b2: [2000, 2300, 2600], b3: [0, 1700, 1400] });
    expect(peakConnections(samples, 41, new Set(['b1']))).toEqual({ broker: 'b2', connections: 2600 });
    expect(peakConnections(samples, 50)).toEqual({ connections: 0 });
  });
});
