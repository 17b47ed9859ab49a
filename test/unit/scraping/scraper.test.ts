import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import type { Broker, BrokerLoad } from '../../../src/domain';
import { Scraper, type FetchLike, type ScraperOptions } from '../../../src/scraping';
import { createLogger } from '../../../src/util/log';
import { MetricsServer, page, stallBody, status, streamed } from './metrics-server';

const fixture = (name: string): string => readFileSync(join(__dirname, '../../fixtures/metrics', name), 'utf8');
const CE = fixture('hivemq-ce.txt');
const ENTERPRISE = fixture('hivemq-enterprise.txt');
const T0 = 1_700_000_000_000;

const broker = (name: string, metricsUrl?: string): Broker => ({
  name,
  address: '127.0.0.1',
  port: 1883,
  ...(metricsUrl === undefined ? {} : { metricsUrl }),
});

function harness(opts: Partial<ScraperOptions> = {}) {
  const logs: Array<Record<string, unknown>> = [];
  const delivered: Array<ReadonlyMap<string, BrokerLoad>> = [];
  const registry = new Registry();
  const clock = { now: T0 };
  const scraper = new Scraper({
    logger: createLogger('debug', {}, (line) => logs.push(JSON.parse(line) as Record<string, unknown>)),
    onLoads: (loads) => delivered.push(loads),
    nowMs: () => clock.now,
    registry,
    timeoutMs: 1000,
    intervalMs: 5000,
    ...opts,
  });
  return { scraper, logs, delivered, registry, clock };
}

const load = (loads: ReadonlyMap<string, BrokerLoad>, name: string): BrokerLoad => {
  const l = loads.get(name);
  if (!l) throw new Error(`no load for ${name}; have ${[...loads.keys()].join(', ')}`);
  return l;
};

async function metricValues(registry: Registry, name: string): Promise<Array<{ labels: object; value: number }>> {
  const metric = registry.getSingleMetric(name);
  if (!metric) throw new Error(`metric ${name} not registered`);
  return (await metric.get()).values.map((v) => ({ labels: v.labels, value: v.value }));
}

