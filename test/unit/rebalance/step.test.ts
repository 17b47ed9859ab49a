// step() on its own: the state machine that decides every round, driven event by event with
// no executor, no timer and no I/O. The executor's behaviour is rebalancer.test's and phases.test's.
import type { AgentClient } from '../../../src/rebalance';
import { INITIAL_STATE, type RebalanceAction, type RebalanceEvent, type RebalanceState, type World } from '../../../src/rebalance/state';
import { step } from '../../../src/rebalance/step';
import { tuned } from '../balancing/fixtures';
import { Fleet } from './fleet';

const T0 = 2_000_000;

function worldOf(fleet: Fleet, acked = true): World {
  return {
    leader: fleet.leader,
    policy: fleet.policy,
    brokers: fleet.brokers,
    loads: fleet.loads(),
    decisions: fleet.decisions(),
    drainAck: () => ({ acked, laggards: [] }),
  };
}

/** Deep-freezes a state's plain parts so any change in place throws (Maps are checked by value below). */
function snapshot(s: RebalanceState): string {
  return JSON.stringify(s, (_k, v: unknown) => (v instanceof Map ? [...v] : v instanceof Set ? [...v] : v));
}

function only<K extends RebalanceAction['kind']>(actions: readonly RebalanceAction[], kind: K): Extract<RebalanceAction, { kind: K }>[] {
  return actions.filter((a): a is Extract<RebalanceAction, { kind: K }> => a.kind === kind);
}

const clients = (prefix: string, n: number): AgentClient[] =>
  Array.from({ length: n }, (_, i) => ({
    clientId: `${prefix}-${i}`,
    mqttVersion: 5,
    cleanStart: true,
    sessionExpirySec: 0,
    sharedSubscriber: false,
    connectedSinceMs: i,
  }));

