// The Envoy fleet: each Envoy gets its own share of new connections (ECMP in front of
// them is never exactly even), places them by its own weighted round robin, and applies
// an EDS update only after its own delay, so for a while Envoys disagree on the weights.
import { multinomial, type Random } from './random';
import { EdfScheduler } from './wrr';

export interface EnvoySettings {
  readonly count: number;
  /** Spread of the Envoys' traffic shares (coefficient of variation). */
  readonly shareCv: number;
  /** Each Envoy's EDS delay is drawn once from this range. */
  readonly edsDelayMinMs: number;
  readonly edsDelayMaxMs: number;
}

/** What one EDS push says, per broker slot: its weight, 0 when not in EDS or DRAINING. */
export interface EdsPlan {
  readonly version: number;
  readonly weights: Float64Array;
}

interface Pending {
  readonly atMs: number;
  readonly plan: EdsPlan;
}

export class EnvoyFleet {
  readonly delayMs: Float64Array;
  private readonly shares: Float64Array;
  private readonly cumulative: Float64Array;
  private readonly applied: (EdsPlan | undefined)[];
  private readonly pending: Pending[][];
  private readonly schedulers: EdfScheduler[];
  private readonly perEnvoy: Float64Array;
  private readonly names: string[];

  constructor(
    readonly settings: EnvoySettings,
    slots: number,
    rng: Random,
    private readonly pickRng: Random,
  ) {
    const n = settings.count;
    const raw = Float64Array.from({ length: n }, () => Math.max(0.05, 1 + settings.shareCv * rng.normal()));
    const sum = raw.reduce((a, b) => a + b, 0);
    this.shares = raw.map((x) => x / sum);
    this.cumulative = new Float64Array(n);
    this.shares.reduce((acc, s, i) => (this.cumulative[i] = acc + s), 0);
    this.delayMs = Float64Array.from(
      { length: n },
      () => settings.edsDelayMinMs + (settings.edsDelayMaxMs - settings.edsDelayMinMs) * rng.next(),
    );
    this.applied = Array.from({ length: n }, () => undefined);
    this.pending = Array.from({ length: n }, () => []);
    this.schedulers = Array.from({ length: n }, () => new EdfScheduler(slots));
    this.perEnvoy = new Float64Array(n);
    this.names = Array.from({ length: n }, (_, i) => `envoy-${String(i).padStart(3, '0')}`);
  }

  /** Every Envoy gets the plan after its own delay. */
  publish(plan: EdsPlan, nowMs: number): void {
    for (let e = 0; e < this.settings.count; e++) this.pending[e].push({ atMs: nowMs + this.delayMs[e], plan });
  }

  /** Applies the updates that have arrived by `nowMs`; the newest wins. */
  advance(nowMs: number): void {
    for (let e = 0; e < this.settings.count; e++) {
      const q = this.pending[e];
      let latest: EdsPlan | undefined;
      while (q.length > 0 && q[0].atMs <= nowMs) latest = q.shift()!.plan;
      if (latest && latest !== this.applied[e]) {
        this.applied[e] = latest;
        this.schedulers[e].reset(latest.weights, this.pickRng);
      }
    }
  }

  /**
   * Spreads `n` new connections over the Envoys and lets each pick brokers; adds the picks
   * to `counts` per broker slot. Returns the connections an Envoy with no host refused.
   */
  route(n: number, counts: Float64Array, rng: Random): number {
    const e = this.settings.count;
    this.perEnvoy.fill(0);
    if (n <= 4 * e) {
      for (let i = 0; i < n; i++) this.perEnvoy[this.envoyFor(rng.next())]++;
    } else multinomial(rng, n, this.shares, this.perEnvoy);
    let refused = 0;
    for (let i = 0; i < e; i++) {
      const m = this.perEnvoy[i];
      if (m > 0 && !this.schedulers[i].pickMany(m, counts)) refused += m;
    }
    return refused;
  }

  /** Whether every Envoy applied an update without broker slot b serving; the ones that did not. */
  drainAck(b: number): { acked: boolean; laggards: string[] } {
    const laggards: string[] = [];
    for (let i = 0; i < this.settings.count; i++) {
      const p = this.applied[i];
      if (p === undefined || p.weights[b] > 0) laggards.push(this.names[i]);
    }
    return { acked: laggards.length === 0, laggards };
  }

  private envoyFor(u: number): number {
    let lo = 0;
    let hi = this.cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cumulative[mid] > u) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}
