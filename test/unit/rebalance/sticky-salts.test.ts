// Sticky placement's salts: the bounded set the MQTT filter hashes moved ids with, and the
// rebalancer salting (and waiting for the salts to be ACKed) before it disconnects.
import { Registry } from 'prom-client';
import type { Policy } from '../../../src/config/policy';
import { Rebalancer, StickySalts, stickyAnywhere } from '../../../src/rebalance';
import { clientIdHash } from '../../../src/translation';
import { createLogger } from '../../../src/util/log';
import { tuned } from '../balancing/fixtures';
import { Fleet } from './fleet';

const sticky = (rebalance: Partial<Policy['rebalance']> = {}): Policy =>
  tuned({ mqttFilter: { enabled: true, placement: 'sticky' }, rebalance: { mode: 'on', ratePerSec: 100, batchSize: 50, ...rebalance } });

class Harness {
  nowMs = 1_000_000;
  ecdsAcked = true;
  changes = 0;
  readonly registry = new Registry();
  readonly lines: string[] = [];
  readonly salts: StickySalts;
  constructor(public policy: Policy) {
    this.salts = new StickySalts({
      registry: this.registry,
      logger: createLogger('info', {}, (l) => this.lines.push(l)),
      policy: () => this.policy,
      now: () => this.nowMs,
      changed: () => {
        this.changes++;
        // The publisher builds a model from the set and publishes it.
        this.salts.saltedIds();
        this.salts.published();
      },
      ecdsAcked: () => this.ecdsAcked,
    });
  }
  entries(): Map<string, number> {
    const v = this.salts.saltedIds();
    return new Map(v === '' ? [] : v.split(',').map((e) => [e.split(':')[0], Number(e.split(':')[1])]));
  }
  async metric(name: string): Promise<number> {
    const m = (await this.registry.getMetricsAsJSON()).find((x) => x.name === name);
    return m?.values[0]?.value ?? 0;
  }
}

