// Whether an Envoy holds what the control plane has for it, per type: the view of
// `mqtt-xds proxy-status` and GET /proxy-status. Pure: the streams say what they know,
// this decides what to call it.
import type { TypeUrl } from './type-urls';

/** What one stream knows of one type, against the current snapshot. */
export interface TypeSync {
  /** The version of the last response sent on this stream. */
  readonly sentVersion?: string;
  /** The last version the Envoy ACKed (or, on a new SotW stream, said it holds). */
  readonly ackedVersion?: string;
  /** The version of what the current snapshot has for this stream's subscription. */
  readonly latestVersion?: string;
  /** The Envoy holds what the current snapshot has for it. */
  readonly holdsLatest: boolean;
  /** The Envoy rejected what it should hold now; that version is not sent again. */
  readonly nackedLatest: boolean;
  /** Envoy's message from its last NACK on this type, even if a later version was ACKed. */
  readonly lastError?: string;
  /** When the oldest response not yet answered was sent. */
  readonly inFlightSinceMs?: number;
}

/**
 * SYNCED: holds the latest. NACKED: rejected the latest. PENDING: the latest is on its
 * way, for less than the stale threshold. STALE: has not ACKed the latest for longer.
 */
export type SyncState = 'SYNCED' | 'PENDING' | 'STALE' | 'NACKED';

/** How long an Envoy may take to ACK the latest before it is STALE. */
export const STALE_AFTER_MS = 10_000;

export interface TypeView {
  readonly state: SyncState;
  readonly sent?: string;
  readonly acked?: string;
  readonly latest?: string;
  /** With NACKED: Envoy's message. With other states: the last NACK's, as history. */
  readonly error?: string;
  /** With PENDING or STALE: how long it has been behind, in milliseconds. */
  readonly behindMs?: number;
}

/**
 * Classifies one type of one stream. `publishedAtMs` is when the current snapshot came:
 * a stream behind it with nothing in flight (its push still queued) is behind since then.
 */
export function classify(s: TypeSync, nowMs: number, publishedAtMs: number | undefined, staleAfterMs = STALE_AFTER_MS): TypeView {
  const versions = {
    ...(s.sentVersion !== undefined ? { sent: s.sentVersion } : {}),
    ...(s.ackedVersion !== undefined ? { acked: s.ackedVersion } : {}),
    ...(s.latestVersion !== undefined ? { latest: s.latestVersion } : {}),
    ...(s.lastError !== undefined ? { error: s.lastError } : {}),
  };
  if (s.holdsLatest) return { state: 'SYNCED', ...versions };
  if (s.nackedLatest) return { state: 'NACKED', ...versions };
  const since = s.inFlightSinceMs ?? publishedAtMs ?? nowMs;
  const behindMs = Math.max(0, nowMs - since);
  return { state: behindMs >= staleAfterMs ? 'STALE' : 'PENDING', ...versions, behindMs };
}

/** One ADS stream's sync, per type it subscribes to. */
export interface StreamSync {
  readonly id: number;
  readonly kind: 'sotw' | 'delta';
  readonly nodeId: string;
  readonly cluster: string;
  readonly peer: string;
  readonly openedAt: string;
  readonly types: Partial<Record<TypeUrl, TypeSync>>;
}
