// Regression tests for pages that must affect their own broker only (issue: one broker's
// page with 1.79e308 connections made every weight NaN and froze every later snapshot).
import { computeWeights } from '../../../src/balancing';
import { limitWeight } from '../../../src/balancing/weight-limits';
import { defaultPolicy } from '../../../src/config';
import type { Broker, BrokerLoad } from '../../../src/domain';
import { Scraper, parsePrometheusText, type FetchLike } from '../../../src/scraping';
import { implausibleSignal } from '../../../src/scraping/plausible';
import { silentLogger } from '../../../src/util/log';

const T0 = 1_700_000_000_000;
const brokers: Broker[] = ['a', 'b'].map((name) => ({ name, address: '127.0.0.1', port: 1883, metricsUrl: `http://${name}.test/metrics` }));
const gauge = (v: string): string =>
  `# TYPE com_hivemq_networking_connections_current gauge\ncom_hivemq_networking_connections_current ${v}\n`;

function scraperServing(pages: Record<string, string>) {
  const fetch: FetchLike = async (url) => new Response(pages[new URL(String(url)).hostname.split('.')[0]], { status: 200 });
  const scraper = new Scraper({ logger: silentLogger, onLoads: () => undefined, fetch, nowMs: () => T0 });
  scraper.setBrokers(brokers);
  return scraper;
}

describe('absurd metrics pages', () => {
  it.each(['1.7976931348623157e308', '1e307', '-5'])(
    'refuses a page with connections %s for that broker alone, keeping its last good signals',
    async (value) => {
      const pages = { a: gauge('100'), b: gauge('200') };
      const scraper = scraperServing(pages);
      await scraper.scrapeOnce();
      pages.a = gauge(value);
      const loads = await scraper.scrapeOnce();
      scraper.stop();
      expect(loads.get('a')).toMatchObject({
        error: { code: 'SCRAPE_IMPLAUSIBLE' },
        signals: { connections: 100 },
        consecutiveFailures: 1,
      });
      expect(loads.get('b')).toMatchObject({ signals: { connections: 200 }, consecutiveFailures: 0 });
      expect(loads.get('b')?.error).toBeUndefined();
    },
  );

  it('refuses a page that carries the same series twice, whatever the label order', async () => {
    const twice = 'x_total{a="1",b="2"} 1\nx_total{b="2",a="1"} 2\n';
    expect(parsePrometheusText(twice)).toMatchObject({ ok: false, problems: [{ code: 'PROM_DUPLICATE_SERIES', line: 2 }] });
    expect(parsePrometheusText('x_total{a="1"} 1\nx_total{a="2"} 2\n').ok).toBe(true);
    const scraper = scraperServing({ a: gauge('1') + gauge('2').split('\n')[1] + '\n', b: gauge('1') });
    const loads = await scraper.scrapeOnce();
    scraper.stop();
    expect(loads.get('a')?.error?.code).toBe('SCRAPE_DUPLICATE_SERIES');
  });

  it('names the signal that cannot be true', () => {
    expect(implausibleSignal({ connections: 10, cpu: 0.5 })).toBeUndefined();
    expect(implausibleSignal({ incomingPublishRate: 2e9 })).toMatch(/incomingPublishRate = 2000000000 is outside 0\.\.1000000000/);
    expect(implausibleSignal({ cpu: Number.NaN })).toMatch(/cpu = NaN/);
  });

  it('never turns a non-finite target into a weight', () => {
    const policy = defaultPolicy();
    const opts = { urgentDecrease: false, hold: false };
    expect(limitWeight(Number.NaN, 500, opts, policy).weight).toBe(500);
    expect(limitWeight(Number.NaN, undefined, opts, policy).weight).toBe(policy.bounds.floor);
    // An infinite target is an ordinary large one: one step of maxStepRatio at most.
    expect(limitWeight(Number.POSITIVE_INFINITY, 800, opts, policy).weight).toBe(800 * policy.smoothing.maxStepRatio);
  });

  it('keeps every weight finite even when absurd signals reach the balancer directly', () => {
    const loads = new Map<string, BrokerLoad>([
      ['a', { broker: 'a', scrapedAtMs: T0, signals: { connections: 1.7976931348623157e308 }, consecutiveFailures: 0, stale: false }],
      ['b', { broker: 'b', scrapedAtMs: T0, signals: { connections: 100 }, consecutiveFailures: 0, stale: false }],
    ]);
    const out = computeWeights({
      brokers,
      loads,
      previous: { brokers: brokers.map((b) => ({ name: b.name, firstSeenMs: 0 })), plan: { endpoints: [] } },
      policy: defaultPolicy(),
      nowMs: T0,
      moving: new Map(),
    });
    for (const e of out.plan.endpoints) expect(Number.isInteger(e.weight)).toBe(true);
  });
});

describe('pages that must not leak', () => {
  it('follows no redirect: a 3xx is SCRAPE_REDIRECT and the target is never fetched', async () => {
    const { MetricsServer } = await import('./metrics-server');
    const target = await new MetricsServer().route('/secret', (_req, res) => res.writeHead(200).end('credential_token 123\n')).start();
    const redirector = await new MetricsServer()
      .route('/metrics', (_req, res) => res.writeHead(302, { location: target.url('/secret') }).end())
      .start();
    const scraper = new Scraper({ logger: silentLogger, onLoads: () => undefined, nowMs: () => T0, timeoutMs: 2000 });
    scraper.setBrokers([{ name: 'a', address: '127.0.0.1', port: 1883, metricsUrl: redirector.url('/metrics') }]);
    const loads = await scraper.scrapeOnce();
    scraper.stop();
    await redirector.close();
    await target.close();
    expect(loads.get('a')?.error?.code).toBe('SCRAPE_REDIRECT');
    expect(target.requests).toEqual([]);
  });

  it('never quotes the page in a parse error', async () => {
    const scraper = scraperServing({ a: 'ghp_SECRETTOKEN1234{ oops\n', b: gauge('1') });
    const loads = await scraper.scrapeOnce();
    scraper.stop();
    const err = loads.get('a')?.error;
    expect(err?.code).toBe('SCRAPE_PARSE');
    expect(err?.message).toContain('(line 1)');
    expect(err?.message).not.toContain('SECRETTOKEN');
  });
});