describe('StickySalts', () => {
  it('salts only while some chain is sticky and stickySaltsMax is not 0', () => {
    expect(stickyAnywhere(tuned({ mqttFilter: { enabled: true, placement: 'weighted' } }))).toBe(false);
    expect(stickyAnywhere(sticky())).toBe(true);
    expect(
      stickyAnywhere(tuned({ mqttFilter: { enabled: true }, tenants: { acme: { mqttFilter: { placement: 'sticky' } } } } as never)),
    ).toBe(true);
    expect(new Harness(sticky({ stickySaltsMax: 0 })).salts.enabled()).toBe(false);
  });

  it('gives each id a fresh salt, keeps at most stickySaltsMax (the oldest give way) and counts them in a gauge', async () => {
    const h = new Harness(sticky({ stickySaltsMax: 3 }));
    expect(await h.salts.salt('a', ['c1', 'c2'])).toBe(true);
    const first = h.entries().get(clientIdHash('c1'))!;
    expect(await h.salts.salt('a', ['c3', 'c4', 'c1'])).toBe(true);
    const e = h.entries();
    expect([...e.keys()].sort()).toEqual([clientIdHash('c1'), clientIdHash('c3'), clientIdHash('c4')].sort());
    expect(e.get(clientIdHash('c1'))).not.toBe(first);
    expect(new Set(e.values()).size).toBe(3);
    expect(await h.metric('mqtt_xds_sticky_salts')).toBe(3);
    expect(h.lines.some((l) => l.includes('the oldest gave way'))).toBe(true);
  });

  it('drops salts after stickySaltTtlMs, and all of them once no chain is sticky', async () => {
    const h = new Harness(sticky({ stickySaltTtlMs: 60_000 }));
    await h.salts.salt('a', ['old']);
    h.nowMs += 30_000;
    await h.salts.salt('a', ['new']);
    h.nowMs += 30_000;
    h.salts.expire();
    expect([...h.entries().keys()]).toEqual([clientIdHash('new')]);
    const changes = h.changes;
    h.salts.expire();
    expect(h.changes).toBe(changes); // nothing expired: nothing to publish
    h.policy = tuned({ mqttFilter: { enabled: true, placement: 'weighted' } });
    h.salts.expire();
    expect(h.salts.count()).toBe(0);
    expect(await h.metric('mqtt_xds_sticky_salts')).toBe(0);
  });

  it('counts a salted id seen again on the broker it was moved off, once, and not one elsewhere or not reconnected', async () => {
    const h = new Harness(sticky());
    await h.salts.salt('a', ['back', 'moved', 'stayed']);
    const at = h.nowMs;
    const seen = [
      { clientId: 'back', connectedSinceMs: at + 10 },
      { clientId: 'stayed', connectedSinceMs: at - 5000 }, // the connection from before the move: not yet gone
      { clientId: 'unsalted', connectedSinceMs: at + 10 },
    ];
    expect(h.salts.listed('a', seen)).toBe(1);
    expect(h.salts.listed('a', seen)).toBe(0);
    expect(h.salts.listed('b', [{ clientId: 'moved', connectedSinceMs: at + 10 }])).toBe(0);
    expect(await h.metric('mqtt_xds_sticky_salt_returns_total')).toBe(1);
  });

  it('waits for every Envoy to ACK the salts, at most rebalance.ackTimeoutMs, then moves anyway', async () => {
    const h = new Harness(sticky({ ackTimeoutMs: 100 }));
    h.ecdsAcked = false;
    const started = Date.now();
    let done = false;
    const waiting = h.salts.salt('a', ['x']).then((acked) => {
      done = true;
      return acked;
    });
    await new Promise((r) => setTimeout(r, 150));
    expect(done).toBe(false); // the fake clock has not moved: still waiting
    h.nowMs += 100;
    expect(await waiting).toBe(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
  });

  it('does not count a set as ACKed before the snapshot built from it is published', async () => {
    const h = new Harness(sticky());
    const salts = new StickySalts({
      registry: new Registry(),
      logger: createLogger('info', {}, () => {}),
      policy: () => h.policy,
      now: () => h.nowMs,
      changed: () => {},
      ecdsAcked: () => true,
    });
    const version = 0; // a new set has made no change yet
    expect(salts.acked(version + 1)).toBe(false);
    void salts.salt('a', ['x']);
    salts.saltedIds();
    expect(salts.acked(version + 1)).toBe(false);
    salts.published();
    expect(salts.acked(version + 1)).toBe(true);
    h.nowMs += 60_000; // ends the wait above
  });
});

describe('Rebalancer with sticky salts', () => {
  function fleetWith(
    policy: Policy,
    counts: Record<string, number>,
  ): { fleet: Fleet; h: Harness; r: Rebalancer; salted: { ids: readonly string[]; before: number }[] } {
    const fleet = new Fleet(counts, policy);
    const h = new Harness(policy);
    const salted: { ids: readonly string[]; before: number }[] = [];
    const r = fleet.rebalancer({
      stickySalts: {
        enabled: (p) => h.salts.enabled(p),
        expire: () => h.salts.expire(),
        listed: (b, c) => h.salts.listed(b, c),
        salt: async (b, ids) => {
          salted.push({ ids, before: fleet.disconnectCalls.length });
          return h.salts.salt(b, ids);
        },
      },
    });
    return { fleet, h, r, salted };
  }

  async function run(fleet: Fleet, r: Rebalancer, seconds: number): Promise<void> {
    for (let i = 0; i < seconds; i++) {
      fleet.nowMs += 1000;
      await r.tick();
    }
  }

  it('salts the ids a rebalance moves before it disconnects them, and moves exactly the excess', async () => {
    const { fleet, h, r, salted } = fleetWith(sticky(), { a: 300, b: 0 });
    h.nowMs = fleet.nowMs;
    await run(fleet, r, 40);
    expect(fleet.moved('a')).toBe(150);
    expect(h.salts.count()).toBe(150);
    // Every disconnect request carries only ids salted before it was sent.
    fleet.disconnectCalls.forEach((call, i) => {
      const before = new Set(salted.filter((s) => s.before <= i).flatMap((s) => s.ids));
      for (const id of call.ids) expect(before.has(id)).toBe(true);
    });
  });

  it('moves the salted ids anyway when the salts were not ACKed within ackTimeoutMs, and says so', async () => {
    const fleet = new Fleet({ a: 300, b: 0 }, sticky());
    const r = fleet.rebalancer({
      stickySalts: { enabled: () => true, expire: () => undefined, listed: () => 0, salt: async () => false },
    });
    await run(fleet, r, 40);
    expect(fleet.moved('a')).toBe(150);
    expect(fleet.logLines.some((l) => l.includes('moving salted clients before every Envoy ACKed their salts'))).toBe(true);
  });

  it('salts nobody in a drain, nor in weighted placement', async () => {
    const drain = fleetWith(sticky(), { a: 80, b: 0 });
    drain.fleet.brokers[0] = { ...drain.fleet.brokers[0], draining: true };
    await run(drain.fleet, drain.r, 10);
    expect(drain.fleet.moved('a')).toBe(80);
    expect(drain.salted).toEqual([]);

    const weighted = fleetWith(tuned({ rebalance: { mode: 'on', ratePerSec: 100, batchSize: 50 } }), { a: 300, b: 0 });
    await run(weighted.fleet, weighted.r, 40);
    expect(weighted.fleet.moved('a')).toBe(150);
    expect(weighted.salted).toEqual([]);
  });
});
