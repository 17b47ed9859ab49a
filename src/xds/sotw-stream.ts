import type { DiscoveryRequest } from './messages';
import { encodeDiscoveryResponse } from './messages';
import { setVersion, type EncodedResource, type Snapshot } from './snapshot';
import type { OutgoingResponse, StreamObserver, TypeStatus } from './stream-observer';
import type { TypeSync } from './sync-state';
import { CLUSTER, ENDPOINT, PUSH_ORDER, WILDCARD_TYPES, type TypeUrl } from './type-urls';

interface TypeState {
  names: 'wildcard' | Set<string>;
  sentNonce?: string;
  sentVersion?: string;
  sentAtMs?: number;
  /** What the client told us it holds: from an ACK, or from version_info on a new stream. */
  ackedVersion?: string;
  nackedVersion?: string;
  lastError?: string;
  /**
   * Set when a Cluster was pushed: the next EDS request is answered even if the version
   * did not change, or a re-created cluster waits for endpoints forever (go-control-plane
   * #245). Only a request clears it, because a proactive push may reach Envoy before the
   * new cluster subscribed.
   */
  answerNextRequest: boolean;
}

/** The removedNames of every SotW response: SotW sends no removals. */
const NONE: readonly string[] = [];

export interface StreamDeps {
  snapshot(): Snapshot | undefined;
  nonce(): string;
  nowMs(): number;
  observer: StreamObserver;
}

/**
 * State-of-the-World ADS, one stream. Pure state machine: requests and snapshots in,
 * encoded responses out, no gRPC. Rules (Envoy's xDS protocol):
 * - a request whose nonce is not the last one sent for its type is stale and ignored;
 * - a request carrying error_detail is a NACK: the client stays on its last ACKed version
 *   and the rejected version is never sent again (no resend loop);
 * - a new stream's version_info tells what the client already holds, so a reconnect to a
 *   restarted control plane with unchanged state gets no response at all.
 */
export class SotwStream {
  private readonly types = new Map<TypeUrl, TypeState>();

  constructor(private readonly deps: StreamDeps) {}

  onRequest(typeUrl: TypeUrl, req: DiscoveryRequest): OutgoingResponse[] {
    let st = this.types.get(typeUrl);
    const nonce = req.response_nonce ?? '';
    if (st && nonce !== '' && nonce !== st.sentNonce) {
      this.deps.observer.stale(typeUrl, nonce);
      return [];
    }
    if (!st) {
      // Every field set here: all share one hidden class, with no property store added later (a fleet holds three per stream).
      st = {
        names: new Set(),
        sentNonce: undefined,
        sentVersion: undefined,
        sentAtMs: undefined,
        ackedVersion: undefined,
        nackedVersion: undefined,
        lastError: undefined,
        answerNextRequest: false,
      };
      this.types.set(typeUrl, st);
    }
    if (nonce !== '' && req.error_detail) {
      st.nackedVersion = st.sentVersion;
      st.lastError = req.error_detail.message ?? `code ${req.error_detail.code ?? '?'}`;
      this.deps.observer.nacked(typeUrl, st.sentVersion ?? '', st.lastError);
    } else if (nonce !== '') {
      // The version we sent, when it is the one ACKed: a stream keeps one copy, not two.
      const acked = req.version_info ?? '';
      st.ackedVersion = acked === st.sentVersion ? st.sentVersion : acked;
      const latency = st.sentAtMs === undefined ? undefined : this.deps.nowMs() - st.sentAtMs;
      this.deps.observer.acked(typeUrl, st.ackedVersion, latency);
      st.sentAtMs = undefined;
    } else if (req.version_info) {
      st.ackedVersion = req.version_info;
    }
    st.names = subscription(typeUrl, req.resource_names ?? [], st.names);
    const out = this.respond(typeUrl, st, st.answerNextRequest);
    if (typeUrl === ENDPOINT && out.length > 0) st.answerNextRequest = false;
    return out;
  }

  /** Pushes, in make-before-break order, every subscribed type the snapshot changed (all types when not told which). */
  onSnapshot(changed?: ReadonlySet<TypeUrl>): OutgoingResponse[] {
    const out: OutgoingResponse[] = [];
    for (const typeUrl of PUSH_ORDER) {
      // A type whose content did not change has nothing new for anyone: not even selected.
      if (changed && !changed.has(typeUrl)) continue;
      const st = this.types.get(typeUrl);
      if (st) out.push(...this.respond(typeUrl, st, false));
    }
    return out;
  }

  /** Resource names this stream subscribes to by name, over all types (bounded by the server). */
  subscriptionCount(): number {
    let n = 0;
    for (const st of this.types.values()) n += st.names === 'wildcard' ? 0 : st.names.size;
    return n;
  }

  status(): Partial<Record<TypeUrl, TypeStatus>> {
    const out: Partial<Record<TypeUrl, TypeStatus>> = {};
    for (const [t, st] of this.types) {
      out[t] = {
        subscribed: st.names === 'wildcard' ? 'wildcard' : [...st.names].sort(),
        sentVersion: st.sentVersion,
        ackedVersion: st.ackedVersion,
        nackedVersion: st.nackedVersion,
        lastError: st.lastError,
        ...(st.sentVersion !== undefined && st.sentVersion !== st.ackedVersion && st.sentVersion !== st.nackedVersion
          ? { awaitingAnswer: true as const }
          : {}),
      };
    }
    return out;
  }

