import fc from 'fast-check';
import {
  decodeProxyHeader,
  PROXY_ERROR_CODES,
  ProxyHeaderReader,
  type ProxyDecodeOptions,
  type ProxyHeader,
  type ProxyReadStep,
} from '../../tools/testbroker/proxy-protocol';
import { sslTlv, tlv, v1Header, v2Header } from '../../support/proxy-header';

const REQUIRED: ProxyDecodeOptions = { maxHeaderBytes: 4096, optional: false };
const OPTIONAL: ProxyDecodeOptions = { maxHeaderBytes: 4096, optional: true };
// An MQTT 3.1.1 CONNECT of client "c1", keep-alive 60: what follows a header on the wire.
const CONNECT = Buffer.from('100e00044d5154540402003c00026331', 'hex');

const ENVOY_LIKE = v2Header({
  source: { address: '2001:db8::10', port: 50123 },
  destination: { address: '2001:db8::1', port: 1883 },
  tlvs: [
    tlv(0x01, 'mqtt'),
    tlv(0x02, 'broker.example'),
    sslTlv(0x03, 0, [tlv(0x21, 'TLSv1.3'), tlv(0x22, 'device-7')]),
    tlv(0x05, Buffer.from('0123456789abcdef', 'hex')),
    tlv(0xe0, 'pod=sensor-7'),
  ],
  crc: true,
});

/** Pushes `chunks` into a reader; the decided step and every byte the payload got (rest, then later chunks). */
function feed(chunks: readonly Buffer[], options = REQUIRED): { step: ProxyReadStep; payload: Buffer } {
  const reader = new ProxyHeaderReader(options);
  let step: ProxyReadStep = { kind: 'more' };
  const payload: Buffer[] = [];
  for (const chunk of chunks) {
    if (step.kind === 'more') {
      step = reader.push(chunk);
      if (step.kind === 'header' || step.kind === 'absent') payload.push(step.rest);
    } else payload.push(chunk);
  }
  return { step, payload: Buffer.concat(payload) };
}

function splitAt(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [0, ...cuts, bytes.length];
  return points.slice(1).map((end, i) => bytes.subarray(points[i], end));
}

describe('PROXY header detection', () => {
  it('refuses a connection that starts with MQTT when a header is required', () => {
    expect(decodeProxyHeader(CONNECT, REQUIRED)).toMatchObject({ kind: 'error', error: { code: 'PROXY_BAD_SIGNATURE' } });
  });

  it('says absent for one that starts with MQTT when the header is optional', () => {
    expect(decodeProxyHeader(CONNECT, OPTIONAL)).toEqual({ kind: 'absent' });
  });

  it('refuses a signature that goes wrong part way when required; optional takes it as payload', () => {
    expect(decodeProxyHeader(Buffer.from('0d0a0d0a000d0a5155495420', 'hex'), REQUIRED)).toMatchObject({
      error: { code: 'PROXY_BAD_SIGNATURE' },
    });
    expect(decodeProxyHeader(Buffer.from('PROXX '), OPTIONAL)).toEqual({ kind: 'absent' });
  });

  it('waits while the bytes so far could still be either signature', () => {
    expect(decodeProxyHeader(Buffer.alloc(0), REQUIRED)).toEqual({ kind: 'incomplete', needBytes: 1 });
    expect(decodeProxyHeader(Buffer.from('0d0a0d', 'hex'), OPTIONAL)).toEqual({ kind: 'incomplete', needBytes: 4 });
    expect(decodeProxyHeader(Buffer.from('PROX'), REQUIRED)).toEqual({ kind: 'incomplete', needBytes: 5 });
  });

  it('decodes a v1 line or a v2 header by their signatures alone', () => {
    const v1 = decodeProxyHeader(v1Header('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n'), OPTIONAL);
    const v2 = decodeProxyHeader(ENVOY_LIKE, OPTIONAL);
    expect(v1.kind === 'header' && v1.header.version).toBe(1);
    expect(v2.kind === 'header' && v2.header.version).toBe(2);
  });
});

