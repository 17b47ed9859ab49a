// Walks the phase table (src/rebalance/phases.ts): every event is reached by a scenario,
// and docs/rebalancing.md shows the same table.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as phases from '../../../src/rebalance/phases';
import { TRANSITIONS, transitionTable, type PhaseEvent } from '../../../src/rebalance/phases';
import type { Rebalancer } from '../../../src/rebalance';
import { tuned } from '../balancing/fixtures';
import { Fleet } from './fleet';

const seen = new Set<PhaseEvent>();
let enter: jest.SpyInstance<void, Parameters<typeof phases.enter>>;
// Made anew per test: the jest config may restore spies between tests.
const original = phases.enter;
beforeEach(() => {
  enter = jest.spyOn(phases, 'enter').mockImplementation((s, e, n) => original(s, e, n));
});
afterEach(() => enter.mockRestore());
const events = (): PhaseEvent[] => enter.mock.calls.map((c) => c[1]);

async function run(fleet: Fleet, r: Rebalancer, seconds: number): Promise<void> {
  for (let i = 0; i < seconds; i++) {
    fleet.nowMs += 1000;
    await r.tick();
  }
  for (const e of events()) seen.add(e);
}

/** A drain of a: the brokers file marks it, so no round starts outside the test's ticks. */
function drainOf(counts: Record<string, number>, patch: Parameters<typeof tuned>[0] = {}): { fleet: Fleet; r: Rebalancer } {
  const fleet = new Fleet(counts, tuned(patch));
  fleet.brokers[0] = { ...fleet.brokers[0], draining: true };
  return { fleet, r: fleet.rebalancer() };
}

describe('the phase table', () => {
  it('is the one docs/rebalancing.md shows', () => {
    const doc = fs.readFileSync(path.join(__dirname, '../../../docs/rebalancing.md'), 'utf8');
    expect(doc).toContain(transitionTable());
  });

  it('a drain whose Envoys all ACKed moves clients (moved → moving)', async () => {
    const { fleet, r } = drainOf({ a: 30, b: 0 });
    await run(fleet, r, 1);
    expect(events()).toContain('moved');
  });

  it('a broker without an agent only loses its weight (no-agent)', async () => {
    const { fleet, r } = drainOf({ a: 30, b: 0 });
    fleet.brokers[0] = { name: 'a', address: '10.0.0.1', port: 1883, draining: true };
    await run(fleet, r, 1);
    expect(r.drainStatus('a')).toMatchObject({ phase: 'no-agent' });
  });

  it('a drain past its deadline moves nobody more (drain-deadline-passed → dry-run)', async () => {
    const { fleet, r } = drainOf({ a: 30, b: 0 }, { drain: { deadlineMs: 1000 } });
    fleet.acked = false;
    await run(fleet, r, 3);
    expect(r.drainStatus('a')).toMatchObject({ phase: 'dry-run', note: expect.stringMatching(/deadline/) });
  });

  it('drain.moveClients false only marks DRAINING (drain-move-off → dry-run)', async () => {
    const { fleet, r } = drainOf({ a: 30, b: 0 }, { drain: { moveClients: false } });
    await run(fleet, r, 1);
    expect(events()).toContain('drain-move-off');
    expect(fleet.moved('a')).toBe(0);
  });

  it('a rebalance in dry-run plans but moves nobody (rebalance-not-on → dry-run)', async () => {
    const fleet = new Fleet({ a: 300, b: 0 }, tuned({ rebalance: { mode: 'dry-run' } }));
    await run(fleet, fleet.rebalancer(), 8);
    expect(events()).toContain('rebalance-not-on');
  });

  it('a drain with nowhere to send clients pauses (plan-blocked → paused)', async () => {
    const { fleet, r } = drainOf({ a: 30 });
    await run(fleet, r, 1);
    expect(r.drainStatus('a')).toMatchObject({ phase: 'paused', note: expect.stringMatching(/nothing moves/) });
  });

  it('waits for the DRAINING push to be ACKed, and past ackTimeoutMs for a bare false (ack-pending, ack-late-wait)', async () => {
    const { fleet, r } = drainOf({ a: 30, b: 0 }, { rebalance: { ackTimeoutMs: 2000 } });
    fleet.acked = false;
    await run(fleet, r, 1);
    expect(events()).toContain('ack-pending');
    await run(fleet, r, 3);
    expect(events()).toContain('ack-late-wait');
    expect(r.drainStatus('a')).toMatchObject({ phase: 'waiting-for-ack' });
  });

  it('pauses while moved clients are not back (in-flight-full → paused)', async () => {
    const { fleet, r } = drainOf({ a: 100, b: 0 }, { rebalance: { maxInFlight: 1, batchSize: 10 } });
    fleet.reconnect = false;
    await run(fleet, r, 3);
    expect(r.drainStatus('a')).toMatchObject({ phase: 'paused', note: expect.stringMatching(/maxInFlight 1/) });
  });

  it('pauses once the second is used up (rate-limit → paused)', async () => {
    const { fleet, r } = drainOf({ a: 100, b: 0 }, { rebalance: { ratePerSec: 1 } });
    await run(fleet, r, 1);
    fleet.nowMs += 10;
    await r.tick();
    for (const e of events()) seen.add(e);
    expect(events()).toContain('rate-limit');
  });

  it('pauses when no listed client is safe to move (nothing-to-choose → paused)', async () => {
    const { fleet, r } = drainOf({ a: 20, b: 0 }, { rebalance: { safeOnly: true } });
    fleet.clients.set(
      'a',
      fleet.clients.get('a')!.map((c) => ({ ...c, cleanStart: false, sessionExpirySec: 3600, sharedSubscriber: false })),
    );
    await run(fleet, r, 1);
    expect(r.drainStatus('a')).toMatchObject({ phase: 'paused', note: expect.stringMatching(/safeOnly/) });
  });

  it('stops on an agent failure (agent-failed → failed)', async () => {
    const { fleet, r } = drainOf({ a: 20, b: 0 });
    fleet.failWith = { code: 'AGENT_CONNECT', message: 'refused' };
    await run(fleet, r, 1);
    expect(r.drainStatus('a')).toMatchObject({ phase: 'failed', error: 'refused' });
  });

  it('has no row that no scenario reaches', () => {
    expect([...seen].sort()).toEqual(Object.keys(TRANSITIONS).sort());
  });
});
