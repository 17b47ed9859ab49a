import type { TypeUrl } from './type-urls';

/** What a stream reports; the server turns it into logs and metrics. Observers only observe. */
export interface StreamObserver {
  pushed(typeUrl: TypeUrl, version: string, resourceCount: number, removedCount: number): void;
  acked(typeUrl: TypeUrl, version: string, latencyMs: number | undefined): void;
  nacked(typeUrl: TypeUrl, version: string, message: string): void;
  stale(typeUrl: TypeUrl, nonce: string): void;
}

/** One response a stream wants written, already encoded. */
export interface OutgoingResponse {
  readonly typeUrl: TypeUrl;
  readonly version: string;
  readonly nonce: string;
  readonly bytes: Buffer;
  readonly resourceNames: readonly string[];
  readonly removedNames: readonly string[];
}

/** Per-type view of a stream, for the status API. */
export interface TypeStatus {
  /** The names, at most STATUS_NAMES of them in /status (subscribedCount says how many there are). */
  readonly subscribed: 'wildcard' | readonly string[];
  readonly subscribedCount?: number;
  readonly sentVersion?: string;
  readonly ackedVersion?: string;
  readonly nackedVersion?: string;
  readonly lastError?: string;
  /** Present while a response of this type is neither ACKed nor NACKed: the Envoy is behind (STALE). */
  readonly awaitingAnswer?: true;
}
