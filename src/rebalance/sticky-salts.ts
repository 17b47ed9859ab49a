// Salts for the ids a rebalance moves in sticky placement (docs/mqtt-filter.md, "Overrides:
// salted ids"). Without one, a moved id's next reconnect hashes to the broker it was moved
// off; with one, the MQTT filter hashes "<salt>:<id>" and the id is placed by the weights like
// a new one. The set is bounded (rebalance.stickySaltsMax, the oldest give way) and each salt
// lasts rebalance.stickySaltTtlMs, so the filter's ECDS config never grows without end.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Policy } from '../config/policy';
import { tenantMqttFilter } from '../config/policy-mqtt-filter';
import { clientIdHash, saltedIdsValue } from '../translation/sticky-salts';
import type { Logger } from '../util/log';

const MAX_SALT = 0xffff_ffff;
/** How often the wait for the ECDS ACK looks again. */
const ACK_POLL_MS = 100;

interface Entry {
  readonly clientId: string;
  /** clientIdHash(clientId), computed once. */
  readonly hash: string;
  readonly salt: number;
  /** The broker it was moved off, and when. */
  readonly broker: string;
  readonly atMs: number;
  /** Seen back on that broker since (counted once). */
  back: boolean;
}

/** Whether any chain places by client id: only then do salts mean anything. */
export function stickyAnywhere(policy: Policy): boolean {
  const shared = policy.mqttFilter;
  const chains = [shared, ...Object.values(policy.tenants).map((t) => tenantMqttFilter(shared, t.mqttFilter))];
  return chains.some((f) => f.enabled && f.placement === 'sticky');
}

export interface StickySaltsDeps {
  readonly registry: Registry;
  readonly logger: Logger;
  policy(): Policy;
  now(): number;
  /** The set changed: publish it (the filter's ECDS config). */
  changed(): void;
  /** Whether every Envoy with an ECDS subscription ACKed the ECDS version of the current snapshot. */
  ecdsAcked(): boolean;
}

export class StickySalts {
  /** By id; a Map keeps insertion order, so the first entry is the oldest. */
  private readonly entries = new Map<string, Entry>();
  private nextSalt: number;
  private version = 0;
  private builtVersion = 0;
  private publishedVersion = 0;
  private value = '';
  private readonly size: Gauge;
  private readonly returned: Counter;

  constructor(private readonly deps: StickySaltsDeps) {
    // Salts differ across restarts, so a restarted control plane does not hand an id the salt it had.
    this.nextSalt = 1 + (deps.now() % 1_000_000_007);
    this.size = new Gauge({
      name: 'mqtt_xds_sticky_salts',
      help: "Client ids with a salt in the MQTT filter's config (sticky placement: ids a rebalance moved)",
      registers: [deps.registry],
    });
    this.returned = new Counter({
      name: 'mqtt_xds_sticky_salt_returns_total',
      help: 'Salted (moved) client ids seen connected again to the broker they were moved off',
      registers: [deps.registry],
    });
  }

  /** Salts only when some chain is sticky and rebalance.stickySaltsMax is not 0. */
  enabled(policy: Policy = this.deps.policy()): boolean {
    return policy.rebalance.stickySaltsMax > 0 && stickyAnywhere(policy);
  }

  /** The filter's saltedIds value, as a model is built from it (see published()). */
  saltedIds(): string {
    this.builtVersion = this.version;
    return this.value;
  }

  /** The model last built went out as the current snapshot: its salts are what Envoys are sent. */
  published(): void {
    this.publishedVersion = this.builtVersion;
  }

  /** The set as of `version` (or a later one) is published and every Envoy ACKed it. */
  acked(version: number): boolean {
    return this.publishedVersion >= version && this.deps.ecdsAcked();
  }

  count(): number {
    return this.entries.size;
  }

  /**
   * Gives each id a fresh salt, publishes, and waits (at most rebalance.ackTimeoutMs) until every
   * Envoy ACKed the config that holds them. True when they did; false after the wait, and the
   * ids are moved anyway: while the source is DRAINING they cannot land on it either way.
   */
  async salt(broker: string, clientIds: readonly string[]): Promise<boolean> {
    const policy = this.deps.policy();
    const now = this.deps.now();
    const max = policy.rebalance.stickySaltsMax;
    for (const clientId of clientIds) {
      this.entries.delete(clientId);
      this.entries.set(clientId, { clientId, hash: clientIdHash(clientId), salt: this.freshSalt(), broker, atMs: now, back: false });
    }
    let evicted = 0;
    for (const id of this.entries.keys()) {
      if (this.entries.size <= max) break;
      this.entries.delete(id);
      evicted++;
    }
    if (evicted > 0) this.deps.logger.info('sticky salts: the oldest gave way (rebalance.stickySaltsMax)', { evicted, max });
    const version = this.update();
    const deadline = now + policy.rebalance.ackTimeoutMs;
    while (!this.acked(version)) {
      // step() logs it (moves.ts, salted()) and moves them anyway.
      if (this.deps.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, ACK_POLL_MS));
    }
    return true;
  }

  /** Drops salts older than rebalance.stickySaltTtlMs, and all of them once no chain is sticky. */
  expire(): void {
    const policy = this.deps.policy();
    const before = this.entries.size;
    if (!this.enabled(policy)) this.entries.clear();
    const oldest = this.deps.now() - policy.rebalance.stickySaltTtlMs;
    for (const [id, e] of this.entries) {
      if (e.atMs > oldest) break;
      this.entries.delete(id);
    }
    if (this.entries.size !== before) this.update();
  }

  /**
   * A broker's agent listed its clients: salted ids connected to the broker they were moved
   * off, since they were moved, came back (their salt hashed there too, or bounded load sent
   * them). Counted once each; the next rebalance that chooses them gives them a new salt.
   */
  listed(broker: string, clients: readonly { readonly clientId: string; readonly connectedSinceMs: number }[]): number {
    if (this.entries.size === 0) return 0;
    let n = 0;
    for (const c of clients) {
      const e = this.entries.get(c.clientId);
      if (!e || e.back || e.broker !== broker || c.connectedSinceMs <= e.atMs) continue;
      e.back = true;
      n++;
    }
    if (n > 0) this.returned.inc(n);
    return n;
  }

  private freshSalt(): number {
    const s = this.nextSalt;
    this.nextSalt = s >= MAX_SALT ? 1 : s + 1;
    return s;
  }

  private update(): number {
    this.value = saltedIdsValue([...this.entries.values()]);
    this.size.set(this.entries.size);
    this.version++;
    this.deps.changed();
    return this.version;
  }
}
