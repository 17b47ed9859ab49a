// How a new snapshot reaches every stream: in batches that yield to the event loop, and
// never faster than a stream's reader takes it. Kept apart from gRPC so both rules have
// fast tests.
import type { TypeUrl } from './type-urls';

/** Streams a fan-out serves in one event-loop turn before it yields (requests, ACKs and timers run in between). */
export const FANOUT_BATCH = 256;

export interface FanOutOptions<T> {
  /** Serves one stream with the types changed since it was last served (a union, when snapshots came meanwhile). */
  readonly serve: (item: T, changed: ReadonlySet<TypeUrl>) => void;
  readonly batch?: number;
  /** Runs the next batch later; setImmediate by default. */
  readonly defer?: (next: () => void) => void;
}

/**
 * The streams a snapshot has not reached yet, in the order they opened. The first batch is
 * served at once, the rest in later turns, so the first Envoys get a change without
 * waiting for the whole fleet. A newer snapshot during a fan-out makes every stream due
 * again, with the union of the changed types: the ones already served find nothing new for
 * what they got and receive only what changed since.
 */
export class FanOut<T> {
  private readonly due = new Set<T>();
  private readonly types = new Set<TypeUrl>();
  private scheduled = false;

  constructor(private readonly opts: FanOutOptions<T>) {}

  start(items: Iterable<T>, changed: ReadonlySet<TypeUrl>): void {
    for (const t of changed) this.types.add(t);
    for (const item of items) this.due.add(item);
    if (!this.scheduled) this.run();
  }

  /** A stream that closed is not served. */
  remove(item: T): void {
    this.due.delete(item);
  }

  clear(): void {
    this.due.clear();
    this.types.clear();
  }

  pending(): number {
    return this.due.size;
  }

  private run(): void {
    this.scheduled = false;
    const batch = this.opts.batch ?? FANOUT_BATCH;
    let n = 0;
    for (const item of this.due) {
      if (n++ >= batch) break;
      this.due.delete(item);
      this.opts.serve(item, this.types);
    }
    if (this.due.size === 0) {
      this.types.clear();
      return;
    }
    this.scheduled = true;
    (this.opts.defer ?? setImmediate)(() => this.run());
  }
}

/** The part of a gRPC server stream that back-pressure needs. */
export interface WritableCall {
  write(bytes: Buffer): boolean;
  once(event: 'drain', listener: () => void): unknown;
}

/**
 * One stream's writes under back-pressure. What the stream machine produced is always
 * written (its state already counts it as sent). Once gRPC's buffer is full (an Envoy
 * that does not read), snapshots are held back: on 'drain' the stream is served once with
 * the newest state, instead of queueing every version without bound.
 */
export class HeldWriter {
  private blocked = false;
  private owed = false;

  constructor(
    private readonly call: WritableCall,
    /** What the stream's machine has for it now (every type); called after a drain. */
    private readonly catchUp: () => readonly { readonly bytes: Buffer }[],
    private readonly open: () => boolean,
  ) {}

  /** A snapshot for this stream: written now, or owed until the buffer drains. */
  snapshot(responses: () => readonly { readonly bytes: Buffer }[]): void {
    if (this.blocked) {
      this.owed = true;
      return;
    }
    this.write(responses());
  }

  write(responses: readonly { readonly bytes: Buffer }[]): void {
    for (const r of responses) {
      if (this.call.write(r.bytes) || this.blocked) continue;
      this.blocked = true;
      this.call.once('drain', () => {
        this.blocked = false;
        if (!this.owed || !this.open()) return;
        this.owed = false;
        this.write(this.catchUp());
      });
    }
  }

  isBlocked(): boolean {
    return this.blocked;
  }
}
