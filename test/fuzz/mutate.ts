// Shared by the fuzz targets: the committed seed corpus, and byte-level mutations of it
// (cuts, splices, flips, repeated and inserted tokens), so random inputs stay close to
// what a real file or page looks like.
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';

export function corpus(target: string): string[] {
  const dir = path.join(__dirname, 'corpus', target);
  return fs
    .readdirSync(dir)
    .sort()
    .map((f) => fs.readFileSync(path.join(dir, f), 'utf8'));
}

const TOKENS = [
  '\n',
  ':',
  ' ',
  '-',
  '{',
  '}',
  '[',
  ']',
  '"',
  "'",
  '#',
  '&a',
  '*a',
  '!!binary',
  '1e308',
  '-0',
  'NaN',
  '+Inf',
  '\u0000',
  '\ufeff',
  '9'.repeat(40),
  'é',
  '\t',
  '<<: *a',
];

/** Extreme and ordinary numbers, as a page or file could spell them. */
const NUMBER = fc.oneof(
  fc.constantFrom('1.7976931348623157e308', '1e307', '-1', '-0', 'NaN', '+Inf', '-Inf', '4.9e-324', '0', '1e-320', '9007199254740993'),
  fc.double().map(String),
  fc.integer().map(String),
);

/** Replaces the n-th number in the text (modulo how many there are). */
function replaceNumber(s: string, n: number, value: string): string {
  const spans = [...s.matchAll(/-?\d+(\.\d+)?([eE][-+]?\d+)?/g)];
  if (spans.length === 0) return s;
  const m = spans[n % spans.length];
  const at = m.index ?? 0;
  return s.slice(0, at) + value + s.slice(at + m[0].length);
}

/** A seed from the corpus, mutated a few times. */
export function mutated(target: string): fc.Arbitrary<string> {
  const seeds = corpus(target);
  const mutation = fc.oneof(
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }) },
    {
      weight: 1,
      arbitrary: fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), char: fc.string({ minLength: 1, maxLength: 1 }) }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), token: fc.constantFrom(...TOKENS) }) },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('repeat' as const),
        at: fc.nat(),
        length: fc.integer({ min: 1, max: 40 }),
        times: fc.integer({ min: 2, max: 30 }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 20 }) }) },
    // Numbers matter most to the parsers' consumers (weights, ports, limits): mutated more often.
    { weight: 5, arbitrary: fc.record({ kind: fc.constant('number' as const), at: fc.nat(), value: NUMBER }) },
  );
  return fc.tuple(fc.constantFrom(...seeds), fc.array(mutation, { minLength: 0, maxLength: 6 })).map(([seed, ms]) => {
    let s = seed;
    for (const m of ms) {
      const at = s.length === 0 ? 0 : m.at % (s.length + 1);
      if (m.kind === 'cut') s = s.slice(0, at);
      else if (m.kind === 'flip') s = s.slice(0, at) + m.char + s.slice(at + 1);
      else if (m.kind === 'insert') s = s.slice(0, at) + m.token + s.slice(at);
      else if (m.kind === 'repeat') s = s.slice(0, at) + s.slice(at, at + m.length).repeat(m.times) + s.slice(at + m.length);
      else if (m.kind === 'number') s = replaceNumber(s, m.at, m.value);
      else s = s.slice(0, at) + s.slice(at + m.length);
    }
    return s;
  });
}

/** Mutated seeds and, one time in five, arbitrary text. */
export function inputs(target: string): fc.Arbitrary<string> {
  return fc.oneof({ weight: 4, arbitrary: mutated(target) }, { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 400 }) });
}

/** Runs per target: bounded, so CI stays fast; FUZZ_RUNS raises it for a longer local hunt. */
export const RUNS = Number(process.env.FUZZ_RUNS ?? 400);
