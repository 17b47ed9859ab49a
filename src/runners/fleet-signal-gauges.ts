// The scale-out signal as gauges, computed when Prometheus scrapes (docs/autoscaling.md).
import { Gauge, type Registry } from 'prom-client';
import type { FleetSignal } from '../balancing';

export function fleetSignalGauges(registry: Registry, signal: () => FleetSignal): void {
  new Gauge({
    name: 'mqtt_xds_fleet_utilisation',
    help: "The fleet's utilisation, capacity-weighted (1 = at capacity); absent without brokers with metrics",
    registers: [registry],
    collect() {
      this.reset();
      const u = signal().utilisation;
      if (u !== undefined) this.set(u);
    },
  });
  new Gauge({
    name: 'mqtt_xds_recommended_brokers',
    help: "Brokers of the fleet's mean capacity that would carry its load at autoscaling.targetUtilisation",
    registers: [registry],
    collect() {
      this.reset();
      const n = signal().recommendedBrokers;
      if (n !== undefined) this.set(n);
    },
  });
}
