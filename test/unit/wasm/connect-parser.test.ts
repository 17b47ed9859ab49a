// The MQTT CONNECT parser as compiled to Wasm (the probe module), in Node's WebAssembly.
import fc from 'fast-check';
import { ConnectProbe, Verdict, type ParseResult } from '../../support/wasm-probe';
import { connectPacket, utf8Field, varint, type ConnectFields } from '../../support/mqtt-packets';

const probe = new ConnectProbe();
const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);

describe('MQTT CONNECT parser (Wasm)', () => {
  // An abort (a bug caught by one of AssemblyScript's own checks) logs before it traps.
  afterEach(() => expect(probe.logs).toEqual([]));

  it('reads every field of an MQTT 3.1.1 CONNECT', () => {
    const packet = connectPacket({
      level: 4,
      clientId: 'sensor-17',
      cleanStart: false,
      keepAliveS: 30,
      username: 'alice',
      password: bytes(1, 2, 3),
      will: { topic: 'status/sensor-17', payload: bytes(0x6f, 0x66, 0x66), qos: 1, retain: true },
    });
    const r = probe.parse(packet);
    expect(r.verdict).toBe(Verdict.Accepted);
    expect(r.info).toEqual({
      protocolVersion: 4,
      clientId: 'sensor-17',
      hasUsername: true,
      username: 'alice',
      hasPassword: true,
      cleanStart: false,
      keepAliveS: 30,
      willFlag: true,
      willQos: 1,
      willRetain: true,
      sessionExpiryS: 0,
      packetBytes: packet.length,
    });
  });

  it('reads MQTT 3.1 (MQIsdp) and MQTT 5 with properties, will properties and a password without username', () => {
    expect(probe.parse(connectPacket({ level: 3, clientId: 'old' })).info?.protocolVersion).toBe(3);
    const v5 = connectPacket({
      level: 5,
      clientId: 'v5',
      password: bytes(9),
      // Session Expiry 3600, Receive Maximum 10, a User Property.
      properties: bytes(0x11, 0, 0, 0x0e, 0x10, 0x21, 0, 10, 0x26, ...utf8Field('k'), ...utf8Field('v')),
      will: { topic: 't', payload: bytes(), qos: 0, retain: false },
      willProperties: bytes(0x18, 0, 0, 0, 5, 0x01, 1),
    });
    const r = probe.parse(v5);
    expect(r.verdict).toBe(Verdict.Accepted);
    expect(r.info).toMatchObject({ protocolVersion: 5, clientId: 'v5', hasUsername: false, hasPassword: true, sessionExpiryS: 3600 });
  });

  it('accepts an empty client id where the server may assign one (MQTT 5; 3.1.1 with clean session)', () => {
    expect(probe.parse(connectPacket({ level: 5, clientId: '', cleanStart: false })).info?.clientId).toBe('');
    expect(probe.parse(connectPacket({ level: 4, clientId: '', cleanStart: true })).verdict).toBe(Verdict.Accepted);
  });

  it.each([
    ['an HTTP request', Buffer.from('GET / HTTP/1.1\r\n'), 'not_mqtt', 1],
    ['a TLS ClientHello', bytes(0x16, 0x03, 0x01, 0x02, 0x00), 'not_mqtt', 1],
    ['a PUBLISH first', bytes(0x30, 0x05, 0, 1, 0x61, 0x62, 0x63), 'not_mqtt', 1],
    ['CONNECT with header flags', bytes(0x12, 0x0c), 'not_mqtt', 1],
    ['a 5-byte remaining length', bytes(0x10, 0xff, 0xff, 0xff, 0xff, 0x01), 'bad_remaining_length', 5],
    // The name is checked as it arrives, but the copy is per read: all 12 body bytes were taken.
    ['a wrong protocol name', bytes(0x10, 0x0c, 0, 4, 0x4d, 0x51, 0x54, 0x58), 'not_mqtt', 14],
  ])('refuses %s as soon as the bytes show it, copying no more than the first packet', (_what, input, reason, consumed) => {
    // Fed with more bytes than the refusal needed.
    probe.reset();
    expect(probe.feed(Uint8Array.from([...input, ...new Uint8Array(16)]))).toBe(Verdict.Refused);
    expect(probe.result()).toMatchObject({ reason, consumed, connackV5: reason === 'not_mqtt' ? 0 : 0x81 });
  });

  it('refuses a CONNECT over maxConnectBytes from its fixed header alone, before buffering it', () => {
    probe.reset(1024);
    expect(probe.feed(bytes(0x10, ...varint(5000)))).toBe(Verdict.Refused);
    expect(probe.result()).toMatchObject({
      reason: 'too_large',
      consumed: 3,
      detail: 'CONNECT of 5003 bytes exceeds maxConnectBytes 1024',
    });
  });

  it('wants no more than the rest of the first packet, and ignores what follows it', () => {
    const packet = connectPacket({ level: 4, clientId: 'a' });
    probe.reset();
    expect(probe.feed(packet.subarray(0, 2))).toBe(Verdict.NeedMore);
    expect(probe.wanted()).toBe(packet.length - 2);
    const pingreq = [0xc0, 0x00];
    expect(probe.feed(Uint8Array.from([...packet.subarray(2), ...pingreq]))).toBe(Verdict.Accepted);
    expect(probe.result().consumed).toBe(packet.length);
  });

  it.each<[string, ConnectFields | Uint8Array, string, number]>([
    ['MQTT 6', patch(connectPacket({ level: 5, clientId: 'x' }), 8, 6), 'unsupported_protocol_version', 0x84],
    ['level 3 under the name MQTT', patch(connectPacket({ level: 4, clientId: 'x' }), 8, 3), 'unsupported_protocol_version', 0x84],
    ['the reserved flag', patch(connectPacket({ level: 5, clientId: 'x' }), 9, 0x03), 'malformed', 0x81],
    ['will QoS without will', patch(connectPacket({ level: 5, clientId: 'x' }), 9, 0x0a), 'malformed', 0x81],
    ['a duplicate property', { level: 5, clientId: 'x', properties: bytes(0x11, 0, 0, 0, 1, 0x11, 0, 0, 0, 2) }, 'protocol_error', 0x82],
    ['Receive Maximum 0', { level: 5, clientId: 'x', properties: bytes(0x21, 0, 0) }, 'protocol_error', 0x82],
    ['a PUBLISH property in CONNECT', { level: 5, clientId: 'x', properties: bytes(0x23, 0, 1) }, 'malformed', 0x81],
    ['a client id of invalid UTF-8', { level: 5, clientId: '\u0000' }, 'malformed', 0x81],
    ['a client id over maxClientIdBytes', { level: 5, clientId: 'x'.repeat(257) }, 'client_id_invalid', 0x85],
    ['an empty id without clean session in 3.1.1', { level: 4, clientId: '', cleanStart: false }, 'client_id_invalid', 0x85],
    ['an empty id in 3.1', { level: 3, clientId: '' }, 'client_id_invalid', 0x85],
    ['a 3.1.1 password without username', { level: 4, clientId: 'x', password: bytes(1) }, 'malformed', 0x81],
    ['an empty will topic', { level: 4, clientId: 'x', will: { topic: '', payload: bytes(), qos: 0, retain: false } }, 'malformed', 0x81],
  ])('refuses %s, with the MQTT 5 CONNACK reason code that applies', (_what, input, reason, connack) => {
    const packet = input instanceof Uint8Array ? input : connectPacket(input);
    expect(probe.parse(packet)).toMatchObject({ verdict: Verdict.Refused, reason, connackV5: connack });
  });

  it('refuses bytes left over inside the CONNECT and a CONNECT cut short by the peer', () => {
    const packet = connectPacket({ level: 4, clientId: 'abc' });
    const padded = Uint8Array.from([0x10, packet[1] + 1, ...packet.subarray(2), 0]);
    expect(probe.parse(padded)).toMatchObject({ reason: 'malformed', detail: '1 bytes after the CONNECT payload' });
    expect(probe.parse(packet.subarray(0, 10))).toMatchObject({
      reason: 'truncated',
      detail: 'connection closed after 10 bytes of the first packet',
    });
  });

  it('never traps on random bytes, and decides split reads as it decides whole ones', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.array(fc.nat(300), { maxLength: 8 }),
        fc.integer({ min: 14, max: 400 }),
        (input, cuts, max) => {
          const whole = decision(probe.parse(input, [], { maxConnectBytes: max }));
          expect(decision(probe.parse(input, cuts, { maxConnectBytes: max }))).toEqual(whole);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('accepts every valid CONNECT it is given, in any split, with the fields it was built from', () => {
    const text = fc.string({ unit: 'grapheme', maxLength: 20 });
    const fields = fc.record({
      level: fc.constantFrom(3 as const, 4 as const, 5 as const),
      clientId: text.filter((s) => s.length > 0 && Buffer.byteLength(s) <= 256),
      cleanStart: fc.boolean(),
      keepAliveS: fc.nat(65535),
      username: fc.option(text, { nil: undefined }),
      will: fc.option(
        fc.record({
          topic: text.filter((s) => s.length > 0),
          payload: fc.uint8Array({ maxLength: 40 }),
          qos: fc.constantFrom(0 as const, 1 as const, 2 as const),
          retain: fc.boolean(),
        }),
        {
          nil: undefined,
        },
      ),
    });
    fc.assert(
      fc.property(fields, fc.array(fc.nat(200), { maxLength: 6 }), (f, cuts) => {
        const packet = connectPacket(f);
        const r = probe.parse(packet, cuts);
        expect(r.verdict).toBe(Verdict.Accepted);
        expect(r.info).toMatchObject({
          protocolVersion: f.level,
          clientId: f.clientId,
          cleanStart: f.cleanStart,
          keepAliveS: f.keepAliveS,
          hasUsername: f.username !== undefined,
          username: f.username ?? '',
          willFlag: f.will !== undefined,
          willQos: f.will?.qos ?? 0,
          packetBytes: packet.length,
        });
      }),
      { numRuns: 300 },
    );
  });

  it('never traps on mutated valid CONNECTs, and decides their split reads as whole ones', () => {
    const base = fc.constantFrom(
      connectPacket({ level: 4, clientId: 'client-1', username: 'u', password: bytes(1, 2) }),
      connectPacket({
        level: 5,
        clientId: 'c5',
        properties: bytes(0x11, 0, 0, 0, 9, 0x15, ...utf8Field('SCRAM')),
        will: { topic: 'w', payload: bytes(7), qos: 2, retain: false },
      }),
      connectPacket({ level: 3, clientId: 'legacy', will: { topic: 'lw', payload: bytes(), qos: 1, retain: true } }),
    );
    const mutation = fc.array(fc.tuple(fc.nat(80), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'insert', 'delete')), {
      minLength: 1,
      maxLength: 4,
    });
    fc.assert(
      fc.property(base, mutation, fc.array(fc.nat(80), { maxLength: 6 }), (packet, edits, cuts) => {
        const input = mutate(packet, edits);
        expect(decision(probe.parse(input, cuts))).toEqual(decision(probe.parse(input)));
      }),
      { numRuns: 1000 },
    );
  });
});

/** What was decided, without how many bytes were copied to decide it (that depends on the reads). */
function decision(r: ParseResult): Omit<ParseResult, 'consumed'> {
  const { consumed: _consumed, ...rest } = r;
  return rest;
}

/** The packet with byte `at` replaced by `value`. */
function patch(packet: Uint8Array, at: number, value: number): Uint8Array {
  const copy = Uint8Array.from(packet);
  copy[at] = value;
  return copy;
}

function mutate(packet: Uint8Array, edits: ReadonlyArray<readonly [number, number, string]>): Uint8Array {
  const out = [...packet];
  for (const [at, value, kind] of edits) {
    const i = at % (out.length + 1);
    if (kind === 'set' && i < out.length) out[i] = value;
    else if (kind === 'insert') out.splice(i, 0, value);
    else if (kind === 'delete' && i < out.length) out.splice(i, 1);
  }
  return Uint8Array.from(out);
}
