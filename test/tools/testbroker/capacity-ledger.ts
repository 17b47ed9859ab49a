// Per-client bookkeeping for the capacity model: who is connected since when, what they
// subscribed to, and how much traffic they caused over the sliding window. Pure state:
// the broker feeds it events with timestamps; nothing here reads a clock or a socket.
import type { ClientTraffic } from './capacity-model';
import { RateWindow } from './capacity-window';
import { chooseMember, parseSubscriptionFilter, topicMatches } from './capacity-shared';

export interface WindowConfig {
  readonly windowMs: number;
  readonly bucketMs: number;
}

interface Subscription {
  /** As the client sent it, e.g. `$share/g/sensors/#`. */
  readonly original: string;
  /** What is matched against topics, e.g. `sensors/#`. */
  readonly filter: string;
  readonly group?: string;
}

interface ClientRecord {
  readonly clientId: string;
  readonly connectedSinceMs: number;
  readonly cleanSession: boolean;
  readonly subscriptions: Map<string, Subscription>;
  /** Set once the client held a shared subscription; its deliveries then need filtering. */
  hadShared: boolean;
  readonly publishes: RateWindow;
  readonly fanout: RateWindow;
  readonly received: RateWindow;
}

/** One client as GET /admin/clients reports it. */
export interface ClientInfo extends ClientTraffic {
  readonly clientId: string;
  readonly connectedSinceMs: number;
  readonly cleanSession: boolean;
  readonly subscriptions: string[];
  readonly sharedSubscriber: boolean;
}

export type SubscribeOutcome = { ok: true; filter: string } | { ok: false; reason: string };

const groupKey = (group: string, filter: string): string => `${group}\u0000${filter}`;

export class ClientLedger {
  private readonly clients = new Map<string, ClientRecord>();
  /** Share group (group + filter) → member client ids, in the order they joined. */
  private readonly groups = new Map<string, string[]>();

  constructor(private readonly window: WindowConfig) {}

  get size(): number {
    return this.clients.size;
  }

  has(clientId: string): boolean {
    return this.clients.has(clientId);
  }

  /** A client completed CONNECT; an older record of the same id (a take-over) is replaced. */
  connect(clientId: string, nowMs: number, cleanSession: boolean): void {
    this.disconnect(clientId);
    const { windowMs, bucketMs } = this.window;
    this.clients.set(clientId, {
      clientId,
      connectedSinceMs: nowMs,
      cleanSession,
      subscriptions: new Map(),
      hadShared: false,
      publishes: new RateWindow(windowMs, bucketMs),
      fanout: new RateWindow(windowMs, bucketMs),
      received: new RateWindow(windowMs, bucketMs),
    });
  }

  disconnect(clientId: string): void {
    const record = this.clients.get(clientId);
    if (!record) return;
    for (const original of [...record.subscriptions.keys()]) this.unsubscribe(clientId, original);
    this.clients.delete(clientId);
  }

  /**
   * Records a subscription and says which filter the broker must really subscribe to:
   * the filter itself, or for `$share/g/f` the plain `f`.
   */
  subscribe(clientId: string, topic: string): SubscribeOutcome {
    const parsed = parseSubscriptionFilter(topic);
    if (parsed.kind === 'invalid') return { ok: false, reason: parsed.reason };
    const record = this.clients.get(clientId);
    if (record && !record.subscriptions.has(topic)) {
      if (parsed.kind === 'shared') {
        record.subscriptions.set(topic, { original: topic, filter: parsed.filter, group: parsed.group });
        record.hadShared = true;
        const key = groupKey(parsed.group, parsed.filter);
        const members = this.groups.get(key) ?? [];
        members.push(clientId);
        this.groups.set(key, members);
      } else {
        record.subscriptions.set(topic, { original: topic, filter: parsed.filter });
      }
    }
    return { ok: true, filter: parsed.filter };
  }

  unsubscribe(clientId: string, topic: string): void {
    const record = this.clients.get(clientId);
    const sub = record?.subscriptions.get(topic);
    if (!record || !sub) return;
    record.subscriptions.delete(topic);
    if (sub.group === undefined) return;
    const key = groupKey(sub.group, sub.filter);
    const remaining = (this.groups.get(key) ?? []).filter((id) => id !== clientId);
    if (remaining.length > 0) this.groups.set(key, remaining);
    else this.groups.delete(key);
  }

  recordPublish(clientId: string, nowMs: number): void {
    this.clients.get(clientId)?.publishes.record(nowMs);
  }

  /** One copy of a message from `publisherId` (undefined for the broker's own) to `receiverId`. */
  recordDelivery(publisherId: string | undefined, receiverId: string, nowMs: number): void {
    if (publisherId !== undefined) this.clients.get(publisherId)?.fanout.record(nowMs);
    this.clients.get(receiverId)?.received.record(nowMs);
  }

  /**
   * Whether the broker should forward a message on `topic` to `receiverId`: yes if a
   * plain subscription of the client matches, or if a shared one matches and this
   * client is the member chosen for `messageKey`. A client that never held a shared
   * subscription always gets what the broker matched for it.
   */
  shouldDeliver(receiverId: string, topic: string, messageKey: number): boolean {
    const record = this.clients.get(receiverId);
    if (!record || !record.hadShared) return true;
    for (const sub of record.subscriptions.values()) {
      if (!topicMatches(sub.filter, topic)) continue;
      if (sub.group === undefined) return true;
      const members = this.groups.get(groupKey(sub.group, sub.filter)) ?? [];
      if (chooseMember(members, messageKey) === receiverId) return true;
    }
    // Matched only through a shared subscription that chose another member, or through
    // one the client has left (the broker's plain subscription outlives UNSUBSCRIBE).
    return false;
  }

  traffic(nowMs: number): ClientTraffic[] {
    return [...this.clients.values()].map((r) => this.trafficOf(r, nowMs));
  }

  list(nowMs: number): ClientInfo[] {
    return [...this.clients.values()].map((r) => ({
      clientId: r.clientId,
      connectedSinceMs: r.connectedSinceMs,
      cleanSession: r.cleanSession,
      subscriptions: [...r.subscriptions.keys()],
      sharedSubscriber: [...r.subscriptions.values()].some((s) => s.group !== undefined),
      ...this.trafficOf(r, nowMs),
    }));
  }

  private trafficOf(record: ClientRecord, nowMs: number): ClientTraffic {
    const since = record.connectedSinceMs;
    return {
      publishRate: record.publishes.ratePerSecond(nowMs, since),
      fanoutRate: record.fanout.ratePerSecond(nowMs, since),
      receiveRate: record.received.ratePerSecond(nowMs, since),
    };
  }
}
