// Fuzz target for the MQTT Wasm filter's CONNECT parser (wasm/mqtt-filter, run as the compiled
// probe module): mutated valid CONNECTs of every version (flipped, cut, inserted bytes, and
// overwritten length fields, which steer everything after them) and random bytes, whole or split
// anywhere. It never traps, refuses only with a known reason, never accepts more than the input
// or the limit holds, never copies past the first packet, and decides split reads as whole ones.
import fc from 'fast-check';
import { fuzzBytes } from './bytes';
import { connectPacket, otherPacket, publishPacket, utf8Field } from '../support/mqtt-packets';
import { FakeEnvoy } from '../unit/wasm/fake-envoy';
import { ConnectProbe, Verdict, type ParseResult } from '../support/wasm-probe';
import { RUNS } from './mutate';

const REASONS = [
  'not_mqtt',
  'bad_remaining_length',
  'too_large',
  'unsupported_protocol_version',
  'malformed',
  'protocol_error',
  'client_id_invalid',
  'truncated',
];
const b = (...x: number[]): Uint8Array => Uint8Array.from(x);

const SEEDS = [
  connectPacket({ level: 4, clientId: 'fuzz-1', username: 'user', password: b(1, 2, 3), keepAliveS: 30 }),
  connectPacket({ level: 4, clientId: '', cleanStart: true, will: { topic: 'a/b', payload: b(0xff), qos: 2, retain: true } }),
  connectPacket({ level: 3, clientId: 'legacy-client', username: 'u' }),
  connectPacket({
    level: 5,
    clientId: 'five',
    username: 'ü',
    properties: b(
      0x11,
      0,
      0,
      0,
      60,
      0x21,
      0,
      5,
      0x27,
      0,
      1,
      0,
      0,
      0x26,
      ...utf8Field('k'),
      ...utf8Field('v'),
      0x15,
      ...utf8Field('SCRAM'),
      0x16,
      0,
      1,
      9,
    ),
    will: { topic: 'lwt', payload: b(1), qos: 1, retain: false },
    willProperties: b(0x18, 0, 0, 0, 1, 0x01, 1, 0x03, ...utf8Field('text/plain'), 0x09, 0, 2, 1, 2),
  }),
];

// The remaining length at byte 1 steers everything after it.
const input = fuzzBytes(SEEDS, 1);

function decision(r: ParseResult): Omit<ParseResult, 'consumed'> {
  const { consumed: _consumed, ...rest } = r;
  return rest;
}

describe('fuzz: MQTT CONNECT (Wasm parser)', () => {
  const probe = new ConnectProbe();

  it('decides bounded, with known reasons, and the same however the read is split', () => {
    fc.assert(
      fc.property(input, fc.array(fc.nat(), { maxLength: 4 }), fc.integer({ min: 14, max: 512 }), (bytes, cuts, max) => {
        const limits = { maxConnectBytes: max, maxClientIdBytes: 32 };
        const whole = probe.parse(bytes, [], limits);
        expect(whole.verdict).not.toBe(Verdict.NeedMore);
        expect(whole.consumed).toBeLessThanOrEqual(Math.min(bytes.length, max));
        if (whole.verdict === Verdict.Refused) expect(REASONS).toContain(whole.reason);
        if (whole.info) {
          expect(whole.info.packetBytes).toBeLessThanOrEqual(Math.min(bytes.length, max));
          expect([3, 4, 5]).toContain(whole.info.protocolVersion);
          expect(Buffer.byteLength(whole.info.clientId)).toBeLessThanOrEqual(32);
        }
        const split = probe.parse(
          bytes,
          cuts.map((c) => (bytes.length ? c % bytes.length : 0)),
          limits,
        );
        expect(decision(split)).toEqual(decision(whole));
      }),
      { numRuns: RUNS },
    );
    // An abort (one of AssemblyScript's own checks failing) would have logged first.
    expect(probe.logs).toEqual([]);
  });
});

// After an accepted CONNECT, with PUBLISH inspection on: mutated packet streams (seeds of every
// packet type and version) and random bytes, in random reads. The filter module runs in the fake
// Envoy, which counts every read past the end of its buffer.
const STREAM_SEEDS = [4, 5].map((level) =>
  Buffer.concat([
    otherPacket(0xc0),
    publishPacket({ level: level as 4 | 5, topic: 'acme/a', payload: Uint8Array.from([1, 2, 3]) }),
    otherPacket(0x82, [0, 7, ...(level === 5 ? [0] : []), ...utf8Field('acme/#'), 1]),
    // A SUBSCRIBE of several filters; MQTT 5 with a Subscription Identifier and a User Property.
    otherPacket(0x82, [
      0,
      8,
      ...(level === 5 ? [10, 0x0b, 0x05, 0x26, ...utf8Field('k'), ...utf8Field('v')] : []),
      ...utf8Field('acme/x/+'),
      2,
      ...utf8Field('b2b/é/#'),
      0x11,
    ]),
    publishPacket({
      level: level as 4 | 5,
      topic: 'acme/b',
      payload: new Uint8Array(70),
      qos: 1,
      properties: level === 5 ? Uint8Array.from([0x23, 0, 2]) : undefined,
    }),
    otherPacket(0x62, [0, 1]),
    otherPacket(0xe0),
  ]),
);
const CLOSE_REASONS = ['payload_too_large', 'topic_not_allowed', 'malformed', 'protocol_error', 'subscription_not_allowed'];

