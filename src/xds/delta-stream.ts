import type { DeltaDiscoveryRequest } from './messages';
import { encodeDeltaDiscoveryResponse } from './messages';
import type { EncodedResource } from './snapshot';
import type { StreamDeps } from './sotw-stream';
import type { OutgoingResponse, TypeStatus } from './stream-observer';
import type { TypeSync } from './sync-state';
import { CLUSTER, ENDPOINT, PUSH_ORDER, WILDCARD_TYPES, type TypeUrl } from './type-urls';

const MAX_PENDING = 64;

interface Change {
  readonly name: string;
  readonly prev?: string;
  /** Undefined for a removal. */
  readonly next?: string;
}

interface TypeState {
  wildcard: boolean;
  /** Names subscribed by name; made on the first one (wildcard types usually have none). */
  subscribed: Set<string> | undefined;
  /** Resource versions the client holds, as far as we know. */
  known: Map<string, string>;
  /** Versions the client rejected: never sent again. Made on the first NACK, as most streams never have one. */
  nacked: Map<string, string> | undefined;
  /** Names to send again even if the client holds their version; made when a Cluster push first asks for it. */
  resend: Set<string> | undefined;
  /** Responses not yet answered, by nonce; dropped once all are, as a settled fleet holds none. */
  pending: Map<string, { sentAtMs: number; changes: Change[]; version: string }> | undefined;
  lastError?: string;
  lastAckedVersion?: string;
  lastSentVersion?: string;
}

/**
 * Incremental (Delta) ADS, one stream. Pure state machine like SotwStream. The client's
 * initial_resource_versions seed what it holds, so a reconnect gets only real differences;
 * deletions go out as removed_resources. A NACK restores our view of the client to what
 * it had before and marks the rejected versions so they are not resent.
 */
export class DeltaStream {
  private readonly types = new Map<TypeUrl, TypeState>();

  constructor(private readonly deps: StreamDeps) {}

  onRequest(typeUrl: TypeUrl, req: DeltaDiscoveryRequest): OutgoingResponse[] {
    let st = this.types.get(typeUrl);
    const subscribe = req.resource_names_subscribe ?? [];
    const unsubscribe = req.resource_names_unsubscribe ?? [];
    if (!st) {
      st = {
        wildcard: subscribe.includes('*') || (subscribe.length === 0 && WILDCARD_TYPES.has(typeUrl)),
        subscribed: undefined,
        known: new Map(Object.entries(req.initial_resource_versions ?? {})),
        nacked: undefined,
        resend: undefined,
        pending: undefined,
        lastError: undefined,
        lastAckedVersion: undefined,
        lastSentVersion: undefined,
      };
      this.types.set(typeUrl, st);
    } else {
      // A repeated subscription asks for the resource again, whatever we think it holds.
      for (const name of subscribe) if (name !== '*') st.known.delete(name);
      if (subscribe.includes('*')) st.wildcard = true;
    }
    this.settle(typeUrl, st, req);
    for (const name of subscribe) if (name !== '*') (st.subscribed ??= new Set()).add(name);
    for (const name of unsubscribe) {
      if (name === '*') st.wildcard = false;
      st.subscribed?.delete(name);
      st.known.delete(name);
    }
    return this.respond(typeUrl, st);
  }

  onSnapshot(changed?: ReadonlySet<TypeUrl>): OutgoingResponse[] {
    const out: OutgoingResponse[] = [];
    for (const typeUrl of PUSH_ORDER) {
      const st = this.types.get(typeUrl);
      // A type whose content did not change has nothing new, unless a Cluster push just now
      // asked for its endpoints again (the resend set, filled earlier in this loop).
      if (!st || (changed && !changed.has(typeUrl) && (st.resend?.size ?? 0) === 0)) continue;
      out.push(...this.respond(typeUrl, st));
    }
    return out;
  }

  /** Resource names this stream subscribes to by name, over all types (bounded by the server). */
  subscriptionCount(): number {
    let n = 0;
    for (const st of this.types.values()) n += st.wildcard ? 0 : (st.subscribed?.size ?? 0);
    return n;
  }

  status(): Partial<Record<TypeUrl, TypeStatus>> {
    const out: Partial<Record<TypeUrl, TypeStatus>> = {};
    const snap = this.deps.snapshot();
    for (const [t, st] of this.types) {
      // Only rejections of what the snapshot still holds: after a rollback to the version
      // the client kept, nothing is sent and its old rejection no longer stands.
      const current = snap?.resources[t];
      const nacked = [...(st.nacked?.entries() ?? [])]
        .filter(([n, v]) => current?.get(n)?.version === v)
        .map(([n, v]) => `${n}@${v}`)
        .join(',');
      out[t] = {
        subscribed: st.wildcard ? 'wildcard' : [...(st.subscribed ?? [])].sort(),
        ackedVersion: st.lastAckedVersion,
        nackedVersion: nacked || undefined,
        lastError: st.lastError,
        ...(st.pending ? { awaitingAnswer: true as const } : {}),
      };
    }
    return out;
  }

