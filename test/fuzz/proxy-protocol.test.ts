// Fuzz target for the test broker's PROXY protocol decoder: mutated valid headers (flipped,
// cut, inserted bytes, overwritten lengths) and random bytes, in one read or split in two.
// It never throws, refuses only with a known code, never accepts a header longer than the
// input or the limit, and a split read decides exactly as the whole read does.
import fc from 'fast-check';
import { fuzzBytes } from './bytes';
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

// v2's length at byte 14 steers everything after it (a TLV's length follows its type).
const input = fuzzBytes(SEEDS, 14);

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