describe('step()', () => {
  const drainPolicy = tuned({ rebalance: { ratePerSec: 100, batchSize: 40 } });

  function drainingFleet(): Fleet {
    const fleet = new Fleet({ a: 90, b: 0 }, drainPolicy);
    fleet.brokers[0] = { ...fleet.brokers[0], draining: true };
    return fleet;
  }

  it('walks a drain round event by event: count, plan, list, batched disconnects, moved', () => {
    const fleet = drainingFleet();
    let s = INITIAL_STATE;
    const feed = (e: RebalanceEvent, now = T0): readonly RebalanceAction[] => {
      const out = step(s, e, now);
      s = out.state;
      return out.actions;
    };

    const tick = feed({ kind: 'tick', world: worldOf(fleet) });
    expect(only(tick, 'count')).toEqual([{ kind: 'count', broker: 'a', agentUrl: 'http://a' }]);
    expect(s.round).toBeDefined();

    const planned = feed({ kind: 'counted', broker: 'a', result: { ok: true, value: { total: 90, clients: [] } } });
    expect(only(planned, 'set-moving')).toEqual([]); // a drain from the brokers file: discovery marks it, not the rebalancer
    const [list] = only(planned, 'list');
    expect(list).toMatchObject({ broker: 'a', agentUrl: 'http://a' });
    expect(s.sources.get('a')).toMatchObject({ kind: 'drain', toMove: 90 });

    const first = feed({ kind: 'listed', broker: 'a', result: { ok: true, value: { total: 90, clients: clients('a', 90) } } });
    const [batch1] = only(first, 'disconnect');
    // The rate allows 100 this second and 90 are to move: batches of batchSize 40.
    expect(batch1.clientIds).toHaveLength(40);

    const second = feed({
      kind: 'disconnected',
      broker: 'a',
      result: { ok: true, value: { disconnected: [...batch1.clientIds], notFound: [] } },
    });
    const [batch2] = only(second, 'disconnect');
    expect(batch2.clientIds).toHaveLength(40);
    expect(only(second, 'moved')).toEqual([{ kind: 'moved', broker: 'a', sourceKind: 'drain', n: 40 }]);

    const third = feed({
      kind: 'disconnected',
      broker: 'a',
      result: { ok: true, value: { disconnected: [...batch2.clientIds], notFound: [] } },
    });
    const [batch3] = only(third, 'disconnect');
    expect(batch3.clientIds).toHaveLength(10);

    const last = feed({
      kind: 'disconnected',
      broker: 'a',
      result: { ok: true, value: { disconnected: [...batch3.clientIds], notFound: [] } },
    });
    expect(only(last, 'disconnect')).toEqual([]);
    expect(s.round).toBeUndefined();
    expect(s.sources.get('a')).toMatchObject({ phase: 'moving', moved: 90 });
    expect(s.movedTotal.get('a')).toBe(90);
  });

  it('never changes the state it is given', () => {
    const fleet = drainingFleet();
    let s = INITIAL_STATE;
    const events: RebalanceEvent[] = [
      { kind: 'drain-requested', broker: 'gone' },
      { kind: 'tick', world: worldOf(fleet) },
      { kind: 'counted', broker: 'a', result: { ok: true, value: { total: 90, clients: [] } } },
      { kind: 'listed', broker: 'a', result: { ok: true, value: { total: 90, clients: clients('a', 90) } } },
      { kind: 'disconnected', broker: 'a', result: { ok: false, error: { code: 'AGENT_HTTP_STATUS', message: 'HTTP 500' } } },
      { kind: 'drain-cancelled', broker: 'gone' },
    ];
    for (const e of events) {
      const before = snapshot(s);
      const next = step(s, e, T0).state;
      expect(snapshot(s)).toBe(before);
      s = next;
    }
    expect(s.sources.get('a')).toMatchObject({ phase: 'failed', lastError: { message: 'HTTP 500' } });
  });

  it('drops a tick while a round waits for an agent (rounds never overlap)', () => {
    const fleet = drainingFleet();
    const { state } = step(INITIAL_STATE, { kind: 'tick', world: worldOf(fleet) }, T0);
    const again = step(state, { kind: 'tick', world: worldOf(fleet) }, T0 + 1000);
    expect(again.actions).toEqual([]);
    expect(again.state.round).toBe(state.round);
  });

  it('moves nobody before every Envoy ACKed the DRAINING push (ack-pending)', () => {
    const fleet = drainingFleet();
    let { state } = step(INITIAL_STATE, { kind: 'tick', world: worldOf(fleet, false) }, T0);
    const out = step(state, { kind: 'counted', broker: 'a', result: { ok: true, value: { total: 90, clients: [] } } }, T0);
    state = out.state;
    expect(only(out.actions, 'list')).toEqual([]);
    expect(state.sources.get('a')).toMatchObject({ phase: 'waiting-for-ack' });
    expect(state.round).toBeUndefined();
  });

  it('on a standby publishes the API drains and calls no agent', () => {
    const fleet = drainingFleet();
    fleet.leader = false;
    let s = step(INITIAL_STATE, { kind: 'drain-requested', broker: 'b' }, T0).state;
    const out = step(s, { kind: 'tick', world: worldOf(fleet) }, T0);
    s = out.state;
    expect(out.actions.filter((a) => a.kind === 'count' || a.kind === 'list' || a.kind === 'disconnect')).toEqual([]);
    expect(only(out.actions, 'set-moving').map((a) => [...a.moving.keys()])).toEqual([['b']]);
    expect(s.round).toBeUndefined();
  });

  it('takes the shared drain record as the API drains, keeping when each was first asked for', () => {
    let s = step(INITIAL_STATE, { kind: 'drain-requested', broker: 'a' }, T0).state;
    const record = new Map([
      ['a', { requestedAtMs: T0 + 5, by: 'replica-2' }],
      ['b', { requestedAtMs: T0 + 7, by: 'replica-2' }],
    ]);
    s = step(s, { kind: 'drains-recorded', record }, T0 + 10).state;
    expect([...s.apiDrains]).toEqual([
      ['a', { requestedAtMs: T0, origin: 'api' }],
      ['b', { requestedAtMs: T0 + 7, origin: 'api' }],
    ]);
    s = step(s, { kind: 'drains-recorded', record: new Map() }, T0 + 20).state;
    expect(s.apiDrains.size).toBe(0);
  });
});
