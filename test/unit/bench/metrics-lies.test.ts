import { NoiseProxy } from '../../../test/bench/lb/noise-proxy';
import { rewritePage, type CounterState } from '../../../test/bench/lb/page-rewrite';
import { seeded } from '../../../test/bench/lb/rng';
import { MetricsServer, page } from '../scraping/metrics-server';

const value = (text: string, name: string): number => Number(new RegExp(`^${name} (.*)$`, 'm').exec(text)![1]);

/** A loaded broker's page, as the test broker writes it (HiveMQ counters are exported as gauges). */
function brokerPage(cpuSeconds: number, published: number): string {
  return [
    '# TYPE com_hivemq_networking_connections_current gauge',
    'com_hivemq_networking_connections_current 250.0',
    'com_hivemq_system_os_global_cpu_total_total 65.0',
    'com_hivemq_overload_protection_level 2.0',
    'com_hivemq_overload_protection_credits_per_tick 164.0',
    `com_hivemq_messages_incoming_publish_count ${published}.0`,
    `process_cpu_seconds_total ${cpuSeconds}`,
    'mqtt_xds_agent_cpu_limit_cores 2.0',
    '',
  ].join('\n');
}

describe('rewritePage', () => {
  const input = (counters: CounterState, lie?: 'idle' | 'doubled') => ({
    ratio: 0,
    ...(lie ? { lie } : {}),
    gaugeRandom: seeded(1, 'g'),
    counterRandom: seeded(1, 'c'),
    counters,
  });

  it('passes a page through byte for byte without noise or lie', () => {
    const counters: CounterState = new Map();
    for (let i = 0; i < 3; i++) {
      const text = brokerPage(100.1 + i * 0.7, 1000 + i * 13);
      expect(rewritePage(text, input(counters))).toBe(text);
    }
  });

  it('makes an idle page of a loaded broker: load gauges 0, overload off, counters standing still', () => {
    const counters: CounterState = new Map();
    rewritePage(brokerPage(100, 1000), input(counters));
    const idle = rewritePage(brokerPage(130, 1400), input(counters, 'idle'));
    expect(value(idle, 'com_hivemq_networking_connections_current')).toBe(0);
    expect(value(idle, 'com_hivemq_system_os_global_cpu_total_total')).toBe(0);
    expect(value(idle, 'com_hivemq_overload_protection_level')).toBe(0);
    expect(value(idle, 'com_hivemq_overload_protection_credits_per_tick')).toBe(200);
    expect(value(idle, 'process_cpu_seconds_total')).toBe(100);
    expect(value(idle, 'com_hivemq_messages_incoming_publish_count')).toBe(1000);
    // The CPU limit is configuration, not load.
    expect(value(idle, 'mqtt_xds_agent_cpu_limit_cores')).toBe(2);
    // After the lie the counters go on from where they stood: monotonic, the real increase.
    const after = rewritePage(brokerPage(140, 1500), input(counters));
    expect(value(after, 'process_cpu_seconds_total')).toBe(110);
    expect(value(after, 'com_hivemq_messages_incoming_publish_count')).toBe(1100);
    expect(value(after, 'com_hivemq_networking_connections_current')).toBe(250);
  });

  it('doubles load gauges and counter increases, keeping the counters monotonic and CPU at most 100 %', () => {
    const counters: CounterState = new Map();
    rewritePage(brokerPage(100, 1000), input(counters));
    const doubled = rewritePage(brokerPage(110, 1050), input(counters, 'doubled'));
    expect(value(doubled, 'com_hivemq_networking_connections_current')).toBe(500);
    expect(value(doubled, 'com_hivemq_system_os_global_cpu_total_total')).toBe(100);
    expect(value(doubled, 'process_cpu_seconds_total')).toBe(120);
    expect(value(doubled, 'com_hivemq_messages_incoming_publish_count')).toBe(1100);
    const next = rewritePage(brokerPage(115, 1060), input(counters, 'doubled'));
    expect(value(next, 'process_cpu_seconds_total')).toBe(130);
    // The overload level is a state, not a quantity: passed as it is.
    expect(value(next, 'com_hivemq_overload_protection_level')).toBe(2);
  });
});

describe('NoiseProxy lies and slow pages', () => {
  let upstream: MetricsServer;
  let proxy: NoiseProxy;
  let cpuSeconds = 0;
  let url = '';

  beforeEach(async () => {
    cpuSeconds = 100;
    upstream = await new MetricsServer().start();
    upstream.route(
      '/metrics',
      page(() => brokerPage(cpuSeconds, 1000)),
    );
    proxy = new NoiseProxy(7);
    await proxy.start();
    url = proxy.route('b1', upstream.url('/metrics'));
  });

  afterEach(async () => {
    await proxy.stop();
    await upstream.close();
  });

  const get = async (): Promise<string> => (await fetch(url)).text();

  it('repeats the last page served before a frozen lie exactly, then serves live pages again when it ends', async () => {
    const before = await get();
    proxy.setLie('b1', 'frozen');
    cpuSeconds = 150;
    expect(await get()).toBe(before);
    expect(await get()).toBe(before);
    proxy.setLie('b1', undefined);
    expect(value(await get(), 'process_cpu_seconds_total')).toBe(150);
  });

  it('serves an idle page while the lie lasts and ends it after durationMs', async () => {
    await get();
    proxy.setLie('b1', 'idle', 150);
    cpuSeconds = 120;
    const idle = await get();
    expect(value(idle, 'com_hivemq_networking_connections_current')).toBe(0);
    expect(value(idle, 'process_cpu_seconds_total')).toBe(100);
    await new Promise((r) => setTimeout(r, 250));
    cpuSeconds = 125;
    const live = await get();
    expect(value(live, 'com_hivemq_networking_connections_current')).toBe(250);
    expect(value(live, 'process_cpu_seconds_total')).toBe(105);
  });

  it('keeps a later lie when an earlier one ends', async () => {
    proxy.setLie('b1', 'idle', 100);
    proxy.setLie('b1', 'doubled');
    await new Promise((r) => setTimeout(r, 200));
    expect(value(await get(), 'com_hivemq_networking_connections_current')).toBe(500);
  });

  it('answers only after the delay, and a scraper with a shorter timeout gives up', async () => {
    proxy.setDelay('b1', 400);
    const started = Date.now();
    expect(value(await get(), 'com_hivemq_networking_connections_current')).toBe(250);
    expect(Date.now() - started).toBeGreaterThanOrEqual(380);
    await expect(fetch(url, { signal: AbortSignal.timeout(100) })).rejects.toThrow();
    proxy.setDelay('b1', 0);
    const quick = Date.now();
    await get();
    expect(Date.now() - quick).toBeLessThan(300);
  });

  it('stops at once even with a slow answer pending', async () => {
    proxy.setDelay('b1', 30_000);
    const pending = fetch(url).catch(() => 'closed');
    await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    await proxy.stop();
    expect(await pending).toBe('closed');
    expect(Date.now() - started).toBeLessThan(1000);
    // afterEach stops it again: that must be harmless.
    proxy = new NoiseProxy(1);
    await proxy.start();
  });
});