describe('fuzz: MQTT packet framing after the CONNECT (Wasm filter)', () => {
  it('never traps, never reads past the buffer, closes only with a known reason, and decides split reads as whole ones', () => {
    const configs = [
      '{"inspectPublish": true, "maxPublishPayloadBytes": 64}',
      '{"inspectPublish": true, "maxPublishPayloadBytes": 64, "topicPrefix": "acme/"}',
      '{"inspectPublish": true, "topicPrefixes": "acme/,b2b/é/,acme/x/,a"}',
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(4, 5),
        fc.constantFrom(...configs),
        fuzzBytes(STREAM_SEEDS, 3),
        fc.array(fc.integer({ min: 1, max: 64 }), { maxLength: 8 }),
        (level, config, stream, cuts) => {
          const outcome = (reads: Buffer[]): { closed: boolean; counters: Array<[string, number]>; forwarded: number } => {
            const envoy = new FakeEnvoy();
            expect(envoy.configure(config)).toBe(true);
            const c = envoy.connect();
            envoy.data(c, connectPacket({ level: level, clientId: 'fuzz' }));
            const connected = envoy.forwarded(c).length;
            for (const r of reads) if (!envoy.closed(c)) envoy.data(c, r);
            expect(envoy.outOfBoundsReads).toBe(0);
            expect(envoy.logs.filter((l) => l.text.includes('abort'))).toEqual([]);
            const closes = [...envoy.counters].filter(([name, n]) => name.startsWith('mqtt_stream_closed_total') && n > 0);
            expect(closes.length).toBeLessThanOrEqual(1);
            for (const [name] of closes) expect(CLOSE_REASONS).toContain(name.split('.').pop());
            expect(closes.length === 1).toBe(envoy.closed(c));
            return { closed: envoy.closed(c), counters: closes, forwarded: envoy.forwarded(c).length - connected };
          };
          const whole = outcome([stream]);
          const reads: Buffer[] = [];
          let at = 0;
          for (const cut of cuts) {
            reads.push(stream.subarray(at, at + cut));
            at += cut;
          }
          reads.push(stream.subarray(at));
          const split = outcome(reads);
          expect(split.closed).toBe(whole.closed);
          expect(split.counters).toEqual(whole.counters);
          // Whole, a close forwards nothing of the read; split, only the reads before the one that decided.
          expect(whole.forwarded).toBe(whole.closed ? 0 : stream.length);
          // The read that decided a close holds at least the byte that decided it, and stays behind.
          expect(split.forwarded < stream.length).toBe(whole.closed);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

// SUBSCRIBE against a prefix list: random filters from pieces near the prefixes (wildcards,
// a multi-byte character, prefixes of prefixes), in random reads; the filter must close exactly
// when some filter does not start with an allowed prefix, byte for byte.
describe('fuzz: SUBSCRIBE topic filters against topicPrefixes (Wasm filter)', () => {
  const PREFIXES = ['acme/', 'b2b/é/', 'acme/x/', 'z'];
  const piece = fc.constantFrom('acme', 'acme/', '/', '+', '#', 'b2b/', 'é', 'e', 'x/', 'z', 'acme/x/', '$share/g/');
  const filter = fc.array(piece, { minLength: 1, maxLength: 5 }).map((p) => p.join(''));
  it('closes as subscription_not_allowed exactly when a filter starts with no allowed prefix, however the reads split', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(4, 5),
        fc.array(fc.array(filter, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 4 }),
        fc.array(fc.integer({ min: 1, max: 16 }), { maxLength: 12 }),
        (level, subscribes, cuts) => {
          const envoy = new FakeEnvoy();
          expect(envoy.configure(`{"inspectPublish": true, "topicPrefixes": "${PREFIXES.join(',')}"}`)).toBe(true);
          const c = envoy.connect();
          envoy.data(c, connectPacket({ level: level, clientId: 'fuzz' }));
          const stream = Buffer.concat(
            subscribes.map((filters) =>
              otherPacket(0x82, [0, 1, ...(level === 5 ? [0] : []), ...filters.flatMap((f) => [...utf8Field(f), 0])]),
            ),
          );
          let at = 0;
          for (const cut of [...cuts, stream.length]) {
            if (at >= stream.length || envoy.closed(c)) break;
            envoy.data(c, stream.subarray(at, at + cut));
            at += cut;
          }
          const allowed = subscribes
            .flat()
            .every((f) => PREFIXES.some((p) => Buffer.from(f).subarray(0, Buffer.byteLength(p)).equals(Buffer.from(p))));
          expect(envoy.closed(c)).toBe(!allowed);
          expect(envoy.counters.get('mqtt_stream_closed_total.reason.subscription_not_allowed') ?? 0).toBe(allowed ? 0 : 1);
          expect(envoy.outOfBoundsReads).toBe(0);
          expect(envoy.logs.filter((l) => l.text.includes('abort'))).toEqual([]);
        },
      ),
      { numRuns: RUNS },
    );
  });
});
