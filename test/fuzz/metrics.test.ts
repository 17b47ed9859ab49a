// Fuzz target for a broker's metrics page: whatever one broker's page says, parsing
// answers with a value, and the weights of every broker stay finite integers within the
// policy's bounds, so one absurd page can never block a snapshot.
import fc from 'fast-check';
import { computeWeights } from '../../src/balancing';
import { defaultPolicy } from '../../src/config';
import type { Broker, BrokerLoad } from '../../src/domain';
import { Scraper, type FetchLike } from '../../src/scraping';
import { silentLogger } from '../../src/util/log';
import { corpus, inputs, RUNS } from './mutate';

const NOW_MS = 1_800_000_000_000;
const brokers: Broker[] = ['a', 'b', 'c'].map((name, i) => ({
  name,
  address: `10.0.0.${i + 1}`,
  port: 1883,
  metricsUrl: `http://10.0.0.${i + 1}/metrics`,
}));

/** Two scrapes through the real scraper (for rates): the previous page, then the page. */
async function scrape(pages: Record<string, string[]>): Promise<ReadonlyMap<string, BrokerLoad>> {
  let round = 0;
  const fetch: FetchLike = async (url) => {
    const name = brokers.find((b) => b.metricsUrl === String(url))?.name ?? '';
    return new Response(pages[name][round], { status: 200 });
  };
  let now = NOW_MS - 5000;
  const scraper = new Scraper({ logger: silentLogger, onLoads: () => undefined, fetch, nowMs: () => now });
  scraper.setBrokers(brokers);
  await scraper.scrapeOnce();
  round = 1;
  now = NOW_MS;
  const loads = await scraper.scrapeOnce();
  scraper.stop();
  return loads;
}

describe('fuzz: metrics pages', () => {
  it("never throw, and one broker's page never makes any weight non-finite or out of bounds", async () => {
    const policy = defaultPolicy();
    const good = corpus('prometheus')[0];
    await fc.assert(
      fc.asyncProperty(inputs('prometheus'), inputs('prometheus'), async (page, previous) => {
        const loads = await scrape({ a: [previous, page], b: [good, good], c: [good, good] });
        const out = computeWeights({
          brokers,
          loads,
          previous: { brokers: brokers.map((b) => ({ name: b.name, firstSeenMs: 0 })), plan: { endpoints: [] } },
          policy,
          nowMs: NOW_MS,
          moving: new Map(),
        });
        for (const e of out.plan.endpoints) {
          expect(Number.isInteger(e.weight)).toBe(true);
          expect(e.weight).toBeGreaterThanOrEqual(policy.bounds.floor);
          expect(e.weight).toBeLessThanOrEqual(policy.bounds.ceiling);
        }
        // What reaches the balancer is plausible, whatever the page said.
        for (const l of loads.values()) {
          const { cpuSource, ...numbers } = l.signals;
          for (const v of Object.values(numbers)) expect(Number.isFinite(v) && v >= 0 && v <= 1e10).toBe(true);
          expect([undefined, 'limit', 'system', 'process-cores']).toContain(cpuSource);
          expect(cpuSource === undefined).toBe(l.signals.cpu === undefined);
          expect(l.signals.connections ?? 0).toBeLessThanOrEqual(1e8);
        }
        // The other brokers (same good pages) keep a real weight: not pushed to the ceiling,
        // nor (as with a 1e308 page once) to the floor unless a really dwarfs them.
        const [, wb, wc] = out.plan.endpoints.map((e) => e.weight);
        expect(wb).toBe(wc);
        expect(wb).toBeLessThan(policy.bounds.ceiling);
        const aConnections = loads.get('a')?.signals.connections ?? 0;
        const bConnections = loads.get('b')?.signals.connections ?? 0;
        if (aConnections <= 100 * bConnections) expect(wb).toBeGreaterThan(policy.bounds.floor);
      }),
      { numRuns: RUNS },
    );
  });
});
