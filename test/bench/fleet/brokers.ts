// The brokers' truth and what the control plane sees of it. Truth: utilisation = the
// connections' work (each client class has its own cost, publishing included) over the
// broker's capacity. Seen: a scrape every interval, CPU with noise and a little
// background work on top, connections exact, as the HiveMQ page and the agent give them.
import type { Broker, BrokerLoad } from '../../../src/domain';
import type { Population } from './population';
import type { Random } from './random';

export interface BrokerSpec {
  readonly name: string;
  /** Size in units (1, 2, 4, 8): what the fleet mix is made of. */
  readonly units: number;
  /** Average clients at utilisation 1. */
  readonly capacity: number;
}

export interface ScrapeSettings {
  readonly intervalMs: number;
  /** CPU noise, as a coefficient of variation. */
  readonly cpuNoise: number;
  /** CPU a broker burns without clients (JVM, cluster traffic). */
  readonly cpuBackground: number;
}

/** What a slot is doing: not started yet, serving, or its process is gone. */
export type BrokerState = 'absent' | 'up' | 'down';

export class BrokerFleet {
  readonly state: BrokerState[];
  /** In discovery (EndpointSlice): what the control plane knows exists. */
  readonly listed: Uint8Array;
  /** Discovery says terminating: DRAINING. */
  readonly draining: Uint8Array;
  readonly loads = new Map<string, BrokerLoad>();
  readonly index: ReadonlyMap<string, number>;

  constructor(
    readonly specs: readonly BrokerSpec[],
    private readonly withAgents: boolean,
  ) {
    this.state = specs.map(() => 'absent');
    this.listed = new Uint8Array(specs.length);
    this.draining = new Uint8Array(specs.length);
    this.index = new Map(specs.map((s, i) => [s.name, i]));
  }

  start(b: number): void {
    this.state[b] = 'up';
    this.listed[b] = 1;
    this.draining[b] = 0;
    // A new process has no metrics history; the control plane sees it as a new broker.
    this.loads.delete(this.specs[b].name);
  }

  /** The process is gone (failed or stopped); discovery may still list it for a while. */
  kill(b: number): void {
    this.state[b] = 'down';
  }

  unlist(b: number): void {
    this.listed[b] = 0;
    this.draining[b] = 0;
    this.loads.delete(this.specs[b].name);
  }

  utilisation(b: number, pop: Population): number {
    return pop.workOn(b) / this.specs[b].capacity;
  }

  /** Slots of brokers whose process runs (they hold connections). */
  upSlots(): number[] {
    const out: number[] = [];
    for (let b = 0; b < this.specs.length; b++) if (this.state[b] === 'up') out.push(b);
    return out;
  }

  /** Discovery's view, as the control plane gets it. */
  discovered(): Broker[] {
    const out: Broker[] = [];
    this.specs.forEach((s, b) => {
      if (!this.listed[b]) return;
      out.push({
        name: s.name,
        address: `10.${(b >> 16) & 255}.${(b >> 8) & 255}.${b & 255}`,
        port: 1883,
        ...(this.withAgents ? { agentUrl: `http://${s.name}:8080` } : {}),
        ...(this.draining[b] ? { draining: true, drainReason: 'pod terminating' } : {}),
      });
    });
    return out;
  }

  /** One scrape of every listed broker at `nowMs`. */
  scrape(nowMs: number, pop: Population, s: ScrapeSettings, rng: Random): void {
    this.specs.forEach((spec, b) => {
      if (!this.listed[b]) return;
      const old = this.loads.get(spec.name);
      if (this.state[b] !== 'up') {
        // A failed scrape keeps the last good signals; they turn stale after 3 intervals (the scraper's default).
        const at = old?.scrapedAtMs;
        this.loads.set(spec.name, {
          broker: spec.name,
          ...(at === undefined ? {} : { scrapedAtMs: at }),
          signals: old?.signals ?? {},
          error: { code: 'SCRAPE_CONNECT', message: 'connection refused' },
          consecutiveFailures: (old?.consecutiveFailures ?? 0) + 1,
          stale: at === undefined || nowMs - at > 3 * s.intervalMs,
        });
        return;
      }
      const u = this.utilisation(b, pop);
      const cpu = Math.min(1, Math.max(0, u * (1 + s.cpuNoise * rng.normal()) + s.cpuBackground));
      this.loads.set(spec.name, {
        broker: spec.name,
        scrapedAtMs: nowMs,
        signals: {
          connections: pop.connectedOn(b),
          cpu,
          cpuSource: 'limit',
          // A container at its CPU quota is throttled in more and more periods.
          throttledRatio: u > 0.98 ? Math.min(1, (u - 0.98) * 5) : 0,
        },
        consecutiveFailures: 0,
        stale: false,
      });
    });
  }
}

/** A fleet of mixed sizes, repeating 4 × 1, 3 × 2, 2 × 4, 1 × 8 units (so 10 brokers hold 26 units). */
export const SIZE_PATTERN: readonly number[] = [1, 2, 1, 4, 2, 1, 8, 2, 4, 1];

export function brokerSpecs(count: number, unitCapacity: number, first = 0, prefix = 'hivemq'): BrokerSpec[] {
  return Array.from({ length: count }, (_, i) => {
    const units = SIZE_PATTERN[(first + i) % SIZE_PATTERN.length];
    return { name: `${prefix}-${String(first + i).padStart(4, '0')}`, units, capacity: units * unitCapacity };
  });
}
