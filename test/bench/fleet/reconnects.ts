// Clients that lost their connection (a broker failed, an agent moved them, Envoy could not
// reach the broker it chose) and wait out their reconnect backoff. Counts per future
// second, class and attempt in a ring: a storm of 100,000 costs the same as one client.

/** Attempts are counted up to here; later ones keep the largest backoff. */
export const MAX_ATTEMPT = 8;
const ATT = MAX_ATTEMPT + 1;

export interface Backoff {
  readonly minMs: number;
  readonly maxMs: number;
}

/** Typical MQTT client libraries: 1 s doubling up to 2 min. */
export const DEFAULT_BACKOFF: Backoff = { minMs: 1000, maxMs: 120_000 };

/**
 * The wait before attempt `attempt` (0 = the first reconnect) lies in [cap/2, cap] with
 * cap = min × 2^attempt bounded by max ("equal jitter"), and never below min.
 */
export function backoffRangeMs(b: Backoff, attempt: number): { lo: number; hi: number } {
  const cap = Math.min(b.maxMs, b.minMs * 2 ** attempt);
  return { lo: Math.max(b.minMs, cap / 2), hi: Math.max(b.minMs, cap) };
}

export interface Due {
  readonly k: number;
  readonly attempt: number;
  readonly n: number;
}

export class ReconnectQueue {
  private readonly ring: Float64Array;
  private readonly slots: number;
  private waiting = 0;

  constructor(
    private readonly classes: number,
    private readonly backoff: Backoff = DEFAULT_BACKOFF,
  ) {
    // One slot per second of the longest wait, and a spare.
    this.slots = Math.ceil(backoff.maxMs / 1000) + 2;
    this.ring = new Float64Array(this.slots * classes * ATT);
  }

  /**
   * `n` clients of class k start attempt `attempt` after their backoff from second `nowSec`.
   * The jitter spreads them evenly over the range; `u` (uniform [0, 1)) shifts the rounding
   * so that a handful of clients is not always put in the same second.
   */
  add(nowSec: number, k: number, attempt: number, n: number, u: number): void {
    if (n <= 0) return;
    const a = Math.min(attempt, MAX_ATTEMPT);
    const { lo, hi } = backoffRangeMs(this.backoff, a);
    const loSec = lo / 1000;
    const hiSec = hi / 1000;
    this.waiting += n;
    if (hiSec - loSec < 1e-9) {
      this.put(nowSec + Math.max(1, Math.ceil(loSec)), k, a, n);
      return;
    }
    // Cumulative rounding: the counts add up to n exactly.
    let placed = 0;
    for (let s = Math.floor(loSec); s < hiSec; s++) {
      const upTo = Math.min(hiSec, s + 1);
      const share = (upTo - loSec) / (hiSec - loSec);
      const cum = upTo >= hiSec ? n : Math.min(n, Math.floor(n * share + u));
      const here = cum - placed;
      if (here > 0) this.put(nowSec + Math.max(1, s + 1), k, a, here);
      placed = cum;
    }
  }

  /** The clients whose backoff ends at second `nowSec` (removed from the queue). */
  take(nowSec: number): Due[] {
    const base = (nowSec % this.slots) * this.classes * ATT;
    const out: Due[] = [];
    for (let k = 0; k < this.classes; k++) {
      for (let a = 0; a < ATT; a++) {
        const n = this.ring[base + k * ATT + a];
        if (n > 0) {
          out.push({ k, attempt: a, n });
          this.ring[base + k * ATT + a] = 0;
          this.waiting -= n;
        }
      }
    }
    return out;
  }

  total(): number {
    return this.waiting;
  }

  private put(sec: number, k: number, a: number, n: number): void {
    this.ring[(sec % this.slots) * this.classes * ATT + k * ATT + a] += n;
  }
}
