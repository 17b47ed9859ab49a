// The scale-out signal as gauges, computed when Prometheus scrapes (docs/autoscaling.md).
import { Gauge, type Registry } from 'prom-client';
import { fleetSignal, type BrokerDecision, type FleetSignal } from '../balancing';

/** What the signal is computed from: the last plan's decisions and the policy's target. */
export interface FleetSignalInputs {
  readonly decisions: readonly BrokerDecision[];
  readonly targetUtilisation: number;
}

/**
 * Both gauges read one signal: it is computed once per plan and target (a scrape collects the
 * gauges one after the other, and a plan's decisions are a new array only when it is replanned).
 */
export function fleetSignalGauges(registry: Registry, inputs: () => FleetSignalInputs): void {
  let memo: (FleetSignalInputs & { readonly signal: FleetSignal }) | undefined;
  const signal = (): FleetSignal => {
    const now = inputs();
    if (memo === undefined || memo.decisions !== now.decisions || memo.targetUtilisation !== now.targetUtilisation) {
      memo = { ...now, signal: fleetSignal(now.decisions, now.targetUtilisation) };
    }
    return memo.signal;
  };
  optionalGauge(registry, {
    name: 'mqtt_xds_fleet_utilisation',
    help: "The fleet's utilisation, capacity-weighted (1 = at capacity); absent without brokers with metrics",
    value: () => signal().utilisation,
  });
  optionalGauge(registry, {
    name: 'mqtt_xds_recommended_brokers',
    help: "Brokers of the fleet's mean capacity that would carry its load at autoscaling.targetUtilisation; absent without brokers with metrics",
    value: () => signal().recommendedBrokers,
  });
}

/**
 * A gauge with no sample at all while `value` is undefined. prom-client writes an unlabelled
 * gauge as 0 even after reset(), and an autoscaler reading 0 recommended brokers during a
 * metrics outage would scale the fleet down; absent, it holds (docs/autoscaling.md).
 */
function optionalGauge(
  registry: Registry,
  { name, help, value }: { readonly name: string; readonly help: string; readonly value: () => number | undefined },
): void {
  const gauge = new Gauge({ name, help, registers: [registry] });
  const get = gauge.get.bind(gauge);
  gauge.get = async () => {
    const v = value();
    if (v !== undefined) gauge.set(v);
    const metric = await get();
    return v === undefined ? { ...metric, values: [] } : metric;
  };
}
