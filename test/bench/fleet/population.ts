// Who the clients are, without making a million objects: each class of device is a count
// of connected clients per broker plus a pool of devices that are offline. Lifetimes and
// offline spells are exponential per class (memoryless, so a count is enough state), and
// the mix of classes gives the heavy tail: mobile apps stay minutes, always-on devices days.
import { binomial, type Random } from './random';

export interface ClientClass {
  readonly name: string;
  /** Share of the connected clients at the daily mean. */
  readonly share: number;
  /** Mean connection lifetime. */
  readonly onMeanSec: number;
  /** Mean time offline between two connections, at the daily mean. */
  readonly offMeanSec: number;
  /** How strongly the daily cycle modulates reconnections: 0 = not at all, 0.5 = ±50%. */
  readonly dailyAmplitude: number;
  /** Broker work per connection relative to an average client (its publishing included). */
  readonly cost: number;
}

/**
 * A mix shaped after public MQTT fleets: phone apps that connect in the foreground and
 * follow the day, laptops and dashboards that stay for hours, and always-on devices
 * (meters, cars, gateways) that only drop on a network blip.
 */
export const DEFAULT_CLASSES: readonly ClientClass[] = [
  { name: 'mobile', share: 0.2, onMeanSec: 8 * 60, offMeanSec: 30 * 60, dailyAmplitude: 0.5, cost: 0.8 },
  { name: 'desktop', share: 0.2, onMeanSec: 2 * 3600, offMeanSec: 4 * 3600, dailyAmplitude: 0.5, cost: 1.0 },
  { name: 'always-on', share: 0.6, onMeanSec: 3 * 86_400, offMeanSec: 30, dailyAmplitude: 0, cost: 1.1 },
];

const DAY_SEC = 86_400;
/** The daily peak is at 20:00 (sin's peak a quarter day after 14:00). */
const PEAK_PHASE_SEC = 14 * 3600;

/** Reconnection rate multiplier for a class at time of day `tSec` (0 = midnight). */
export function dailyFactor(c: ClientClass, tSec: number): number {
  return 1 + c.dailyAmplitude * Math.sin((2 * Math.PI * (tSec - PEAK_PHASE_SEC)) / DAY_SEC);
}

/** Devices of a class so that `connected` of them are online on average (on / (on + off) are). */
export function devicesFor(c: ClientClass, connected: number): number {
  return Math.round((connected * c.share * (c.onMeanSec + c.offMeanSec)) / c.onMeanSec);
}

/** Probability that a connection of this class ends within `dtSec`. */
export function leaveProbability(c: ClientClass, dtSec: number): number {
  return 1 - Math.exp(-dtSec / c.onMeanSec);
}

/** Probability that an offline device of this class connects within `dtSec`, at time `tSec`. */
export function arriveProbability(c: ClientClass, dtSec: number, tSec: number): number {
  return 1 - Math.exp((-dtSec * dailyFactor(c, tSec)) / c.offMeanSec);
}

/** Steady-state mean lifetime of the mix, weighted by connected share. */
export function meanLifetimeSec(classes: readonly ClientClass[]): number {
  return classes.reduce((n, c) => n + c.share * c.onMeanSec, 0);
}

/**
 * Per broker and class, the connected count (`conn[b * K + k]`), and per class the offline
 * pool. Reconnects that wait on a backoff live in the ReconnectQueue, so every device is
 * in exactly one of the three places.
 */
export class Population {
  readonly k: number;
  readonly conn: Float64Array;
  readonly offline: Float64Array;
  readonly devices: number;
  private readonly leaveP: Float64Array;

  constructor(
    readonly classes: readonly ClientClass[],
    readonly brokerSlots: number,
    connectedAtMean: number,
    readonly dtSec: number,
  ) {
    this.k = classes.length;
    this.conn = new Float64Array(brokerSlots * this.k);
    this.offline = new Float64Array(this.k);
    classes.forEach((c, i) => (this.offline[i] = devicesFor(c, connectedAtMean)));
    this.devices = this.offline.reduce((a, b) => a + b, 0);
    this.leaveP = Float64Array.from(classes, (c) => leaveProbability(c, dtSec));
  }

  /**
   * Connects each class's steady share at once, split over brokers by `shares` (summing to
   * 1): the fleet starts warm, as if it had run like this for days.
   */
  placeInitial(shares: ArrayLike<number>, rng: Random): void {
    this.classes.forEach((c, k) => {
      const online = Math.min(this.offline[k], Math.round((this.offline[k] * c.onMeanSec) / (c.onMeanSec + c.offMeanSec)));
      let left = online;
      let rest = 1;
      for (let b = 0; b < this.brokerSlots && left > 0; b++) {
        if (shares[b] <= 0) continue;
        const n = rest - shares[b] <= 1e-12 ? left : binomial(rng, left, shares[b] / rest);
        this.conn[b * this.k + k] += n;
        left -= n;
        rest -= shares[b];
      }
      this.offline[k] -= online - left;
    });
  }

  /** Connections that end this step go offline; returns how many left. */
  depart(brokers: ArrayLike<number>, rng: Random): number {
    let total = 0;
    for (let i = 0; i < brokers.length; i++) {
      const base = brokers[i] * this.k;
      for (let k = 0; k < this.k; k++) {
        const n = binomial(rng, this.conn[base + k], this.leaveP[k]);
        this.conn[base + k] -= n;
        this.offline[k] += n;
        total += n;
      }
    }
    return total;
  }

  /** Offline devices that start connecting this step, per class (taken out of the pool). */
  wake(tSec: number, rng: Random, out: Float64Array): void {
    this.classes.forEach((c, k) => {
      const n = binomial(rng, this.offline[k], arriveProbability(c, this.dtSec, tSec));
      this.offline[k] -= n;
      out[k] = n;
    });
  }

  connectedOn(b: number): number {
    let n = 0;
    for (let k = 0; k < this.k; k++) n += this.conn[b * this.k + k];
    return n;
  }

  /** Connection work on broker b, in average-client units. */
  workOn(b: number): number {
    let w = 0;
    for (let k = 0; k < this.k; k++) w += this.conn[b * this.k + k] * this.classes[k].cost;
    return w;
  }

  /** Takes every connection off broker b (it failed or stopped); returns them per class. */
  dropAll(b: number, out: Float64Array): number {
    let n = 0;
    for (let k = 0; k < this.k; k++) {
      out[k] = this.conn[b * this.k + k];
      n += out[k];
      this.conn[b * this.k + k] = 0;
    }
    return n;
  }

  connectedTotal(): number {
    return this.conn.reduce((a, b) => a + b, 0);
  }

  offlineTotal(): number {
    return this.offline.reduce((a, b) => a + b, 0);
  }
}
