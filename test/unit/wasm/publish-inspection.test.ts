// PUBLISH inspection in the filter module (wasm/mqtt-filter/assembly/mqtt/framing.ts), driven
// through the fake Envoy: the framing after the CONNECT, split anywhere, the payload limit at and
// past its value, topic prefixes, malformed framing, and what the filter copies.
import fc from 'fast-check';
import { CONTINUE, FakeEnvoy, PAUSE } from './fake-envoy';
import { connectPacket, otherPacket, publishPacket, utf8Field } from '../../support/mqtt-packets';

const closedBy = (reason: string, tenant = ''): string => `mqtt_stream_closed_total${tenant ? `.tenant.${tenant}` : ''}.reason.${reason}`;
const INSPECTED = 'mqtt_publish_inspected_total';
const PINGREQ = otherPacket(0xc0);
const SUBSCRIBE = otherPacket(0x82, [0, 7, ...utf8Field('a/#'), 1]);
const PUBACK = otherPacket(0x40, [0, 7]);
const bytes = (n: number, fill = 0x61): Uint8Array => new Uint8Array(n).fill(fill);
const concat = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(Buffer.concat(parts));

/** A SUBSCRIBE (flags 0010) with these filters, each with options byte 1; MQTT 5 with `properties`. */
function subscribePacket(level: 3 | 4 | 5, filters: readonly string[], properties: readonly number[] = []): Uint8Array {
  const props = level === 5 ? [properties.length, ...properties] : [];
  return otherPacket(0x82, [0, 9, ...props, ...filters.flatMap((f) => [...utf8Field(f), 1])]);
}

/** A new connection whose CONNECT (at `level`) has passed the filter. */
function connected(envoy: FakeEnvoy, level: 3 | 4 | 5): number {
  const c = envoy.connect();
  expect(envoy.data(c, connectPacket({ level, clientId: `client-${level}` }))).toBe(CONTINUE);
  return c;
}

