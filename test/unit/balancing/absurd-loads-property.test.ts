// Property: whatever signals reach the balancing core directly (NaN, ±Infinity, 1e308,
// negative), every weight it plans is a finite integer within the policy bounds or 0.
import fc from 'fast-check';
import { computeWeights } from '../../../src/balancing';
import { defaultPolicy } from '../../../src/config';
import type { Broker, BrokerLoad, LoadSignals } from '../../../src/domain';

const T0 = 1_700_000_000_000;
const absurd = fc.oneof(
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1.7976931348623157e308, 1e307, -1, 0),
  fc.double(),
  fc.integer({ min: 0, max: 1_000_000 }),
);
const signals: fc.Arbitrary<LoadSignals> = fc.record(
  {
    connections: absurd,
    notWritable: absurd,
    incomingPublishRate: absurd,
    outgoingPublishRate: absurd,
    droppedRate: absurd,
    overloadLevel: absurd,
    backpressureClients: absurd,
    creditsPerTick: absurd,
    cpu: absurd,
    cpuSource: fc.constantFrom('limit' as const, 'system' as const, 'process-cores' as const),
    throttledRatio: absurd,
    gcPauseRatio: absurd,
    heapUsedRatio: absurd,
  },
  { requiredKeys: [] },
);

describe('balancing core under absurd loads', () => {
  it('plans only finite integer weights within bounds, for any signals over several rounds', () => {
    const policy = defaultPolicy();
    fc.assert(
      fc.property(fc.array(fc.array(signals, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 4 }), (rounds) => {
        const n = Math.max(...rounds.map((r) => r.length));
        const brokers: Broker[] = Array.from({ length: n }, (_, i) => ({ name: `b${i}`, address: `10.0.0.${i + 1}`, port: 1883 }));
        let previous = {
          brokers: brokers.map((b) => ({ name: b.name, firstSeenMs: 0 })),
          plan: { endpoints: [] as never[] },
        } as Parameters<typeof computeWeights>[0]['previous'];
        for (const [round, sigs] of rounds.entries()) {
          const nowMs = T0 + round * 15_000;
          const loads = new Map<string, BrokerLoad>(
            sigs.map((s, i) => [`b${i}`, { broker: `b${i}`, scrapedAtMs: nowMs, signals: s, consecutiveFailures: 0, stale: false }]),
          );
          const out = computeWeights({ brokers, loads, previous, policy, nowMs, moving: new Map() });
          for (const e of out.plan.endpoints) {
            expect(Number.isInteger(e.weight)).toBe(true);
            expect(e.weight === 0 || (e.weight >= policy.bounds.floor && e.weight <= policy.bounds.ceiling)).toBe(true);
          }
          previous = { ...previous, plan: out.plan } as typeof previous;
        }
      }),
      { numRuns: 300 },
    );
  });
});