  /** Per type, whether the client holds every resource the current snapshot has for it (sync-state.ts). */
  sync(): Partial<Record<TypeUrl, TypeSync>> {
    const snap = this.deps.snapshot();
    const out: Partial<Record<TypeUrl, TypeSync>> = {};
    for (const [t, st] of this.types) {
      const all = snap?.resources[t] ?? new Map<string, EncodedResource>();
      // `known` is updated when a response is sent: nothing in flight is part of holding the latest.
      let holds = st.pending === undefined;
      let nackedLatest = false;
      for (const name of st.wildcard ? all.keys() : (st.subscribed ?? [])) {
        const res = all.get(name);
        if (res === undefined) {
          if (st.known.has(name)) holds = false;
        } else if (st.known.get(name) !== res.version || st.resend?.has(name) === true) {
          holds = false;
          if (st.nacked?.get(name) === res.version) nackedLatest = true;
        }
      }
      if (st.wildcard) for (const name of st.known.keys()) if (!all.has(name)) holds = false;
      let inFlight: number | undefined;
      for (const p of st.pending?.values() ?? []) inFlight = Math.min(inFlight ?? p.sentAtMs, p.sentAtMs);
      out[t] = {
        sentVersion: st.lastSentVersion,
        ackedVersion: st.lastAckedVersion,
        latestVersion: snap?.typeVersions[t],
        holdsLatest: holds,
        nackedLatest: !holds && nackedLatest,
        lastError: st.lastError,
        inFlightSinceMs: inFlight,
      };
    }
    return out;
  }

  /** Per type, the resources this stream subscribes to that the current snapshot has. */
  selection(): Partial<Record<TypeUrl, readonly EncodedResource[]>> {
    const snap = this.deps.snapshot();
    const out: Partial<Record<TypeUrl, readonly EncodedResource[]>> = {};
    for (const [t, st] of this.types) {
      const all = snap?.resources[t] ?? new Map<string, EncodedResource>();
      const names = st.wildcard ? [...all.keys()] : [...(st.subscribed ?? [])].sort();
      out[t] = names.map((n) => all.get(n)).filter((r): r is EncodedResource => r !== undefined);
    }
    return out;
  }

  private settle(typeUrl: TypeUrl, st: TypeState, req: DeltaDiscoveryRequest): void {
    const nonce = req.response_nonce ?? '';
    if (nonce === '') return;
    const sent = st.pending?.get(nonce);
    if (!st.pending || !sent) {
      this.deps.observer.stale(typeUrl, nonce);
      return;
    }
    st.pending.delete(nonce);
    if (st.pending.size === 0) st.pending = undefined;
    if (req.error_detail) {
      st.lastError = req.error_detail.message ?? `code ${req.error_detail.code ?? '?'}`;
      for (const c of sent.changes) {
        if (c.prev === undefined) st.known.delete(c.name);
        else st.known.set(c.name, c.prev);
        if (c.next !== undefined) (st.nacked ??= new Map()).set(c.name, c.next);
      }
      this.deps.observer.nacked(typeUrl, sent.version, st.lastError);
    } else {
      for (const c of sent.changes) st.nacked?.delete(c.name);
      st.lastAckedVersion = sent.version;
      this.deps.observer.acked(typeUrl, sent.version, this.deps.nowMs() - sent.sentAtMs);
    }
  }

  private respond(typeUrl: TypeUrl, st: TypeState): OutgoingResponse[] {
    const snap = this.deps.snapshot();
    if (!snap) return [];
    const all = snap.resources[typeUrl];
    // A wildcard wants every resource: a name subscribed besides is among them, or absent and so sends nothing.
    const wanted = st.wildcard ? all.keys() : (st.subscribed ?? []);

    const updates: EncodedResource[] = [];
    for (const name of [...wanted].sort()) {
      const res = all.get(name);
      if (res) {
        const stale = st.known.get(name) !== res.version || st.resend?.has(name) === true;
        if (stale && st.nacked?.get(name) !== res.version) updates.push(res);
      }
    }
    const removed = [...st.known.keys()].filter((name) => !all.has(name) && (st.wildcard || st.subscribed?.has(name) === true)).sort();
    if (updates.length === 0 && removed.length === 0) return [];

    const changes: Change[] = [
      ...updates.map((r) => ({ name: r.name, prev: st.known.get(r.name), next: r.version })),
      ...removed.map((name) => ({ name, prev: st.known.get(name) })),
    ];
    for (const r of updates) {
      st.known.set(r.name, r.version);
      st.resend?.delete(r.name);
    }
    for (const name of removed) st.known.delete(name);

    const nonce = this.deps.nonce();
    const version = snap.typeVersions[typeUrl];
    const pending = (st.pending ??= new Map());
    pending.set(nonce, { sentAtMs: this.deps.nowMs(), changes, version });
    st.lastSentVersion = version;
    // A client that never answers must not grow this without bound.
    if (pending.size > MAX_PENDING) pending.delete(pending.keys().next().value as string);
    if (typeUrl === CLUSTER) {
      // A changed Cluster is re-created by Envoy and must get its endpoints again.
      const eds = this.types.get(ENDPOINT);
      if (eds) for (const r of updates) (eds.resend ??= new Set()).add(r.name);
    }
    this.deps.observer.pushed(typeUrl, version, updates.length, removed.length);
    return [
      {
        typeUrl,
        version,
        nonce,
        bytes: encodeDeltaDiscoveryResponse(typeUrl, version, nonce, updates, removed),
        resourceNames: updates.map((r) => r.name),
        removedNames: removed,
      },
    ];
  }
}
