// What the rebalancer learns about Envoys' ACKs of a DRAINING push, and how it reports the
// Envoys that lag (issue 9.4: one Envoy that never ACKed used to stall every drain).
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from '../util/log';

/** Whether every Envoy with an EDS subscription ACKed a version with these brokers DRAINING; if not, who has not. */
export interface DrainAck {
  readonly acked: boolean;
  /** Node ids of the Envoys with an EDS subscription that have not ACKed it. */
  readonly laggards: readonly string[];
}

/** Node ids kept per source in status and the log: a fleet of 10,000 stuck Envoys must not make /status huge. */
export const MAX_NAMED_LAGGARDS = 20;

/** Accepts the older boolean answer too (it names no laggards). */
export function toDrainAck(answer: DrainAck | boolean): DrainAck {
  return typeof answer === 'boolean' ? { acked: answer, laggards: [] } : answer;
}

export interface LaggardView {
  /** At most MAX_NAMED_LAGGARDS node ids, sorted. */
  readonly laggards: readonly string[];
  readonly laggardCount: number;
}

export function laggardView(laggards: readonly string[]): LaggardView {
  const unique = [...new Set(laggards)].sort();
  return { laggards: unique.slice(0, MAX_NAMED_LAGGARDS), laggardCount: unique.length };
}

/**
 * Keeps the laggards per draining broker; logs when a broker's set changes (not each tick)
 * and exports how many distinct Envoys lag as one gauge (a count, not a series per node).
 */
export class LaggardReport {
  private readonly byBroker = new Map<string, { key: string; ids: readonly string[] }>();
  private readonly gauge: Gauge;

  constructor(
    registry: Registry,
    private readonly logger: Logger,
  ) {
    this.gauge = new Gauge({
      name: 'mqtt_xds_rebalance_ack_laggards',
      help: 'Envoys that have not ACKed a DRAINING push within rebalance.ackTimeoutMs (see rebalance.laggardAction)',
      registers: [registry],
    });
  }

  /** Records a broker's laggards past ackTimeoutMs; an empty list clears them. */
  set(broker: string, laggards: readonly string[], action: string): void {
    const view = laggardView(laggards);
    const key = `${view.laggardCount}:${view.laggards.join(',')}`;
    const before = this.byBroker.get(broker);
    if (before?.key === key || (before === undefined && view.laggardCount === 0)) return;
    if (view.laggardCount === 0) {
      this.byBroker.delete(broker);
      this.logger.info('every Envoy has ACKed the DRAINING push now', { broker });
    } else {
      this.byBroker.set(broker, { key, ids: [...new Set(laggards)] });
      this.logger.warn('Envoys have not ACKed the DRAINING push within rebalance.ackTimeoutMs', { broker, laggardAction: action, ...view });
    }
    this.update();
  }

  /** Forgets brokers that are no longer moved from. */
  keepOnly(brokers: ReadonlySet<string>): void {
    for (const b of [...this.byBroker.keys()]) if (!brokers.has(b)) this.byBroker.delete(b);
    this.update();
  }

  /** Every lagging Envoy across brokers, bounded like a broker's. */
  all(): LaggardView {
    return laggardView([...this.byBroker.values()].flatMap((v) => v.ids));
  }

  private update(): void {
    this.gauge.set(new Set([...this.byBroker.values()].flatMap((v) => v.ids)).size);
  }
}