describe('ProxyHeaderReader', () => {
  const whole = Buffer.concat([ENVOY_LIKE, CONNECT]);
  const expected = (decodeProxyHeader(ENVOY_LIKE, REQUIRED) as { header: ProxyHeader }).header;

  it('gives the header and the untouched payload from one chunk', () => {
    expect(feed([whole])).toEqual({ step: { kind: 'header', header: expected, rest: CONNECT }, payload: CONNECT });
    expect(expected.tlvs).toMatchObject({ alpn: 'mqtt', authority: 'broker.example', ssl: { cn: 'device-7' } });
    expect(expected.tlvs.custom).toEqual([expect.objectContaining({ type: 0xe0, utf8: 'pod=sensor-7' })]);
  });

  it('gives the same header and payload for a read split at every byte offset', () => {
    for (let cut = 1; cut < whole.length; cut++) {
      const { step, payload } = feed(splitAt(whole, [cut]));
      expect({ cut, kind: step.kind, header: step.kind === 'header' && step.header }).toEqual({ cut, kind: 'header', header: expected });
      expect(payload.equals(CONNECT)).toBe(true);
    }
  });

  it('gives the same header and payload one byte at a time', () => {
    const bytes = Array.from(whole, (b) => Buffer.from([b]));
    const { step, payload } = feed(bytes);
    expect(step.kind === 'header' && step.header).toEqual(expected);
    expect(payload.equals(CONNECT)).toBe(true);
  });

  it('splits a v1 line and its payload anywhere too', () => {
    const line = v1Header('PROXY TCP6 2001:db8::1 ::1 40000 1883\r\n');
    const v1whole = Buffer.concat([line, CONNECT]);
    for (let cut = 1; cut < v1whole.length; cut++) {
      const { step, payload } = feed(splitAt(v1whole, [cut]));
      expect(step.kind === 'header' && step.header.source).toEqual({ address: '2001:db8::1', port: 40000 });
      expect(payload.equals(CONNECT)).toBe(true);
    }
  });

  it('gives every byte back when the optional header is absent, however the reads are split', () => {
    for (let cut = 1; cut < CONNECT.length; cut++) {
      const { step, payload } = feed(splitAt(CONNECT, [cut]), OPTIONAL);
      expect(step.kind).toBe('absent');
      expect(payload.equals(CONNECT)).toBe(true);
    }
  });

  it('gives a payload that starts in the same byte as the optional header would have', () => {
    // 0x50 is "P": plain MQTT never starts so, but a broken sender might.
    const { step, payload } = feed([Buffer.from('PR'), Buffer.from('OXX rest')], OPTIONAL);
    expect(step.kind).toBe('absent');
    expect(payload.toString()).toBe('PROXX rest');
  });

  it('refuses an oversize header after its 16th byte, without buffering the rest', () => {
    const big = v2Header({ tlvs: [tlv(0x04, Buffer.alloc(10_000))] });
    const reader = new ProxyHeaderReader(REQUIRED);
    const steps = Array.from(big.subarray(0, 16), (b) => reader.push(Buffer.from([b])));
    expect(steps.slice(0, 15).every((s) => s.kind === 'more')).toBe(true);
    expect(steps[15]).toMatchObject({ kind: 'error', error: { code: 'PROXY_TOO_LARGE' } });
  });

  it('names the deadline and a connection that ended mid-header with their own codes', () => {
    const reader = new ProxyHeaderReader(REQUIRED);
    reader.push(ENVOY_LIKE.subarray(0, 20));
    expect(reader.expire(3000)).toEqual({
      code: 'PROXY_TIMEOUT',
      message: 'no complete PROXY protocol header within 3000 ms (20 bytes received); a sender must send the whole header at once, first',
    });
    expect(reader.end()).toEqual({
      code: 'PROXY_INCOMPLETE',
      message: 'the connection ended after 20 bytes, before its PROXY protocol header was complete',
    });
  });

  it('turns garbage into a decision or a coded error, never an exception', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }),
          // Garbage after a valid start reaches the deeper parsers.
          fc.uint8Array({ maxLength: 300 }).map((tail) => Buffer.concat([ENVOY_LIKE.subarray(0, 16), tail])),
          fc.uint8Array({ maxLength: 120 }).map((tail) => Buffer.concat([Buffer.from('PROXY '), tail])),
        ),
        fc.boolean(),
        (bytes, optional) => {
          const { step } = feed([Buffer.from(bytes)], { maxHeaderBytes: 4096, optional });
          if (step.kind === 'error') expect(PROXY_ERROR_CODES).toContain(step.error.code);
          else expect(['more', 'header', 'absent']).toContain(step.kind);
        },
      ),
      { numRuns: 300 },
    );
  });
});
