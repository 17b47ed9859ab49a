import { brokerSetChanges } from '../../../test/bench/lb/analysis';
import { PlacementLog, stickiness, type BrokerSetChange } from '../../../test/bench/lb/stickiness';

const none: readonly BrokerSetChange[] = [];

describe('PlacementLog', () => {
  it('records each connection once however many samples saw it, in time order', () => {
    const log = new PlacementLog(1_000);
    log.observe('b1', [{ clientId: 'a', connectedSinceMs: 3_000 }]);
    log.observe('b1', [{ clientId: 'a', connectedSinceMs: 3_000 }]);
    log.observe('b2', [
      { clientId: 'a', connectedSinceMs: 2_000 },
      { clientId: 'b', connectedSinceMs: 2_500 },
    ]);
    expect(log.connections()).toEqual([
      { clientId: 'a', broker: 'b2', atMs: 1_000 },
      { clientId: 'b', broker: 'b2', atMs: 1_500 },
      { clientId: 'a', broker: 'b1', atMs: 2_000 },
    ]);
  });

  it('ignores the harness probe and connections from before t = 0', () => {
    const log = new PlacementLog(10_000);
    log.observe('b1', [
      { clientId: 'bench-probe-0', connectedSinceMs: 11_000 },
      { clientId: 'x', connectedSinceMs: 9_000 },
      { clientId: 'y', connectedSinceMs: 10_000 },
    ]);
    expect(log.connections().map((c) => c.clientId)).toEqual(['y']);
  });
});

describe('stickiness', () => {
  it('counts the reconnects that land on the broker of the previous connection', () => {
    const r = stickiness(
      [
        { clientId: 'a', broker: 'b1', atMs: 0 },
        { clientId: 'a', broker: 'b1', atMs: 10_000 },
        { clientId: 'a', broker: 'b2', atMs: 20_000 },
        { clientId: 'a', broker: 'b2', atMs: 30_000 },
        { clientId: 'b', broker: 'b3', atMs: 5_000 },
        // One connection only: not a reconnect.
        { clientId: 'c', broker: 'b1', atMs: 5_000 },
      ],
      none,
    );
    expect(r.reconnects).toBe(3);
    expect(r.same).toBe(2);
    expect(r.share).toBeCloseTo(2 / 3, 10);
    expect(r.stable).toEqual({ reconnects: 3, same: 2, share: r.share });
    expect(r.acrossChanges).toEqual({ reconnects: 0, moved: 0, movedToJoined: 0 });
  });

  it('orders each id by time, whatever order the connections come in', () => {
    const r = stickiness(
      [
        { clientId: 'a', broker: 'b2', atMs: 20_000 },
        { clientId: 'a', broker: 'b1', atMs: 0 },
        { clientId: 'a', broker: 'b1', atMs: 10_000 },
      ],
      none,
    );
    expect(r).toMatchObject({ reconnects: 2, same: 1 });
  });

  it('puts reconnects across a change of the broker set apart, and names moves to the broker that joined', () => {
    const changes: BrokerSetChange[] = [{ atSec: 40, joined: 'b4' }];
    const r = stickiness(
      [
        // Stays on b1 across the join.
        { clientId: 'a', broker: 'b1', atMs: 30_000 },
        { clientId: 'a', broker: 'b1', atMs: 50_000 },
        // Moves to the new broker: expected.
        { clientId: 'b', broker: 'b2', atMs: 30_000 },
        { clientId: 'b', broker: 'b4', atMs: 45_000 },
        // Moves between old brokers: the cost of a hash that reshuffles.
        { clientId: 'c', broker: 'b2', atMs: 39_000 },
        { clientId: 'c', broker: 'b3', atMs: 41_000 },
        // After the join, a stable pair again.
        { clientId: 'c', broker: 'b3', atMs: 60_000 },
      ],
      changes,
    );
    expect(r.reconnects).toBe(4);
    expect(r.same).toBe(2);
    expect(r.stable).toEqual({ reconnects: 1, same: 1, share: 1 });
    expect(r.acrossChanges).toEqual({ reconnects: 3, moved: 2, movedToJoined: 1 });
  });

  it('a change exactly at the second connection counts as between them', () => {
    const r = stickiness(
      [
        { clientId: 'a', broker: 'b1', atMs: 1_000 },
        { clientId: 'a', broker: 'b2', atMs: 2_000 },
      ],
      [{ atSec: 2 }],
    );
    expect(r.stable.reconnects).toBe(0);
    expect(r.acrossChanges).toEqual({ reconnects: 1, moved: 1, movedToJoined: 0 });
  });

  it('has no share without reconnects', () => {
    const r = stickiness([{ clientId: 'a', broker: 'b1', atMs: 0 }], none);
    expect(r).toMatchObject({ reconnects: 0, same: 0, share: null, stable: { reconnects: 0, same: 0, share: null } });
  });
});

describe('brokerSetChanges', () => {
  it('takes joins, leaves, drains and kills as they happened, naming the broker that joined', () => {
    const run = {
      strategy: 'mqtt-xds-sticky',
      label: 'mqtt-xds-sticky',
      samples: [],
      wallSec: 1,
      workDir: '/tmp',
      events: [
        { atSec: 10.2, kind: 'broker-join', broker: 'b4' },
        { atSec: 20, kind: 'overload', broker: 'b1' },
        { atSec: 30, kind: 'drain', broker: 'b2' },
        { atSec: 40, kind: 'broker-leave', broker: 'b3', error: 'refused' },
        { atSec: 50, kind: 'kill', broker: 'b1' },
      ],
    } as const;
    expect(brokerSetChanges(run)).toEqual([{ atSec: 10.2, joined: 'b4' }, { atSec: 30 }, { atSec: 50 }]);
  });
});
