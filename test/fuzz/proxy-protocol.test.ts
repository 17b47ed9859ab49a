// Fuzz target for the test broker's PROXY protocol decoder: mutated valid headers (flipped,
// cut, inserted bytes, overwritten lengths) and random bytes, in one read or split in two.
// It never throws, refuses only with a known code, never accepts a header longer than the
// input or the limit, and a split read decides exactly as the whole read does.
import fc from 'fast-check';
import { decodeProxyHeader, PROXY_ERROR_CODES, ProxyHeaderReader, type ProxyReadStep } from '../tools/testbroker/proxy-protocol';
import { sslTlv, tlv, v1Header, v2Header } from '../support/proxy-header';
import { RUNS } from './mutate';

const SEEDS = [
  v2Header({
    source: { address: '192.0.2.1', port: 1 },
    destination: { address: '192.0.2.2', port: 1883 },
    tlvs: [tlv(0x02, 'a.example'), tlv(0xe0, 'x'), sslTlv(1, 0, [tlv(0x21, 'TLSv1.3'), tlv(0x22, 'cn')])],
    crc: true,
  }),
  v2Header({ source: { address: '2001:db8::1', port: 2 }, destination: { address: '::1', port: 1883 }, tlvs: [tlv(0x05, 'id')] }),
  v2Header({ command: 'local' }),
  v1Header('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n'),
  v1Header('PROXY TCP6 2001:db8::1 ::1 1 2\r\n'),
  v1Header('PROXY UNKNOWN\r\n'),
];

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  // The length fields steer everything after them: v2's at byte 14, a TLV's after its type.
  fc.record({ kind: fc.constant('length' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 0xffff }) }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(seed: Buffer, mutations: readonly Mutation[]): Buffer {
  let bytes = Buffer.from(seed);
  for (const m of mutations) {
    const at = bytes.length ? m.at % bytes.length : 0;
    if (m.kind === 'flip' && bytes.length) bytes[at] = m.byte;
    else if (m.kind === 'cut') bytes = bytes.subarray(0, at);
    else if (m.kind === 'insert') bytes = Buffer.concat([bytes.subarray(0, at), m.bytes, bytes.subarray(at)]);
    else if (m.kind === 'length') {
      const offset = m.at % 3 === 0 ? 14 : at;
      if (offset + 2 <= bytes.length) bytes.writeUInt16BE(m.value, offset);
    }
  }
  return bytes;
}

const input = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(fc.constantFrom(...SEEDS), fc.array(mutation, { maxLength: 4 })).map(([s, m]) => mutate(s, m)) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b)) },
);

/** The decided step of `chunks`, compared by what it means (the rest as bytes). */
function decide(chunks: readonly Buffer[], optional: boolean): unknown {
  const reader = new ProxyHeaderReader({ maxHeaderBytes: 512, optional });
  let step: ProxyReadStep = { kind: 'more' };
  const after: Buffer[] = [];
  for (const chunk of chunks) {
    if (step.kind === 'more') step = reader.push(chunk);
    else after.push(chunk);
  }
  if (step.kind === 'header' || step.kind === 'absent') return { ...step, rest: Buffer.concat([step.rest, ...after]).toString('hex') };
  return step;
}

describe('fuzz: PROXY protocol headers', () => {
  it('decides coded, bounded and the same however the read is split', () => {
    fc.assert(
      fc.property(input, fc.boolean(), fc.nat(), (bytes, optional, cut) => {
        const result = decodeProxyHeader(bytes, { maxHeaderBytes: 512, optional });
        if (result.kind === 'error') expect(PROXY_ERROR_CODES).toContain(result.error.code);
        if (result.kind === 'header') {
          expect(result.header.headerBytes).toBeLessThanOrEqual(Math.min(bytes.length, 512));
          expect(JSON.parse(JSON.stringify(result.header))).toEqual(result.header);
        }
        if (result.kind === 'incomplete') expect(result.needBytes).toBeGreaterThan(bytes.length);
        const at = bytes.length ? cut % bytes.length : 0;
        expect(decide([bytes.subarray(0, at), bytes.subarray(at)], optional)).toEqual(decide([bytes], optional));
      }),
      { numRuns: RUNS },
    );
  });
});
