import { Registry } from 'prom-client';
import { registerReadyGauge, type Readiness } from '../../../src/admin';

describe('mqtt_xds_ready', () => {
  it('follows what /readyz would answer at each scrape', async () => {
    const registry = new Registry();
    let now: Readiness = { ready: false, reason: 'waiting for the first complete snapshot' };
    registerReadyGauge(registry, () => now);
    const value = async (): Promise<number | undefined> => (await registry.getSingleMetric('mqtt_xds_ready')?.get())?.values[0]?.value;
    expect(await value()).toBe(0);
    now = { ready: true, reason: 'serving snapshot abc' };
    expect(await value()).toBe(1);
  });
});
