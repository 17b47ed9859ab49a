// The capacity test broker's realistic CPU model end to end: flags through the launcher to
// the built broker process, and the agent's CPU series on its /metrics as mqtt-xds reads them.
import { launchCapacityBroker, type LaunchedBroker } from '../tools/testbroker/launch';
import { hivemqSignals, parsePrometheusText, type Scrape } from '../../src/scraping';
import { sleep } from '../support/wait';

async function scrape(broker: LaunchedBroker): Promise<{ text: string; scrape: Scrape }> {
  const text = await broker.metrics();
  const parsed = parsePrometheusText(text);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return { text, scrape: { samples: parsed.value, atMs: Date.now() } };
}

describe('capacity test broker with the realistic CPU model', () => {
  let broker: LaunchedBroker;

  beforeAll(async () => {
    // A quarter-core quota read as the JVM rounds it: one processor.
    broker = await launchCapacityBroker({
      name: 'cpu-rounded',
      capacity: 100,
      cores: 0.25,
      cpuModel: 'realistic',
      cpuView: 'rounded',
      cpuLagMs: 0,
      cpuSpikeIntervalMs: 0,
    });
  });

  afterAll(async () => {
    await broker?.stop();
  });

  it('throttles at its quota, exports the throttling, and reads a quarter of the truth over one processor', async () => {
    await broker.post('load', { extraCost: 200 });
    await sleep(300);
    const first = await scrape(broker);
    await sleep(2000);
    const second = await scrape(broker);
    const signals = hivemqSignals(second.scrape, first.scrape);

    expect(second.text).toContain('mqtt_xds_agent_cpu_limit_cores 1.0\n');
    expect(second.text).toContain('mqtt_xds_agent_cpu_limit_info{source="host",} 1.0\n');
    expect(second.text).toContain('mqtt_xds_agent_gc_pause_seconds_total 0.0\n');
    // Demand is above the quota: all of it used, every period throttled.
    expect((await broker.state()).cpu).toBe(1);
    expect(signals.throttledRatio).toBeGreaterThan(0.9);
    // Scrape timing against the broker's 100 ms ticks blurs the rate by a few per cent.
    expect(signals.cpu).toBeGreaterThan(0.2);
    expect(signals.cpu).toBeLessThan(0.3);
  });
});
