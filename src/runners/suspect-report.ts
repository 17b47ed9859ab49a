// A page not believed is an operator's problem to fix (a stuck exporter, the wrong pod behind
// the port): say so once when it starts and once when it ends, per broker, keep
// mqtt_xds_broker_suspect{broker} at 1/0 and count mqtt_xds_broker_suspect_total{broker}.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { BrokerDecision } from '../balancing';
import type { Logger } from '../util/log';

export class SuspectReport {
  private suspects = new Set<string>();
  private readonly withSeries = new Set<string>();
  private readonly gauge: Gauge<'broker'>;
  private readonly started: Counter<'broker'>;

  constructor(
    private readonly log: Logger,
    registry: Registry,
  ) {
    this.gauge = new Gauge({
      name: 'mqtt_xds_broker_suspect',
      help: "1 while a broker's metrics page contradicts what the Envoys routed to it and it is weighed from the Envoys' count",
      labelNames: ['broker'],
      registers: [registry],
    });
    this.started = new Counter({
      name: 'mqtt_xds_broker_suspect_total',
      help: 'Times a broker became suspect: its metrics page contradicted the Envoys for suspect.samples scrapes',
      labelNames: ['broker'],
      registers: [registry],
    });
  }

  /** Called with every computed plan's decisions; cheap when nobody is suspect. */
  observe(decisions: readonly BrokerDecision[]): void {
    if (this.suspects.size === 0 && !decisions.some((d) => d.suspect !== undefined)) return;
    const now = new Set<string>();
    for (const d of decisions) {
      if (d.suspect === undefined) continue;
      now.add(d.name);
      if (!this.suspects.has(d.name)) {
        this.started.inc({ broker: d.name });
        this.log.warn('broker metrics contradict what the Envoys routed; weighing it from the Envoys until they agree again', {
          broker: d.name,
          reason: d.suspect.reason,
        });
      }
    }
    for (const name of this.suspects) {
      if (now.has(name)) continue;
      const still = decisions.some((d) => d.name === name);
      if (still) this.log.info('broker metrics agree with the Envoys again', { broker: name });
    }
    for (const d of decisions) {
      this.gauge.set({ broker: d.name }, now.has(d.name) ? 1 : 0);
      this.withSeries.add(d.name);
    }
    // A broker gone from the decisions leaves no series behind.
    for (const name of [...this.withSeries]) {
      if (decisions.some((d) => d.name === name)) continue;
      this.gauge.remove({ broker: name });
      this.withSeries.delete(name);
    }
    this.suspects = now;
  }
}
