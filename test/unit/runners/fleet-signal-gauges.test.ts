import { Registry } from 'prom-client';
import type { BrokerDecision } from '../../../src/balancing';
import { fleetSignalGauges, type FleetSignalInputs } from '../../../src/runners';

const decision = (name: string, utilisation: number, capacity: number): BrokerDecision => ({
  name,
  weight: 1000,
  health: 'serving',
  excluded: false,
  utilisation,
  capacity,
  capacitySource: 'hint',
  factors: { catchUp: 1, slowStart: 1, overload: 1, stale: 1, fill: 1 },
  reason: 'test',
  inputs: {},
});

async function values(registry: Registry): Promise<Record<string, number | undefined>> {
  const out: Record<string, number | undefined> = {};
  for (const m of await registry.getMetricsAsJSON()) out[m.name] = (m.values as Array<{ value: number }>)[0]?.value;
  return out;
}

describe('fleet signal gauges', () => {
  it('computes the signal once per plan for both gauges, and again for a new plan or target', async () => {
    const registry = new Registry();
    let inputs: FleetSignalInputs = { decisions: [decision('a', 0.9, 1), decision('b', 0.5, 1)], targetUtilisation: 0.7 };
    let reads = 0;
    fleetSignalGauges(registry, () => {
      reads++;
      return inputs;
    });
    expect(await values(registry)).toEqual({ mqtt_xds_fleet_utilisation: 0.7, mqtt_xds_recommended_brokers: 2 });
    expect(reads).toBe(2);
    // The same plan scraped again gives the same figures.
    expect(await values(registry)).toEqual({ mqtt_xds_fleet_utilisation: 0.7, mqtt_xds_recommended_brokers: 2 });
    inputs = { ...inputs, targetUtilisation: 0.3 };
    expect((await values(registry)).mqtt_xds_recommended_brokers).toBe(5);
    inputs = { decisions: [decision('a', 0.2, 1)], targetUtilisation: 0.3 };
    expect(await values(registry)).toEqual({ mqtt_xds_fleet_utilisation: 0.2, mqtt_xds_recommended_brokers: 1 });
  });

  it('leaves both gauges without a sample while no broker has a utilisation', async () => {
    const registry = new Registry();
    fleetSignalGauges(registry, () => ({ decisions: [], targetUtilisation: 0.7 }));
    expect(await values(registry)).toEqual({ mqtt_xds_fleet_utilisation: undefined, mqtt_xds_recommended_brokers: undefined });
    // Absent from the exposition, not 0: an autoscaler would read 0 as "scale down".
    const text = await registry.metrics();
    expect(text).toContain('# TYPE mqtt_xds_recommended_brokers gauge');
    expect(text.split('\n').filter((l) => l.startsWith('mqtt_xds_'))).toEqual([]);
  });
});
