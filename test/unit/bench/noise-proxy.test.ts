import { NoiseProxy } from '../../../test/bench/lb/noise-proxy';
import { MetricsServer, page } from '../scraping/metrics-server';

describe('NoiseProxy', () => {
  let upstream: MetricsServer;
  let proxy: NoiseProxy;
  let cpuSeconds = 0;

  beforeEach(async () => {
    cpuSeconds = 100;
    upstream = await new MetricsServer().start();
    upstream.route(
      '/metrics',
      page(() => `com_hivemq_networking_connections_current 1000.0\nprocess_cpu_seconds_total ${cpuSeconds}\n`),
    );
    proxy = new NoiseProxy(7);
    await proxy.start();
  });

  afterEach(async () => {
    await proxy.stop();
    await upstream.close();
  });

  const value = (text: string, name: string): number => Number(new RegExp(`^${name} (.*)$`, 'm').exec(text)![1]);

  it('puts the noise on the increase of process CPU seconds, which stays monotonic, and passes it through when off', async () => {
    const url = proxy.route('b1', upstream.url('/metrics'));
    const get = async (): Promise<string> => (await fetch(url)).text();
    expect(value(await get(), 'process_cpu_seconds_total')).toBe(100);
    proxy.setNoise('b1', 0.5);
    const increases: number[] = [];
    let last = 100;
    for (let i = 0; i < 20; i++) {
      cpuSeconds += 10;
      const served = value(await get(), 'process_cpu_seconds_total');
      increases.push(served - last);
      last = served;
    }
    expect(Math.min(...increases)).toBeGreaterThanOrEqual(5);
    expect(Math.max(...increases)).toBeLessThanOrEqual(15);
    expect(new Set(increases.map((x) => x.toFixed(6))).size).toBeGreaterThan(10);
    // Off again: the real increase, on top of the offset gathered so far.
    proxy.setNoise('b1', 0);
    cpuSeconds += 10;
    expect(value(await get(), 'process_cpu_seconds_total') - last).toBeCloseTo(10, 9);
  });
});
