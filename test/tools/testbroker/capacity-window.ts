// Sliding-window event rates for the capacity model. Counts are kept in fixed time
// buckets so that recording is O(1) and reading costs at most one pass over the buckets,
// however many messages a benchmark pushes through the broker.

/**
 * Counts events over the last `windowMs`, in buckets of `bucketMs`. The window is the
 * current (partial) bucket plus the whole buckets before it, so it covers between
 * `windowMs - bucketMs` and `windowMs`; `ratePerSecond` divides by exactly the time covered.
 */
export class RateWindow {
  private readonly slots: number[];
  private total = 0;
  /** Index (time / bucketMs) of the newest bucket; -Infinity before the first use. */
  private head = Number.NEGATIVE_INFINITY;

  constructor(
    readonly windowMs: number,
    readonly bucketMs: number,
  ) {
    if (!(bucketMs > 0) || !(windowMs >= bucketMs)) {
      throw new Error(`RateWindow needs 0 < bucketMs <= windowMs, got ${bucketMs} and ${windowMs}`);
    }
    this.slots = new Array<number>(Math.round(windowMs / bucketMs)).fill(0);
  }

  /** Adds `count` events at `nowMs`. An event from before the newest bucket counts in it. */
  record(nowMs: number, count = 1): void {
    this.advance(nowMs);
    this.slots[this.slotOf(this.head)] += count;
    this.total += count;
  }

  /** Events inside the window ending at `nowMs`. */
  count(nowMs: number): number {
    this.advance(nowMs);
    return this.total;
  }

  /**
   * Events per second over the window, or over the time since `sinceMs` when that is
   * shorter (a client that connected two seconds ago is measured over two seconds). The
   * span is never taken shorter than `minSpanMs`, so one message just after connecting
   * does not read as a burst of thousands per second.
   */
  ratePerSecond(nowMs: number, sinceMs = Number.NEGATIVE_INFINITY, minSpanMs = Math.min(1000, this.windowMs)): number {
    const events = this.count(nowMs);
    if (events === 0) return 0;
    const windowStartMs = (this.head - this.slots.length + 1) * this.bucketMs;
    const spanMs = Math.max(nowMs - Math.max(windowStartMs, sinceMs), minSpanMs);
    return (events * 1000) / spanMs;
  }

  private slotOf(bucket: number): number {
    const n = this.slots.length;
    return ((bucket % n) + n) % n;
  }

  /** Moves the window to the bucket holding `nowMs`, forgetting buckets that fell out. */
  private advance(nowMs: number): void {
    const bucket = Math.floor(nowMs / this.bucketMs);
    // A clock that steps back keeps the newest bucket rather than reopening old ones.
    if (bucket <= this.head) return;
    if (bucket - this.head >= this.slots.length) {
      this.slots.fill(0);
      this.total = 0;
    } else {
      for (let b = this.head + 1; b <= bucket; b++) {
        const slot = this.slotOf(b);
        this.total -= this.slots[slot];
        this.slots[slot] = 0;
      }
    }
    this.head = bucket;
  }
}
