import { Counter, Gauge, type Registry } from 'prom-client';
import type { DrainStatus } from './drain-status';

/** The rebalancer's Prometheus metrics (docs/rebalancing.md, Metrics). */
export class RebalanceMetrics {
  readonly disconnects: Counter<'broker' | 'kind'>;
  readonly agentErrors: Counter<'broker' | 'code'>;
  readonly toMove: Gauge<'broker' | 'kind'>;
  readonly missing: Gauge;

  /** `drains` is read when scraped: mqtt_xds_drain_state has a series per drain in force, so a finished one goes. */
  constructor(registry: Registry, drains?: () => readonly DrainStatus[]) {
    this.disconnects = new Counter({
      name: 'mqtt_xds_rebalance_disconnects_total',
      help: 'Clients the brokers agents disconnected on purpose, by broker and kind (rebalance, drain)',
      labelNames: ['broker', 'kind'],
      registers: [registry],
    });
    this.agentErrors = new Counter({
      name: 'mqtt_xds_rebalance_agent_errors_total',
      help: 'Failed agent requests, by broker and code; moving from that broker stops for retryAfterMs',
      labelNames: ['broker', 'code'],
      registers: [registry],
    });
    this.toMove = new Gauge({
      name: 'mqtt_xds_rebalance_clients_to_move',
      help: 'Clients the latest plan would move from each broker (also in dry-run)',
      labelNames: ['broker', 'kind'],
      registers: [registry],
    });
    this.missing = new Gauge({
      name: 'mqtt_xds_rebalance_missing_clients',
      help: 'Moved clients not seen back yet (the fleet connection count short of what was moved in the last 20 s)',
      registers: [registry],
    });
    if (drains) {
      new Gauge({
        name: 'mqtt_xds_drain_state',
        help: 'One series per drain in force, valued 1, labelled with its broker and state (draining, drained, timed-out, not-draining)',
        labelNames: ['broker', 'state'],
        registers: [registry],
        collect() {
          this.reset();
          for (const d of drains()) this.set({ broker: d.broker, state: d.state }, 1);
        },
      });
    }
  }
}
