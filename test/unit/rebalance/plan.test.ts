import { planMoves, type MoveCandidate } from '../../../src/rebalance';

const settings = { tolerance: 0.1, minExcess: 10 };
const broker = (name: string, connections: number | undefined, extra: Partial<MoveCandidate> = {}): MoveCandidate => ({
  name,
  ...(connections === undefined ? {} : { connections }),
  capacity: 10_000,
  drainRequested: false,
  movedSinceScrape: 0,
  hasAgent: true,
  overloaded: false,
  leftAlone: false,
  ...extra,
});

describe('planMoves', () => {
  it('after a scale-out from 3 to 4 equal brokers, moves exactly the excess of each old broker', () => {
    const plan = planMoves([broker('a', 1000), broker('b', 1000), broker('c', 1000), broker('d', 0)], settings);
    expect(plan.sources.map((s) => [s.name, s.kind, s.target, s.toMove])).toEqual([
      ['a', 'rebalance', 750, 250],
      ['b', 'rebalance', 750, 250],
      ['c', 'rebalance', 750, 250],
    ]);
    expect(plan.targets).toEqual(['d']);
    expect(plan.blocked).toBe('');
  });

  it('sets targets in proportion to capacity', () => {
    const plan = planMoves([broker('small', 600, { capacity: 10_000 }), broker('large', 600, { capacity: 20_000 })], settings);
    expect(plan.sources.map((s) => [s.name, s.target, s.toMove])).toEqual([['small', 400, 200]]);
  });

  it('leaves a broker within tolerance alone, but one already moving goes on down to its target', () => {
    const fleet = [broker('a', 1080), broker('b', 920)];
    expect(planMoves(fleet, settings).sources).toEqual([]);
    expect(planMoves(fleet, settings, new Set(['a'])).sources.map((s) => [s.name, s.toMove])).toEqual([['a', 80]]);
  });

  it('ignores an excess below minExcess', () => {
    expect(planMoves([broker('a', 28), broker('b', 12)], settings).sources).toEqual([]);
  });

  it('subtracts clients already asked to leave since the last scrape', () => {
    const plan = planMoves([broker('a', 1000, { movedSinceScrape: 200 }), broker('b', 0)], settings);
    expect(plan.sources.map((s) => [s.name, s.toMove])).toEqual([['a', 300]]);
  });

  it('drains every client of a draining broker, and keeps it out of the targets', () => {
    const plan = planMoves([broker('a', 400, { drainRequested: true }), broker('b', 300), broker('c', 300)], settings);
    expect(plan.sources.map((s) => [s.name, s.kind, s.target, s.toMove])).toEqual([['a', 'drain', 0, 400]]);
    expect(plan.targets).toEqual(['b', 'c']);
  });

  it('refuses to move when no broker can take the clients', () => {
    const plan = planMoves([broker('a', 400, { drainRequested: true }), broker('b', 300, { overloaded: true })], settings);
    expect(plan.blocked).toMatch(/overloaded or full/);
    expect(plan.sources[0].toMove).toBe(0);
    const alone = planMoves([broker('a', 400, { drainRequested: true })], settings);
    expect(alone.blocked).toMatch(/no serving broker/);
  });

  it('marks a source without an agent as not movable', () => {
    const plan = planMoves([broker('a', 1000, { hasAgent: false }), broker('b', 0)], settings);
    expect(plan.sources[0]).toMatchObject({ name: 'a', movable: false, toMove: 500 });
  });

  it('moves from an overloaded broker whose clients cost more than average, down to the mean utilisation', () => {
    // Equal connection counts, but a's clients are expensive: its utilisation is 0.9, b's 0.3.
    const plan = planMoves([broker('a', 500, { utilisation: 0.9, overloaded: true }), broker('b', 500, { utilisation: 0.3 })], settings);
    // Mean 0.6: a reaches it at 500 × 0.6 / 0.9 = 333 connections.
    expect(plan.sources.map((s) => [s.name, s.target, s.toMove])).toEqual([['a', 333, 166]]);
  });

  it('does not move pinned or excluded brokers, nor brokers without fresh metrics', () => {
    const plan = planMoves([broker('a', 1000, { leftAlone: true }), broker('b', undefined), broker('c', 0)], settings);
    expect(plan.sources).toEqual([]);
  });
});
