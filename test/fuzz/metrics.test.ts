// Fuzz target for a broker's metrics page: whatever one broker's page says, parsing
// answers with a value, and the weights of every broker stay finite integers within the
// policy's bounds, so one absurd page can never block a snapshot.
import fc from 'fast-check';
import { computeWeights } from '../../src/balancing';
import { defaultPolicy } from '../../src/config';
import type { Broker, BrokerLoad } from '../../src/domain';
import { hivemqSignals, parsePrometheusText } from '../../src/scraping';
import { corpus, inputs, RUNS } from './mutate';

const NOW_MS = 1_800_000_000_000;
const brokers: Broker[] = ['a', 'b', 'c'].map((name, i) => ({ name, address: `10.0.0.${i + 1}`, port: 1883, metricsUrl: `http://10.0.0.${i + 1}/metrics` }));

function load(name: string, page: string, previousPage: string | undefined): BrokerLoad {
  const parsed = parsePrometheusText(page);
  if (!parsed.ok) return { broker: name, signals: {}, consecutiveFailures: 1, stale: false, error: { code: 'SCRAPE_PARSE', message: 'bad page' } };
  const prev = previousPage === undefined ? undefined : parsePrometheusText(previousPage);
  const signals = hivemqSignals(
    { samples: parsed.value, atMs: NOW_MS },
    prev?.ok ? { samples: prev.value, atMs: NOW_MS - 5000 } : undefined,
  );
  return { broker: name, scrapedAtMs: NOW_MS, signals, consecutiveFailures: 0, stale: false };
}

describe('fuzz: metrics pages', () => {
  it('never throw, and one broker\'s page never makes any weight non-finite or out of bounds', () => {
    const policy = defaultPolicy();
    const good = corpus('prometheus')[0];
    fc.assert(
      fc.property(inputs('prometheus'), inputs('prometheus'), (page, previous) => {
        const loads = new Map<string, BrokerLoad>([
          ['a', load('a', page, previous)],
          ['b', load('b', good, undefined)],
          ['c', load('c', good, undefined)],
        ]);
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
      }),
      { numRuns: RUNS },
    );
  });
});