  /** Per type, whether the client holds what the current snapshot selects for it (sync-state.ts). */
  sync(): Partial<Record<TypeUrl, TypeSync>> {
    const snap = this.deps.snapshot();
    const out: Partial<Record<TypeUrl, TypeSync>> = {};
    for (const [t, st] of this.types) {
      const sel = snap && selectVersioned(snap, t, st.names);
      // A named subscription that selects nothing is sent nothing (respond): there is nothing to hold.
      const latest = sel && (st.names === 'wildcard' || sel.resources.length > 0) ? sel.version : undefined;
      const holds = latest === undefined || st.ackedVersion === latest;
      out[t] = {
        sentVersion: st.sentVersion,
        ackedVersion: st.ackedVersion,
        latestVersion: latest,
        holdsLatest: holds,
        nackedLatest: !holds && st.nackedVersion === latest,
        lastError: st.lastError,
        // sentAtMs is cleared by an ACK; a NACK of the last sent answers it too.
        inFlightSinceMs: st.sentVersion !== st.nackedVersion ? st.sentAtMs : undefined,
      };
    }
    return out;
  }

  /** Per type, the resources this stream's subscription selects from the current snapshot. */
  selection(): Partial<Record<TypeUrl, readonly EncodedResource[]>> {
    const snap = this.deps.snapshot();
    const out: Partial<Record<TypeUrl, readonly EncodedResource[]>> = {};
    for (const [t, st] of this.types) out[t] = snap ? selectVersioned(snap, t, st.names).resources : [];
    return out;
  }

  private respond(typeUrl: TypeUrl, st: TypeState, force: boolean): OutgoingResponse[] {
    const snap = this.deps.snapshot();
    if (!snap) return [];
    const { resources, names, version } = selectVersioned(snap, typeUrl, st.names);
    if (st.names !== 'wildcard' && resources.length === 0) return [];
    const clientHas = st.sentVersion ?? st.ackedVersion;
    if (version === st.nackedVersion) return [];
    if (version === clientHas && !force) return [];

    const nonce = this.deps.nonce();
    st.sentNonce = nonce;
    st.sentVersion = version;
    st.sentAtMs = this.deps.nowMs();
    if (typeUrl === CLUSTER) {
      const eds = this.types.get(ENDPOINT);
      if (eds) eds.answerNextRequest = true;
    }
    this.deps.observer.pushed(typeUrl, version, resources.length, 0);
    return [
      {
        typeUrl,
        version,
        nonce,
        bytes: encodeDiscoveryResponse(typeUrl, version, nonce, resources),
        resourceNames: names,
        removedNames: NONE,
      },
    ];
  }
}

function subscription(typeUrl: TypeUrl, names: readonly string[], prev: TypeState['names']): TypeState['names'] {
  if (names.includes('*')) return 'wildcard';
  // Legacy wildcard: Cluster and Listener requests with no names ask for everything.
  if (names.length === 0 && WILDCARD_TYPES.has(typeUrl)) return 'wildcard';
  if (names.length === 0 && prev === 'wildcard') return 'wildcard';
  // An ACK names what the request before it did: keep that set rather than build an equal one.
  if (prev !== 'wildcard' && sameSet(prev, names)) return prev;
  return new Set(names);
}

/** Whether `names` holds exactly the names of `set`; checked only for the few names an Envoy's ACK carries. */
function sameSet(set: ReadonlySet<string>, names: readonly string[]): boolean {
  if (names.length !== set.size || names.length > 16) return false;
  return names.every((n, i) => set.has(n) && names.indexOf(n) === i);
}

/** What a subscription selects: the resources, their names (shared by every response that sends them) and the set's version. */
interface Selection {
  readonly resources: EncodedResource[];
  readonly names: readonly string[];
  readonly version: string;
}

/**
 * What a subscription selects from a snapshot, and that set's version (a SHA-256), computed
 * once per snapshot and subscription: thousands of Envoys subscribe alike (wildcard, or the
 * one cluster's endpoints), so a push or an ACK does not hash the same set again per stream.
 */
const selections = new WeakMap<Snapshot, Map<string, Selection>>();
/** Distinct subscriptions remembered per snapshot; past it (hostile name sets), each is computed. */
const MAX_SELECTIONS = 1024;
/** The memo keys of wildcard subscriptions, built once rather than per response. */
const WILDCARD_KEY = Object.fromEntries(PUSH_ORDER.map((t) => [t, `${t}\n*`])) as Record<TypeUrl, string>;

function selectVersioned(snap: Snapshot, typeUrl: TypeUrl, names: TypeState['names']): Selection {
  let memo = selections.get(snap);
  if (!memo) {
    memo = new Map();
    selections.set(snap, memo);
  }
  const sorted = names === 'wildcard' ? undefined : [...names].sort();
  const key = sorted === undefined ? WILDCARD_KEY[typeUrl] : `${typeUrl}\n${sorted.join('\n')}`;
  const hit = memo.get(key);
  if (hit) return hit;
  const resources = select(snap, typeUrl, sorted);
  const out = { resources, names: resources.map((r) => r.name), version: setVersion(typeUrl, resources) };
  if (memo.size < MAX_SELECTIONS) memo.set(key, out);
  return out;
}

/** The resources of `typeUrl` named in `sorted`, in that order; all of them when it is undefined (wildcard). */
function select(snap: Snapshot, typeUrl: TypeUrl, sorted: readonly string[] | undefined): EncodedResource[] {
  const all = snap.resources[typeUrl];
  if (sorted === undefined) return [...all.values()];
  return sorted.map((n) => all.get(n)).filter((r): r is EncodedResource => r !== undefined);
}
