import { Gauge, type Registry } from 'prom-client';
import type { Readiness } from './admin-server';

/** mqtt_xds_ready: what /readyz answers, read when scraped, so an alert needs no probe of its own. */
export function registerReadyGauge(registry: Registry, readiness: () => Readiness): void {
  new Gauge({
    name: 'mqtt_xds_ready',
    help: '1 while /readyz answers 200 (a complete snapshot is served), 0 while it answers 503; /readyz and /status say why',
    registers: [registry],
    collect() {
      this.set(readiness().ready ? 1 : 0);
    },
  });
}
