import { NO_IN_FLIGHT, observeInFlight, type InFlight, type MoveRecord } from '../../../src/rebalance/in-flight';
import { tuned } from '../balancing/fixtures';
import { Fleet } from './fleet';

const WINDOW_MS = 20_000;

/** Feeds one observation a second, like a round does, and returns each count. */
function observer(): (total: number | undefined, moves: readonly MoveRecord[], nowMs: number) => number {
  let f: InFlight = NO_IN_FLIGHT;
  return (total, moves, nowMs) => {
    f = observeInFlight(f, total, moves, nowMs, WINDOW_MS);
    return f.count;
  };
}

/** A deterministic wander of ± a few hundred connections, like a million clients' churn. */
const wander = (sec: number): number => Math.round(150 * Math.sin(sec / 7) + 100 * Math.sin(sec / 2.3));

describe('clients in flight', () => {
  it('stays below maxInFlight while the fleet wanders and falls by itself and moved clients come back', () => {
    const observe = observer();
    const moves: MoveRecord[] = [];
    let worst = 0;
    for (let sec = 0; sec < 600; sec++) {
      // 200 moved each second (the default rate), back a second later; the fleet falls by 10
      // a second, 6,000 in the ten minutes, which a count since moving began would all take
      // for moved clients.
      const away = sec === 0 ? 0 : 200;
      worst = Math.max(worst, observe(1_000_000 - 10 * sec + wander(sec) - away, moves, sec * 1000));
      moves.push({ atMs: sec * 1000, n: 200 });
    }
    expect(worst).toBeLessThan(tuned({}).rebalance.maxInFlight);
  });

  it('counts nothing when nothing was moved, however far the fleet falls', () => {
    const observe = observer();
    for (let sec = 0; sec < 60; sec++) expect(observe(1_000_000 - 500 * sec, [], sec * 1000)).toBe(0);
  });

  it('counts moved clients that never come back, up to what was moved within the window', () => {
    const observe = observer();
    const moves: MoveRecord[] = [];
    const counts: number[] = [];
    for (let sec = 0; sec < 60; sec++) {
      counts.push(observe(10_000 - 100 * sec, moves, sec * 1000));
      moves.push({ atMs: sec * 1000, n: 100 });
    }
    expect(counts[5]).toBe(500);
    expect(Math.max(...counts)).toBe(2000);
    expect(counts.at(-1)).toBe(2000);
  });

  it('forgets a move once it is older than the window', () => {
    const observe = observer();
    const moves = [{ atMs: 0, n: 300 }];
    expect(observe(1000, [], 0)).toBe(0);
    expect(observe(700, moves, 1000)).toBe(300);
    expect(observe(700, moves, 20_000)).toBe(300);
    expect(observe(700, moves, 21_000)).toBe(0);
  });

  it('keeps the last count while the fleet total is unknown, bounded by the moves still in the window', () => {
    const observe = observer();
    const moves = [{ atMs: 0, n: 300 }];
    observe(1000, [], 0);
    observe(800, moves, 1000);
    expect(observe(undefined, moves, 2000)).toBe(200);
  });
});

describe('pacing by clients in flight', () => {
  async function run(fleet: Fleet, seconds: number, each: () => void): Promise<void> {
    const r = fleet.rebalancer();
    for (let i = 0; i < seconds; i++) {
      each();
      fleet.nowMs += 1000;
      await r.tick();
    }
  }

  it('keeps draining while the fleet shrinks by itself (a falling daily curve)', async () => {
    const fleet = new Fleet({ a: 6000, b: 0, c: 5000 }, tuned({ rebalance: { ratePerSec: 100, batchSize: 100, maxInFlight: 500 } }));
    fleet.brokers[0] = { ...fleet.brokers[0], draining: true };
    // c loses 10 clients a second for good: since the drain began that is 1,000 after 100 s.
    await run(fleet, 70, () => fleet.clients.set('c', fleet.clients.get('c')!.slice(10)));
    expect(fleet.moved('a')).toBe(6000);
    expect(fleet.logLines.join('\n')).not.toMatch(/maxInFlight/);
  });

  it('pauses when moved clients do not come back (an Envoy refusing them)', async () => {
    const fleet = new Fleet({ a: 6000, b: 0 }, tuned({ rebalance: { ratePerSec: 100, batchSize: 100, maxInFlight: 500 } }));
    fleet.brokers[0] = { ...fleet.brokers[0], draining: true };
    fleet.reconnect = false;
    const r = fleet.rebalancer();
    for (let i = 0; i < 20; i++) {
      fleet.nowMs += 1000;
      await r.tick();
    }
    expect(fleet.moved('a')).toBe(500);
    expect(r.drainStatus('a')).toMatchObject({ phase: 'paused', note: expect.stringMatching(/500 moved clients not back yet/) });
  });
});
