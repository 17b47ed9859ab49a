// Fuzz targets for the files an operator writes: the brokers file and the policy. Whatever
// the bytes, the parser answers with a value (never throws), every refusal names a code
// and a message, and what it accepts satisfies the documented invariants.
import fc from 'fast-check';
import { parsePolicy } from '../../src/config';
import { parseBrokersFile } from '../../src/discovery';
import { inputs, RUNS } from './mutate';

describe('fuzz: brokers file', () => {
  it('never throws; refusals are coded; accepted sets hold valid, unique brokers', () => {
    fc.assert(
      fc.property(inputs('brokers'), (text) => {
        const r = parseBrokersFile(text, 'brokers.yaml');
        if (!r.ok) {
          expect(r.problems.length).toBeGreaterThan(0);
          for (const p of r.problems) {
            expect(p.code).toMatch(/^[A-Z][A-Z0-9_]+$/);
            expect(p.message.length).toBeGreaterThan(0);
          }
          return;
        }
        expect(r.value.length).toBeGreaterThan(0);
        expect(new Set(r.value.map((b) => b.name)).size).toBe(r.value.length);
        for (const b of r.value) {
          expect(Number.isInteger(b.port) && b.port >= 1 && b.port <= 65535).toBe(true);
          if (b.staticWeight !== undefined) expect(Number.isInteger(b.staticWeight) && b.staticWeight >= 1).toBe(true);
        }
      }),
      { numRuns: RUNS },
    );
  });
});

describe('fuzz: policy', () => {
  it('never throws; refusals are coded; an accepted policy has finite numbers only', () => {
    fc.assert(
      fc.property(inputs('policy'), (text) => {
        const r = parsePolicy(text, 'policy.yaml');
        if (!r.ok) {
          expect(r.problems.length).toBeGreaterThan(0);
          for (const p of r.problems) expect(p.code).toMatch(/^[A-Z][A-Z0-9_]+$/);
          return;
        }
        const walk = (v: unknown): void => {
          if (typeof v === 'number') expect(Number.isFinite(v)).toBe(true);
          else if (v && typeof v === 'object') Object.values(v).forEach(walk);
        };
        walk(r.value);
        expect(r.value.bounds.floor).toBeLessThanOrEqual(r.value.bounds.ceiling);
      }),
      { numRuns: RUNS },
    );
  });
});
