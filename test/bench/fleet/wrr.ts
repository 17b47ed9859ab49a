// One Envoy's weighted round robin, as Envoy does it: an earliest-deadline-first scheduler
// over the hosts of its last EDS update. Each host's next deadline is one weight-period
// after its last pick, so over any run of picks each host gets its weight's share within
// one pick. Envoy rebuilds the scheduler on every host-set or weight change and starts
// each host at a random point of its period, so a fresh update never favours one host.
import type { Random } from './random';

export class EdfScheduler {
  private readonly deadline: Float64Array;
  private readonly period: Float64Array;
  private readonly heap: Int32Array;
  private size = 0;

  constructor(slots: number) {
    this.deadline = new Float64Array(slots);
    this.period = new Float64Array(slots);
    this.heap = new Int32Array(slots);
  }

  /** Hosts with weight > 0 take part; a weight of 0 means not in EDS or DRAINING. */
  reset(weights: ArrayLike<number>, rng: Random): void {
    this.size = 0;
    for (let b = 0; b < weights.length; b++) {
      if (!(weights[b] > 0)) continue;
      this.period[b] = 1 / weights[b];
      this.deadline[b] = rng.next() * this.period[b];
      this.heap[this.size++] = b;
    }
    for (let i = (this.size >> 1) - 1; i >= 0; i--) this.down(i);
  }

  hosts(): number {
    return this.size;
  }

  /** The next host; -1 when there is none. */
  pick(): number {
    if (this.size === 0) return -1;
    const b = this.heap[0];
    this.deadline[b] += this.period[b];
    this.down(0);
    return b;
  }

  /** Adds `n` picks to `counts` (indexed by host); returns false when there is no host. */
  pickMany(n: number, counts: Float64Array): boolean {
    if (this.size === 0) return false;
    for (let i = 0; i < n; i++) counts[this.pick()]++;
    return true;
  }

  private down(i: number): void {
    const h = this.heap;
    const d = this.deadline;
    const x = h[i];
    for (;;) {
      const l = 2 * i + 1;
      if (l >= this.size) break;
      const r = l + 1;
      // Ties go to the lower index, so a run is the same on every machine.
      const c = r < this.size && (d[h[r]] < d[h[l]] || (d[h[r]] === d[h[l]] && h[r] < h[l])) ? r : l;
      if (d[h[c]] > d[x] || (d[h[c]] === d[x] && h[c] > x)) break;
      h[i] = h[c];
      i = c;
    }
    h[i] = x;
  }
}
