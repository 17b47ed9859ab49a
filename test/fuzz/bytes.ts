// Inputs for the byte-parser fuzz targets: a valid seed mutated a few times (a byte
// flipped, the tail cut, bytes inserted, a 16-bit length overwritten), or random bytes.
// Each target says where its most telling length field sits.
import fc from 'fast-check';

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('length' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 0xffff }) }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

/** `seed` with `mutations` applied; a third of the length overwrites hit `lengthAt`, the rest anywhere. */
export function mutate(seed: Uint8Array, mutations: readonly Mutation[], lengthAt: number): Buffer {
  let bytes = Buffer.from(seed);
  for (const m of mutations) {
    const at = bytes.length ? m.at % bytes.length : 0;
    if (m.kind === 'flip' && bytes.length) bytes[at] = m.byte;
    else if (m.kind === 'cut') bytes = bytes.subarray(0, at);
    else if (m.kind === 'insert') bytes = Buffer.concat([bytes.subarray(0, at), m.bytes, bytes.subarray(at)]);
    else if (m.kind === 'length') {
      const offset = m.at % 3 === 0 ? lengthAt : at;
      if (offset + 2 <= bytes.length) bytes.writeUInt16BE(m.value, offset);
    }
  }
  return bytes;
}

/** Four in five: a seed with up to four mutations; one in five: up to 400 random bytes. */
export function fuzzBytes(seeds: readonly Uint8Array[], lengthAt: number): fc.Arbitrary<Buffer> {
  return fc.oneof(
    {
      weight: 4,
      arbitrary: fc.tuple(fc.constantFrom(...seeds), fc.array(mutation, { maxLength: 4 })).map(([s, m]) => mutate(s, m, lengthAt)),
    },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 400 }).map((x) => Buffer.from(x)) },
  );
}