/** A port nothing listens on: bind one, then close it. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, check: () => boolean, timeoutMs = 4000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe('Scraper against real HTTP servers', () => {
  let server: MetricsServer;
  const scrapers: Scraper[] = [];

  beforeEach(async () => {
    server = await new MetricsServer().start();
  });

  afterEach(async () => {
    for (const s of scrapers.splice(0)) s.stop();
    await server.close();
  });

  function make(opts: Partial<ScraperOptions> = {}): ReturnType<typeof harness> {
    const h = harness(opts);
    scrapers.push(h.scraper);
    return h;
  }

  it('scrapes every broker with a metrics URL and reports the full map after the round', async () => {
    server
      .route(
        '/ce',
        page(() => CE),
      )
      .route(
        '/ent',
        page(() => ENTERPRISE),
      );
    const h = make();
    h.scraper.setBrokers([broker('ce', server.url('/ce')), broker('ent', server.url('/ent')), broker('plain')]);

    const loads = await h.scraper.scrapeOnce();

    expect([...loads.keys()]).toEqual(['ce', 'ent']);
    expect(h.delivered).toEqual([loads]);
    expect(load(loads, 'ce')).toEqual({
      broker: 'ce',
      scrapedAtMs: T0,
      signals: { connections: 1342, heapUsedRatio: 0.25 },
      unavailable: ['cpu'],
      consecutiveFailures: 0,
      stale: false,
    });
    expect(load(loads, 'ent').signals).toMatchObject({ overloadLevel: 3, cpu: 0.625, backpressureClients: 214 });
    expect(load(loads, 'ent').unavailable).toBeUndefined();
    expect(server.requests.sort()).toEqual(['/ce', '/ent']);
  });

  it('turns counters into rates from the previous successful scrape', async () => {
    let count = 1000;
    server.route(
      '/b',
      page(() => `com_hivemq_messages_incoming_publish_count ${count}.0\n`),
    );
    const h = make();
    h.scraper.setBrokers([broker('b', server.url('/b'))]);
    await h.scraper.scrapeOnce();
    count += 2500;
    h.clock.now += 5000;
    const loads = await h.scraper.scrapeOnce();
    expect(load(loads, 'b').signals.incomingPublishRate).toBe(500);
  });

  it('reports SCRAPE_HTTP_STATUS for a 500 and leaves the other brokers alone', async () => {
    server
      .route(
        '/ok',
        page(() => CE),
      )
      .route('/broken', status(500));
    const h = make();
    h.scraper.setBrokers([broker('ok', server.url('/ok')), broker('broken', server.url('/broken'))]);

    const loads = await h.scraper.scrapeOnce();

    const broken = load(loads, 'broken');
    expect(broken.error?.code).toBe('SCRAPE_HTTP_STATUS');
    expect(broken.error?.message).toContain('broker broken');
    expect(broken.error?.message).toContain(server.url('/broken'));
    expect(broken.error?.message).toContain('HTTP 500');
    expect(broken).toMatchObject({ consecutiveFailures: 1, stale: true, signals: {} });
    expect(broken.scrapedAtMs).toBeUndefined();
    expect(load(loads, 'ok')).toMatchObject({ consecutiveFailures: 0, stale: false, signals: { connections: 1342 } });
    expect(load(loads, 'ok').error).toBeUndefined();
  });

  it('gives up on a slow broker at the timeout with SCRAPE_TIMEOUT', async () => {
    server
      .route(
        '/slow',
        page(() => CE, 3000),
      )
      .route(
        '/fast',
        page(() => CE),
      );
    const h = make({ timeoutMs: 150 });
    h.scraper.setBrokers([broker('slow', server.url('/slow')), broker('fast', server.url('/fast'))]);

    const started = Date.now();
    const loads = await h.scraper.scrapeOnce();

    expect(Date.now() - started).toBeLessThan(1500);
    expect(load(loads, 'slow').error?.code).toBe('SCRAPE_TIMEOUT');
    expect(load(loads, 'slow').error?.message).toContain('150 ms');
    expect(load(loads, 'fast').error).toBeUndefined();
  });

  it('counts a body that stalls after the headers against the same timeout', async () => {
    server.route('/stall', stallBody(3000));
    const h = make({ timeoutMs: 150 });
    h.scraper.setBrokers([broker('stall', server.url('/stall'))]);
    const loads = await h.scraper.scrapeOnce();
    expect(load(loads, 'stall').error?.code).toBe('SCRAPE_TIMEOUT');
  });

  it('reports SCRAPE_PARSE with the offending line for a garbage page', async () => {
    server.route(
      '/garbage',
      page(() => 'com_hivemq_networking_connections_current 5\n<html>oops</html>\n'),
    );
    server.route(
      '/good',
      page(() => ENTERPRISE),
    );
    const h = make();
    h.scraper.setBrokers([broker('garbage', server.url('/garbage')), broker('good', server.url('/good'))]);

    const loads = await h.scraper.scrapeOnce();

    const garbage = load(loads, 'garbage');
    expect(garbage.error?.code).toBe('SCRAPE_PARSE');
    expect(garbage.error?.message).toContain('(line 2)');
    expect(garbage.signals).toEqual({});
    expect(load(loads, 'good').signals.connections).toBe(48211);
  });

  it('stops reading a streamed page past maxBodyBytes with SCRAPE_TOO_LARGE', async () => {
    server.route('/huge', streamed(2 * 1024 * 1024)).route(
      '/small',
      page(() => CE),
    );
    const h = make({ maxBodyBytes: 64 * 1024 });
    h.scraper.setBrokers([broker('huge', server.url('/huge')), broker('small', server.url('/small'))]);

    const loads = await h.scraper.scrapeOnce();

    expect(load(loads, 'huge').error?.code).toBe('SCRAPE_TOO_LARGE');
    expect(load(loads, 'huge').error?.message).toContain(String(64 * 1024));
    expect(load(loads, 'small').error).toBeUndefined();
  });

  it('refuses a page whose Content-Length is over the limit without reading it', async () => {
    server.route(
      '/declared',
      page(() => CE.repeat(20)),
    );
    const h = make({ maxBodyBytes: CE.length });
    h.scraper.setBrokers([broker('declared', server.url('/declared'))]);
    const loads = await h.scraper.scrapeOnce();
    expect(load(loads, 'declared').error?.code).toBe('SCRAPE_TOO_LARGE');
    expect(load(loads, 'declared').error?.message).toContain(`${Buffer.byteLength(CE.repeat(20))} bytes`);
  });

  it('reports SCRAPE_CONNECT when nothing listens on the port', async () => {
    const port = await closedPort();
    const h = make();
    h.scraper.setBrokers([broker('gone', `http://127.0.0.1:${port}/metrics`)]);
    const loads = await h.scraper.scrapeOnce();
    expect(load(loads, 'gone').error?.code).toBe('SCRAPE_CONNECT');
    expect(load(loads, 'gone').error?.message).toContain('ECONNREFUSED');
    expect(load(loads, 'gone').error?.message).toContain(`127.0.0.1:${port}/metrics`);
  });

  it('keeps the last good signals while failing, counts failures and turns stale after staleAfterMs', async () => {
    let broken = false;
    server.route('/b', (req, res) => (broken ? status(503) : page(() => ENTERPRISE))(req, res));
    const h = make({ staleAfterMs: 15_000 });
    h.scraper.setBrokers([broker('b', server.url('/b'))]);
    const first = load(await h.scraper.scrapeOnce(), 'b');
    expect(first).toMatchObject({ stale: false, consecutiveFailures: 0, scrapedAtMs: T0 });

    broken = true;
    h.clock.now = T0 + 5_000;
    const second = load(await h.scraper.scrapeOnce(), 'b');
    expect(second).toMatchObject({ stale: false, consecutiveFailures: 1, scrapedAtMs: T0, signals: first.signals });
    expect(second.error?.code).toBe('SCRAPE_HTTP_STATUS');

    h.clock.now = T0 + 15_001;
    const third = load(await h.scraper.scrapeOnce(), 'b');
    expect(third).toMatchObject({ stale: true, consecutiveFailures: 2, scrapedAtMs: T0, signals: first.signals });

    broken = false;
    h.clock.now = T0 + 20_000;
    const recovered = load(await h.scraper.scrapeOnce(), 'b');
    expect(recovered).toMatchObject({ stale: false, consecutiveFailures: 0, scrapedAtMs: T0 + 20_000 });
    expect(recovered.error).toBeUndefined();
  });

  it('uses three intervals as the default staleness limit', async () => {
    let broken = false;
    server.route('/b', (req, res) => (broken ? status(500) : page(() => CE))(req, res));
    const h = make({ intervalMs: 1000 });
    h.scraper.setBrokers([broker('b', server.url('/b'))]);
    await h.scraper.scrapeOnce();
    broken = true;
    h.clock.now = T0 + 3000;
    expect(load(await h.scraper.scrapeOnce(), 'b').stale).toBe(false);
    h.clock.now = T0 + 3001;
    expect(load(await h.scraper.scrapeOnce(), 'b').stale).toBe(true);
  });

  it('logs a failure once when it starts and once when it ends, not every round', async () => {
    let broken = true;
    server.route('/b', (req, res) => (broken ? status(500) : page(() => CE))(req, res));
    const h = make();
    h.scraper.setBrokers([broker('b', server.url('/b'))]);
    for (let i = 0; i < 4; i++) await h.scraper.scrapeOnce();
    broken = false;
    await h.scraper.scrapeOnce();
    await h.scraper.scrapeOnce();

    const notable = h.logs.filter((l) => l.level === 'warn' || l.level === 'info' || l.level === 'error');
    expect(notable.map((l) => [l.level, l.msg])).toEqual([
      ['warn', 'broker metrics scrape failing; keeping its last good signals'],
      ['info', 'broker metrics reachable again'],
    ]);
    expect(notable[0]).toMatchObject({ broker: 'b', code: 'SCRAPE_HTTP_STATUS', url: server.url('/b') });
    expect(notable[1]).toMatchObject({ broker: 'b', failures: 4 });
  });

  it('keeps at most `concurrency` requests in flight', async () => {
    const names = Array.from({ length: 10 }, (_, i) => `b${i}`);
    for (const n of names)
      server.route(
        `/${n}`,
        page(() => CE, 60),
      );
    const h = make({ concurrency: 3 });
    h.scraper.setBrokers(names.map((n) => broker(n, server.url(`/${n}`))));

    const loads = await h.scraper.scrapeOnce();

    expect(server.maxInFlight).toBe(3);
    expect(server.requests).toHaveLength(10);
    expect([...loads.values()].every((l) => l.error === undefined)).toBe(true);
  });

  it('records scrape durations, errors by code and staleness as Prometheus metrics', async () => {
    server
      .route(
        '/ok',
        page(() => CE),
      )
      .route('/broken', status(500));
    const h = make();
    h.scraper.setBrokers([broker('ok', server.url('/ok')), broker('broken', server.url('/broken'))]);
    await h.scraper.scrapeOnce();
    await h.scraper.scrapeOnce();

    expect(await metricValues(h.registry, 'mqtt_xds_scrape_errors_total')).toEqual([
      { labels: { broker: 'broken', code: 'SCRAPE_HTTP_STATUS' }, value: 2 },
    ]);
    const stale = await metricValues(h.registry, 'mqtt_xds_broker_stale');
    expect(stale).toEqual(
      expect.arrayContaining([
        { labels: { broker: 'ok' }, value: 0 },
        { labels: { broker: 'broken' }, value: 1 },
      ]),
    );
    const text = await h.registry.metrics();
    expect(text).toContain('mqtt_xds_scrape_duration_seconds_count{broker="ok"} 2');
    expect(text).toContain('mqtt_xds_scrape_duration_seconds_count{broker="broken"} 2');
  });

  it('forgets removed brokers, their loads and their metric series', async () => {
    server
      .route(
        '/a',
        page(() => CE),
      )
      .route('/b', status(500));
    const h = make();
    h.scraper.setBrokers([broker('a', server.url('/a')), broker('b', server.url('/b'))]);
    await h.scraper.scrapeOnce();

    h.scraper.setBrokers([broker('a', server.url('/a'))]);
    const loads = await h.scraper.scrapeOnce();

    expect([...loads.keys()]).toEqual(['a']);
    const text = await h.registry.metrics();
    expect(text).not.toContain('broker="b"');
    expect(server.requests.filter((r) => r === '/b')).toHaveLength(1);
  });

  it('starts afresh when a broker metrics URL changes', async () => {
    server.route(
      '/old',
      page(() => 'com_hivemq_messages_incoming_publish_count 100\n'),
    );
    server.route(
      '/new',
      page(() => 'com_hivemq_messages_incoming_publish_count 900\n'),
    );
    const h = make();
    h.scraper.setBrokers([broker('b', server.url('/old'))]);
    await h.scraper.scrapeOnce();
    h.scraper.setBrokers([broker('b', server.url('/new'))]);
    h.clock.now += 1000;
    const loads = await h.scraper.scrapeOnce();
    expect(load(loads, 'b').signals.incomingPublishRate).toBeUndefined();
    expect(load(loads, 'b').scrapedAtMs).toBe(T0 + 1000);
  });

  it('reports an unscraped broker as stale with no signals', () => {
    const h = make();
    h.scraper.setBrokers([broker('new', server.url('/new'))]);
    expect(load(h.scraper.currentLoads(), 'new')).toEqual({ broker: 'new', signals: {}, consecutiveFailures: 0, stale: true });
  });

  it('shares one round between overlapping scrapeOnce calls', async () => {
    server.route(
      '/b',
      page(() => CE, 30),
    );
    const h = make();
    h.scraper.setBrokers([broker('b', server.url('/b'))]);
    const [x, y] = await Promise.all([h.scraper.scrapeOnce(), h.scraper.scrapeOnce()]);
    expect(x).toBe(y);
    expect(server.requests).toHaveLength(1);
    expect(h.delivered).toHaveLength(1);
  });

  it('scrapes in rounds after start() until stop()', async () => {
    server.route(
      '/b',
      page(() => CE),
    );
    const h = make({ intervalMs: 30, jitterRatio: 0 });
    h.scraper.setBrokers([broker('b', server.url('/b'))]);
    h.scraper.start();
    // The round timer must not keep a process alive that has nothing else to do.
    expect((h.scraper as unknown as { timer: NodeJS.Timeout }).timer.hasRef()).toBe(false);
    await waitFor('three rounds', () => h.delivered.length >= 3);
    h.scraper.stop();
    const rounds = h.delivered.length;
    await sleep(120);
    expect(h.delivered.length).toBeLessThanOrEqual(rounds + 1);
    const settled = h.delivered.length;
    await sleep(100);
    expect(h.delivered.length).toBe(settled);
  });

  it('brings one round forward to quickIntervalMs when hurried, and counts it', async () => {
    server.route(
      '/b',
      page(() => CE),
    );
    const h = make({ intervalMs: 3000, quickIntervalMs: 50, jitterRatio: 0 });
    h.scraper.setBrokers([broker('b', server.url('/b'))]);
    h.scraper.start();
    await waitFor('the first round', () => h.delivered.length === 1);
    const hurriedAt = Date.now();
    h.scraper.hurry();
    h.scraper.hurry(); // asking twice changes nothing
    await waitFor('the hurried round', () => h.delivered.length === 2, 1500);
    expect(Date.now() - hurriedAt).toBeLessThan(1500);
    // Not asked again: the round after it keeps the full interval.
    await sleep(600);
    expect(h.delivered).toHaveLength(2);
    expect(await metricValues(h.registry, 'mqtt_xds_scrape_quick_rounds_total')).toEqual([{ labels: {}, value: 1 }]);
  });

  it('ignores hurry() when the quick interval is off or not shorter than the interval', async () => {
    server.route(
      '/b',
      page(() => CE),
    );
    for (const quickIntervalMs of [0, 3000]) {
      const h = make({ intervalMs: 3000, quickIntervalMs, jitterRatio: 0 });
      h.scraper.setBrokers([broker('b', server.url('/b'))]);
      h.scraper.start();
      await waitFor('the first round', () => h.delivered.length === 1);
      h.scraper.hurry();
      await sleep(400);
      expect(h.delivered).toHaveLength(1);
      h.scraper.stop();
    }
  });

  it('abandons a round in flight on stop() without reporting it', async () => {
    server.route(
      '/slow',
      page(() => CE, 3000),
    );
    const h = make({ timeoutMs: 5000 });
    h.scraper.setBrokers([broker('slow', server.url('/slow'))]);
    h.scraper.start();
    await waitFor('the request to arrive', () => server.requests.length === 1);
    h.scraper.stop();
    await sleep(50);
    expect(h.delivered).toHaveLength(0);
    expect(load(h.scraper.currentLoads(), 'slow')).toMatchObject({ consecutiveFailures: 0, stale: true });
  });
});

describe('Scraper with an injected fetch', () => {
  it('asks for the 0.0.4 text format and reads the answer', async () => {
    const calls: Array<{ url: string; accept: string | undefined }> = [];
    const fakeFetch: FetchLike = async (url, init) => {
      calls.push({ url, accept: init.headers.accept });
      return new Response('com_hivemq_networking_connections_current 7\n', { status: 200 });
    };
    const h = harness({ fetch: fakeFetch });
    h.scraper.setBrokers([broker('b', 'http://broker.invalid:9399/metrics')]);
    const loads = await h.scraper.scrapeOnce();
    expect(load(loads, 'b').signals).toEqual({ connections: 7 });
    expect(calls).toEqual([{ url: 'http://broker.invalid:9399/metrics', accept: expect.stringContaining('version=0.0.4') }]);
  });

  it('turns a fetch that throws into SCRAPE_CONNECT for that broker only', async () => {
    const fakeFetch: FetchLike = async (url) => {
      if (url.includes('bad')) throw new TypeError('fetch failed', { cause: new Error('getaddrinfo ENOTFOUND bad') });
      return new Response('com_hivemq_networking_connections_current 1\n');
    };
    const h = harness({ fetch: fakeFetch });
    h.scraper.setBrokers([broker('bad', 'http://bad/metrics'), broker('good', 'http://good/metrics')]);
    const loads = await h.scraper.scrapeOnce();
    expect(load(loads, 'bad').error).toEqual({
      code: 'SCRAPE_CONNECT',
      message: expect.stringContaining('getaddrinfo ENOTFOUND bad'),
    });
    expect(load(loads, 'good').signals).toEqual({ connections: 1 });
  });

  it('reports a page that is not UTF-8 as SCRAPE_PARSE', async () => {
    const fakeFetch: FetchLike = async () => new Response(new Uint8Array([0x6d, 0x20, 0x31, 0xff, 0xfe]));
    const h = harness({ fetch: fakeFetch });
    h.scraper.setBrokers([broker('b', 'http://b/metrics')]);
    const loads = await h.scraper.scrapeOnce();
    expect(load(loads, 'b').error?.code).toBe('SCRAPE_PARSE');
  });

  it('keeps going when onLoads throws', async () => {
    const logs: string[] = [];
    const scraper = new Scraper({
      logger: createLogger('debug', {}, (l) => logs.push(l)),
      fetch: async () => new Response('m 1\n'),
      onLoads: () => {
        throw new Error('consumer bug');
      },
    });
    scraper.setBrokers([broker('b', 'http://b/metrics')]);
    await expect(scraper.scrapeOnce()).resolves.toBeInstanceOf(Map);
    expect(logs.some((l) => l.includes('onLoads threw'))).toBe(true);
  });
});