describe('PUBLISH inspection (fake host)', () => {
  let envoy: FakeEnvoy;
  beforeEach(() => {
    envoy = new FakeEnvoy();
  });
  afterEach(() => {
    expect(envoy.logs.filter((l) => l.text.includes('abort'))).toEqual([]);
    expect(envoy.outOfBoundsReads).toBe(0);
  });

  it('is off by default: any PUBLISH passes and nothing after the CONNECT is read', () => {
    expect(envoy.configure('{"maxPublishPayloadBytes": 10, "topicPrefix": "acme/"}')).toBe(true);
    const c = connected(envoy, 4);
    const copied = envoy.copiedDownstreamBytes;
    expect(envoy.data(c, publishPacket({ level: 4, topic: 'other/x', payload: bytes(5000) }))).toBe(CONTINUE);
    expect(envoy.data(c, otherPacket(0x00))).toBe(CONTINUE);
    expect(envoy.copiedDownstreamBytes).toBe(copied);
    expect(envoy.counter(INSPECTED)).toBe(0);
    expect(envoy.closed(c)).toBe(false);
  });

  it.each([3, 4, 5] as const)('MQTT level %i: a payload of exactly maxPublishPayloadBytes passes, one byte more closes', (level) => {
    envoy.configure('{"inspectPublish": true, "maxPublishPayloadBytes": 100}');
    for (const qos of [0, 1, 2] as const) {
      // MQTT 5 properties are variable header, not payload: a Message Expiry Interval here.
      const properties = level === 5 ? Uint8Array.from([0x02, 0, 0, 0, 9]) : undefined;
      const ok = connected(envoy, level);
      const atLimit = publishPacket({ level, topic: 't/1', payload: bytes(100), qos, properties });
      expect(envoy.data(ok, atLimit)).toBe(CONTINUE);
      expect(envoy.closed(ok)).toBe(false);
      const over = connected(envoy, level);
      expect(envoy.data(over, publishPacket({ level, topic: 't/1', payload: bytes(101), qos, properties }))).toBe(PAUSE);
      expect(envoy.closed(over)).toBe(true);
      expect(envoy.forwarded(over).length).toBe(connectPacket({ level, clientId: `client-${level}` }).length);
    }
    expect(envoy.counter(closedBy('payload_too_large'))).toBe(3);
    expect(envoy.counter(INSPECTED)).toBe(6);
  });

  it('names DISCONNECT 0x95 in the log line for every version, and sends nothing', () => {
    envoy.configure('{"inspectPublish": true, "maxPublishPayloadBytes": 10}');
    const c = connected(envoy, 4);
    envoy.data(c, publishPacket({ level: 4, topic: 'a', payload: bytes(11) }));
    expect(envoy.logs.map((l) => l.text)).toContain(
      'mqtt-filter: connection closed: reason=payload_too_large disconnect_reason=0x95 detail="PUBLISH payload of 11 bytes exceeds maxPublishPayloadBytes 10"',
    );
  });

  const goodStream = (level: 4 | 5): Uint8Array =>
    concat(
      PINGREQ,
      publishPacket({ level, topic: 'acme/a', payload: bytes(40) }),
      subscribePacket(level, ['acme/#', 'acme/x/+/y'], [0x0b, 0x05]),
      publishPacket({
        level,
        topic: 'acme/b/c',
        payload: bytes(64),
        qos: 1,
        properties: level === 5 ? Uint8Array.from([0x23, 0, 3]) : undefined,
      }),
      PUBACK,
      publishPacket({ level, topic: 'acme/', payload: bytes(0), qos: 2 }),
    );

  it.each([4, 5] as const)('MQTT level %i: follows the framing split at every byte offset, in two reads and in one-byte reads', (level) => {
    envoy.configure('{"inspectPublish": true, "maxPublishPayloadBytes": 64, "topicPrefix": "acme/"}');
    const stream = goodStream(level);
    for (let k = 0; k <= stream.length; k++) {
      const c = connected(envoy, level);
      expect(envoy.data(c, stream.subarray(0, k))).toBe(CONTINUE);
      expect(envoy.data(c, stream.subarray(k))).toBe(CONTINUE);
      expect(envoy.closed(c)).toBe(false);
      envoy.finish(c);
    }
    const c = connected(envoy, level);
    for (let i = 0; i < stream.length; i++) expect(envoy.data(c, stream.subarray(i, i + 1))).toBe(CONTINUE);
    expect(envoy.closed(c)).toBe(false);
    expect(envoy.counter(INSPECTED)).toBe(3 * (stream.length + 2));
  });

  it.each([4, 5] as const)(
    'MQTT level %i: closes at an oversize PUBLISH wherever the reads split, before a byte of its payload goes on',
    (level) => {
      envoy.configure('{"inspectPublish": true, "maxPublishPayloadBytes": 64}');
      const prefix = goodStream(level);
      const oversize = publishPacket({ level, topic: 'acme/big', payload: bytes(65, 0x7a), qos: 1 });
      const payloadStart = prefix.length + oversize.length - 65;
      const stream = concat(prefix, oversize, PINGREQ);
      for (let k = 0; k <= stream.length; k++) {
        const c = connected(envoy, level);
        const before = envoy.forwarded(c).length;
        envoy.data(c, stream.subarray(0, k));
        if (!envoy.closed(c)) envoy.data(c, stream.subarray(k));
        expect(envoy.closed(c)).toBe(true);
        expect(envoy.forwarded(c).length - before).toBeLessThanOrEqual(payloadStart);
        envoy.finish(c);
      }
      expect(envoy.counter(closedBy('payload_too_large'))).toBe(stream.length + 1);
    },
  );

  it('reads several packets in one read, a PUBLISH after a PINGREQ included, and counts each PUBLISH once', () => {
    envoy.configure('{"inspectPublish": true, "maxPublishPayloadBytes": 1000}');
    const c = envoy.connect();
    const publishes = Array.from({ length: 5 }, (_, i) => publishPacket({ level: 4, topic: `t/${i}`, payload: bytes(i * 100) }));
    expect(envoy.data(c, concat(connectPacket({ level: 4, clientId: 'pipelined' }), PINGREQ, ...publishes))).toBe(CONTINUE);
    expect(envoy.counter(INSPECTED)).toBe(5);
    expect(envoy.data(c, concat(PINGREQ, publishPacket({ level: 4, topic: 'x', payload: bytes(1001) })))).toBe(PAUSE);
    expect(envoy.closed(c)).toBe(true);
    expect(envoy.counter(INSPECTED)).toBe(6);
  });

  it('closes on a PUBLISH pipelined behind the CONNECT in the same read, forwarding none of it', () => {
    envoy.configure('{"inspectPublish": true, "maxPublishPayloadBytes": 10}');
    const c = envoy.connect();
    expect(
      envoy.data(c, concat(connectPacket({ level: 5, clientId: 'eager' }), publishPacket({ level: 5, topic: 'x', payload: bytes(11) }))),
    ).toBe(PAUSE);
    expect(envoy.closed(c)).toBe(true);
    expect(envoy.forwarded(c).length).toBe(0);
    expect(envoy.counter('mqtt_connect_total.protocol_version.5')).toBe(1);
  });

  it('passes a large payload over by count: the filter copies only header bytes', () => {
    envoy.configure('{"inspectPublish": true, "maxPublishPayloadBytes": 1000000, "topicPrefix": "acme/"}');
    const c = connected(envoy, 4);
    const copied = envoy.copiedDownstreamBytes;
    const big = publishPacket({ level: 4, topic: 'acme/bulk', payload: bytes(200_000) });
    for (let at = 0; at < big.length; at += 16_384) expect(envoy.data(c, big.subarray(at, at + 16_384))).toBe(CONTINUE);
    expect(envoy.closed(c)).toBe(false);
    expect(envoy.copiedDownstreamBytes - copied).toBeLessThanOrEqual(512);
  });

  it('enforces topicPrefix byte by byte: outside it, or shorter than it, closes as topic_not_allowed (0x87)', () => {
    envoy.configure('{"inspectPublish": true, "topicPrefix": "tenants/acme/"}');
    const ok = connected(envoy, 4);
    expect(envoy.data(ok, publishPacket({ level: 4, topic: 'tenants/acme/room/1', payload: bytes(3) }))).toBe(CONTINUE);
    expect(envoy.data(ok, publishPacket({ level: 4, topic: 'tenants/acme/', payload: bytes(3) }))).toBe(CONTINUE);
    for (const topic of ['tenants/acme', 'tenants/other/x', 'x', 'Tenants/acme/x']) {
      const c = connected(envoy, 4);
      expect(envoy.data(c, publishPacket({ level: 4, topic, payload: bytes(3) }))).toBe(PAUSE);
      expect(envoy.closed(c)).toBe(true);
    }
    expect(envoy.counter(closedBy('topic_not_allowed'))).toBe(4);
    expect(envoy.logs.map((l) => l.text)).toContain(
      'mqtt-filter: connection closed: reason=topic_not_allowed disconnect_reason=0x87 detail="PUBLISH topic does not start with an allowed topic prefix"',
    );
  });

  it('lets an MQTT 5 PUBLISH with an empty topic (a topic alias) pass: its alias was set by a checked topic', () => {
    envoy.configure('{"inspectPublish": true, "topicPrefix": "acme/"}');
    const c = connected(envoy, 5);
    const alias = Uint8Array.from([0x23, 0, 1]);
    expect(envoy.data(c, publishPacket({ level: 5, topic: 'acme/t', payload: bytes(2), properties: alias }))).toBe(CONTINUE);
    expect(envoy.data(c, publishPacket({ level: 5, topic: '', payload: bytes(2), properties: alias }))).toBe(CONTINUE);
    expect(envoy.closed(c)).toBe(false);
  });

  it.each([
    ['a remaining length over 4 bytes', Uint8Array.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]), 'malformed'],
    ['the reserved packet type 0', otherPacket(0x00), 'malformed'],
    ['SUBSCRIBE without its 0010 flags', otherPacket(0x80, [0, 1, ...utf8Field('a'), 0]), 'malformed'],
    ['PINGREQ with flags', otherPacket(0xc1), 'malformed'],
    ['a PUBLISH with QoS 3', otherPacket(0x36, [...utf8Field('a'), 0, 1]), 'malformed'],
    ['a PUBLISH topic length past the packet', otherPacket(0x30, [0, 9, 0x61]), 'malformed'],
    ['a QoS 1 PUBLISH cut before its packet id', otherPacket(0x32, [...utf8Field('ab')]), 'malformed'],
    ['a second CONNECT', connectPacket({ level: 4, clientId: 'again' }), 'protocol_error'],
    ['AUTH on MQTT 3.1.1', otherPacket(0xf0), 'malformed'],
  ])('closes on %s and counts it', (_what, packet, reason) => {
    // A prefix makes the filter read every PUBLISH's variable header.
    envoy.configure('{"inspectPublish": true, "topicPrefix": "a"}');
    const c = connected(envoy, 4);
    expect(envoy.data(c, concat(PINGREQ, packet))).toBe(PAUSE);
    expect(envoy.closed(c)).toBe(true);
    expect(envoy.counter(closedBy(reason))).toBe(1);
    expect(envoy.data(c, PINGREQ)).toBe(PAUSE);
  });

  it('labels every counter with the tenant its configuration names', () => {
    expect(envoy.configure('{"inspectPublish": true, "maxPublishPayloadBytes": 5, "tenant": "acme-1"}')).toBe(true);
    const c = connected(envoy, 4);
    envoy.data(c, publishPacket({ level: 4, topic: 'a', payload: bytes(6) }));
    expect(envoy.counter('mqtt_connect_total.tenant.acme-1.protocol_version.4')).toBe(1);
    expect(envoy.counter('mqtt_connections_total.tenant.acme-1')).toBe(1);
    expect(envoy.counter('mqtt_publish_inspected_total.tenant.acme-1')).toBe(1);
    expect(envoy.counter(closedBy('payload_too_large', 'acme-1'))).toBe(1);
    expect(envoy.counter('mqtt_connect_total.protocol_version.4')).toBeUndefined();
  });

  it.each([
    ['{"inspectPublish": "yes"}', '"inspectPublish" must be true or false'],
    ['{"maxPublishPayloadBytes": -1}', '"maxPublishPayloadBytes" must be an integer between 0 and 268435455'],
    ['{"maxPublishPayloadBytes": 1.5}', '"maxPublishPayloadBytes" must be an integer between 0 and 268435455'],
    ['{"topicPrefix": "a/#"}', '"topicPrefix" ("a/#") must not contain +, # or NUL'],
    ['{"topicPrefix": 3}', '"topicPrefix" must be a string'],
    ['{"tenant": "Acme"}', '"tenant" must be a lower-case DNS label (a-z, 0-9, -; at most 40)'],
    ['{"tenant": "a.b"}', '"tenant" must be a lower-case DNS label (a-z, 0-9, -; at most 40)'],
  ])('refuses the configuration %s with an error naming what is wrong', (json, error) => {
    expect(envoy.configure(json)).toBe(false);
    expect(envoy.logs.map((l) => l.text)).toContain(`mqtt-filter: ${error}`);
  });

  it('topicPrefixes: a PUBLISH topic may start with any entry; escaped commas and backslashes are part of an entry', () => {
    expect(envoy.configure(String.raw`{"inspectPublish": true, "topicPrefixes": "acme/,b2b/in,odd\\,name/,back\\\\slash/"}`)).toBe(true);
    expect(envoy.logs.map((l) => l.text).join('\n')).toContain(
      String.raw`topicPrefix="acme/" topicPrefix="b2b/in" topicPrefix="odd,name/" topicPrefix="back\\slash/"`,
    );
    const ok = connected(envoy, 4);
    for (const topic of ['acme/x', 'b2b/in', 'b2b/inbox/1', 'odd,name/1', String.raw`back\slash/z`])
      expect(envoy.data(ok, publishPacket({ level: 4, topic, payload: bytes(1) }))).toBe(CONTINUE);
    expect(envoy.closed(ok)).toBe(false);
    for (const topic of ['acme', 'b2b/i', 'odd', 'odd\\,name/', 'b2b/out']) {
      const c = connected(envoy, 4);
      expect(envoy.data(c, publishPacket({ level: 4, topic, payload: bytes(1) }))).toBe(PAUSE);
    }
    expect(envoy.counter(closedBy('topic_not_allowed'))).toBe(5);
  });

  it.each([3, 4, 5] as const)(
    'MQTT level %i: SUBSCRIBE filters must all start with an allowed prefix; a wildcard before its end closes as subscription_not_allowed (0x8F)',
    (level) => {
      envoy.configure('{"inspectPublish": true, "topicPrefixes": "acme/,b2b/"}');
      const ok = connected(envoy, level);
      for (const filters of [['acme/#'], ['acme/+/t', 'b2b/x'], ['acme/'], ['b2b/#', 'acme/a/#', 'acme/b']])
        expect(envoy.data(ok, subscribePacket(level, filters))).toBe(CONTINUE);
      expect(envoy.closed(ok)).toBe(false);
      for (const filters of [['#'], ['+/x'], ['acme/#', 'other/#'], ['acme'], ['acme+'], ['ac#'], ['$share/g/acme/x'], ['b2b/x', '+']]) {
        const c = connected(envoy, level);
        const before = envoy.forwarded(c).length;
        expect(envoy.data(c, concat(PINGREQ, subscribePacket(level, filters)))).toBe(PAUSE);
        expect(envoy.closed(c)).toBe(true);
        // None of the SUBSCRIBE went on (the read is held whole).
        expect(envoy.forwarded(c).length - before).toBeLessThanOrEqual(PINGREQ.length);
      }
      expect(envoy.counter(closedBy('subscription_not_allowed'))).toBe(8);
      expect(envoy.logs.map((l) => l.text)).toContain(
        'mqtt-filter: connection closed: reason=subscription_not_allowed disconnect_reason=0x8f detail="SUBSCRIBE topic filter does not start with an allowed topic prefix"',
      );
    },
  );

  it.each([4, 5] as const)('MQTT level %i: a SUBSCRIBE split at every byte offset is judged the same, holding nothing', (level) => {
    envoy.configure('{"inspectPublish": true, "topicPrefix": "tenants/acme/"}');
    const good = subscribePacket(level, ['tenants/acme/a/#', 'tenants/acme/' + 'x'.repeat(3000)], [0x0b, 0x81, 0x01]);
    const bad = subscribePacket(level, ['tenants/acme/a/#', 'tenants/acmf/' + 'x'.repeat(3000)], [0x0b, 0x81, 0x01]);
    const badAt = good.length - 3001 - 2; // the differing byte's index: 'f' of "acmf"
    for (let k = 0; k <= good.length; k += k < 80 ? 1 : 97) {
      const c = connected(envoy, level);
      const copied = envoy.copiedDownstreamBytes;
      envoy.data(c, good.subarray(0, k));
      envoy.data(c, good.subarray(k));
      expect(envoy.closed(c)).toBe(false);
      // Two reads: a 512-byte copy window, then at most a doubled one; never the 3,000-byte filter.
      expect(envoy.copiedDownstreamBytes - copied).toBeLessThanOrEqual(512 + 1024);
      envoy.finish(c);
      const d = connected(envoy, level);
      const start = envoy.forwarded(d).length;
      envoy.data(d, bad.subarray(0, k));
      if (!envoy.closed(d)) envoy.data(d, bad.subarray(k));
      expect(envoy.closed(d)).toBe(true);
      expect(envoy.forwarded(d).length - start).toBeLessThanOrEqual(badAt);
      envoy.finish(d);
    }
  });

  it.each([
    ['no topic filter', otherPacket(0x82, [0, 1])],
    ['an empty topic filter', otherPacket(0x82, [0, 1, 0, 0, 1])],
    ['a filter length past the packet', otherPacket(0x82, [0, 1, 0, 9, 0x61, 1])],
    ['a filter without its options byte', otherPacket(0x82, [0, 1, ...utf8Field('a/b')])],
  ])('closes a SUBSCRIBE with %s as malformed', (_what, packet) => {
    envoy.configure('{"inspectPublish": true, "topicPrefix": "a/"}');
    const c = connected(envoy, 4);
    expect(envoy.data(c, packet)).toBe(PAUSE);
    expect(envoy.counter(closedBy('malformed'))).toBe(1);
  });

  it('without a prefix, SUBSCRIBE is passed over by count', () => {
    envoy.configure('{"inspectPublish": true, "maxPublishPayloadBytes": 10}');
    const c = connected(envoy, 4);
    expect(envoy.data(c, subscribePacket(4, ['#', '+/x']))).toBe(CONTINUE);
    expect(envoy.closed(c)).toBe(false);
  });

  it.each([
    ['{"topicPrefixes": "a/,,b/"}', '"topicPrefixes" entry 2 is empty (an empty prefix would allow every topic)'],
    ['{"topicPrefixes": "a/,b/#"}', '"topicPrefixes" entry 2 ("b/#") must not contain +, # or NUL'],
    ['{"topicPrefixes": "a/,b+/"}', '"topicPrefixes" entry 2 ("b+/") must not contain +, # or NUL'],
    [String.raw`{"topicPrefixes": "a\\n/"}`, '"topicPrefixes" entry 1: a backslash must be followed by "," or "\\"'],
    [`{"topicPrefixes": "${Array.from({ length: 33 }, (_, i) => `p${i}/`).join(',')}"}`, '"topicPrefixes" must have at most 32 entries'],
    [`{"topicPrefixes": "a/,${'é'.repeat(513)}"}`, '"topicPrefixes" entry 2 must be at most 1024 bytes'],
    ['{"topicPrefix": "a/", "topicPrefixes": "b/"}', 'give "topicPrefix" or "topicPrefixes", not both'],
    ['{"topicPrefixes": 1}', '"topicPrefixes" must be a string'],
  ])('refuses topicPrefixes %s naming the entry', (json, error) => {
    expect(envoy.configure(json)).toBe(false);
    expect(envoy.logs.map((l) => l.text)).toContain(`mqtt-filter: ${error}`);
  });

  it('takes 32 prefixes of 1024 bytes each', () => {
    const list = Array.from({ length: 32 }, (_, i) => `${String(i).padStart(2, '0')}/${'x'.repeat(1021)}`);
    expect(envoy.configure(`{"inspectPublish": true, "topicPrefixes": "${list.join(',')}"}`)).toBe(true);
    const c = connected(envoy, 5);
    expect(envoy.data(c, subscribePacket(5, [`${list[31]}/#`, `${list[0]}`]))).toBe(CONTINUE);
    expect(envoy.data(c, subscribePacket(5, [`${list[7].slice(0, 1023)}#`]))).toBe(PAUSE);
    expect(envoy.counter(closedBy('subscription_not_allowed'))).toBe(1);
  });

  /** The oracle: where a stream of whole packets must close (index of the first PUBLISH over the limit), or -1. */
  const LIMIT = 50;
  const packetArb = fc.oneof(
    fc.record({ kind: fc.constant('publish' as const), size: fc.integer({ min: 0, max: 2 * LIMIT }), qos: fc.constantFrom(0, 1, 2) }),
    fc.record({ kind: fc.constantFrom('ping' as const, 'subscribe' as const, 'puback' as const) }),
  );

  it.each([4, 5] as const)(
    'MQTT level %i: random packet streams in random reads close exactly at the first PUBLISH over the limit, and never before its payload',
    (level) => {
      envoy.configure(`{"inspectPublish": true, "maxPublishPayloadBytes": ${LIMIT}}`);
      fc.assert(
        fc.property(fc.array(packetArb, { maxLength: 12 }), fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 30 }), (specs, cuts) => {
          const packets = specs.map((s) =>
            s.kind === 'publish'
              ? publishPacket({ level, topic: 'p', payload: bytes(s.size), qos: s.qos })
              : s.kind === 'ping'
                ? PINGREQ
                : s.kind === 'subscribe'
                  ? SUBSCRIBE
                  : PUBACK,
          );
          const stream = concat(...packets);
          const bad = specs.findIndex((s) => s.kind === 'publish' && s.size > LIMIT);
          const badPayloadAt =
            bad < 0 ? -1 : packets.slice(0, bad + 1).reduce((n, p) => n + p.length, 0) - (specs[bad] as { size: number }).size;
          const c = connected(envoy, level);
          const start = envoy.forwarded(c).length;
          const inspectedBefore = envoy.counter(INSPECTED) ?? 0;
          let at = 0;
          for (const cut of [...cuts, stream.length]) {
            if (at >= stream.length || envoy.closed(c)) break;
            envoy.data(c, stream.subarray(at, at + cut));
            at += cut;
          }
          expect(envoy.closed(c)).toBe(bad >= 0);
          const forwarded = envoy.forwarded(c).length - start;
          if (bad >= 0) expect(forwarded).toBeLessThanOrEqual(badPayloadAt);
          else expect(forwarded).toBe(stream.length);
          const publishes = specs.slice(0, bad < 0 ? specs.length : bad + 1).filter((s) => s.kind === 'publish').length;
          expect((envoy.counter(INSPECTED) ?? 0) - inspectedBefore).toBe(publishes);
          envoy.finish(c);
        }),
        { numRuns: 200 },
      );
    },
  );
});
