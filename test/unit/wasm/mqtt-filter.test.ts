// The filter module (wasm/mqtt-filter) through proxy-wasm ABI 0.2.1, against a fake Envoy.
import fc from 'fast-check';
import { CONTINUE, FakeEnvoy, PAUSE } from './fake-envoy';
import { connectPacket } from '../../support/mqtt-packets';
import { clientIdHash, saltedIdsValue } from '../../../src/translation/sticky-salts';

const accepted = (v: number): string => `mqtt_connect_total.protocol_version.${v}`;
const refused = (reason: string): string => `mqtt_connect_refused_total.reason.${reason}`;
const SALT_ENTRY = (i: number): string =>
  `"saltedIds" entry ${i} must be 16 lowercase hex digits, ":" and a salt in 1..4294967295, entries separated by ","`;

describe('MQTT Wasm filter (fake host)', () => {
  let envoy: FakeEnvoy;
  beforeEach(() => {
    envoy = new FakeEnvoy();
  });

  it('pauses until the CONNECT is complete, then passes it and what followed on, counted by version', () => {
    expect(envoy.configure('{"maxConnectBytes": 1024}')).toBe(true);
    const c = envoy.connect();
    const packet = connectPacket({ level: 5, clientId: 'dev-1', username: 'bob' });
    expect(envoy.data(c, packet.subarray(0, 1))).toBe(PAUSE);
    expect(envoy.data(c, packet.subarray(1, 9))).toBe(PAUSE);
    const pingreq = Uint8Array.from([0xc0, 0]);
    expect(envoy.data(c, Uint8Array.from([...packet.subarray(9), ...pingreq]))).toBe(CONTINUE);
    expect([...envoy.forwarded(c)]).toEqual([...packet, ...pingreq]);
    expect(envoy.data(c, pingreq)).toBe(CONTINUE);
    expect(envoy.closed(c)).toBe(false);
    expect(envoy.counter(accepted(5))).toBe(1);
    expect(envoy.counter('mqtt_connections_total')).toBe(1);
    expect(envoy.logs.map((l) => l.text)).toContain(
      'mqtt-filter: CONNECT accepted: protocol_version=5 client_id="dev-1" username="bob" clean_start=1 keep_alive_s=60 will=0 bytes=' +
        packet.length,
    );
  });

  it('builds no per-connection debug line when Envoy logs at info, and still counts', () => {
    envoy.logLevel = 2;
    envoy.configure('{"maxClientIdBytes": 8}');
    const ok = envoy.connect();
    expect(envoy.data(ok, connectPacket({ level: 4, clientId: 'dev-1' }))).toBe(CONTINUE);
    const bad = envoy.connect();
    envoy.data(bad, connectPacket({ level: 5, clientId: 'much-too-long' }));
    expect(envoy.closed(bad)).toBe(true);
    expect(envoy.counter(accepted(4))).toBe(1);
    expect(envoy.counter(refused('client_id_invalid'))).toBe(1);
    expect(envoy.droppedLogs).toBe(0);
    expect(envoy.logs.filter((l) => l.text.includes('CONNECT accepted') || l.text.includes('refused'))).toEqual([]);
  });

  it('closes a connection whose first bytes are not MQTT, forwards nothing, and counts the reason', () => {
    envoy.configure('');
    const c = envoy.connect();
    expect(envoy.data(c, Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'))).toBe(PAUSE);
    expect(envoy.closed(c)).toBe(true);
    expect(envoy.forwarded(c).length).toBe(0);
    expect(envoy.counter(refused('not_mqtt'))).toBe(1);
  });

  it('names the MQTT 5 CONNACK reason for a refused MQTT 5 CONNECT in its log line', () => {
    envoy.configure('{"maxClientIdBytes": 8}');
    const c = envoy.connect();
    envoy.data(c, connectPacket({ level: 5, clientId: 'much-too-long' }));
    expect(envoy.closed(c)).toBe(true);
    expect(envoy.counter(refused('client_id_invalid'))).toBe(1);
    expect(envoy.logs.map((l) => l.text)).toContain(
      'mqtt-filter: first packet refused: reason=client_id_invalid connack_reason=0x85 detail="client id of 13 bytes exceeds maxClientIdBytes 8"',
    );
  });

  it('closes a connection that sends no complete CONNECT before the first-packet deadline', () => {
    envoy.configure('{"firstPacketTimeoutMs": 2000}');
    expect(envoy.tickPeriodMs).toBe(500);
    const slow = envoy.connect();
    const quick = envoy.connect();
    envoy.data(slow, connectPacket({ level: 4, clientId: 's' }).subarray(0, 5));
    envoy.data(quick, connectPacket({ level: 4, clientId: 'q' }));
    envoy.advance(1500);
    expect(envoy.closed(slow)).toBe(false);
    envoy.advance(500);
    expect(envoy.closed(slow)).toBe(true);
    expect(envoy.closed(quick)).toBe(false);
    expect(envoy.counter(refused('first_packet_timeout'))).toBe(1);
    envoy.advance(5000);
    expect(envoy.counter(refused('first_packet_timeout'))).toBe(1);
  });

  it('turns the deadline off with firstPacketTimeoutMs 0', () => {
    envoy.configure('{"firstPacketTimeoutMs": 0}');
    expect(envoy.tickPeriodMs).toBe(0);
  });

  it('counts a client that leaves mid-CONNECT as truncated, once', () => {
    envoy.configure('{}');
    const c = envoy.connect();
    envoy.data(c, connectPacket({ level: 4, clientId: 'gone' }).subarray(0, 6));
    envoy.peerClose(c);
    expect(envoy.counter(refused('truncated'))).toBe(1);
    const d = envoy.connect();
    envoy.data(d, connectPacket({ level: 4, clientId: 'half' }).subarray(0, 6), true);
    expect(envoy.closed(d)).toBe(true);
    envoy.peerClose(d);
    expect(envoy.counter(refused('truncated'))).toBe(2);
  });

  it.each([
    ['{"maxConnectBytes": 10}', '"maxConnectBytes" must be between 14 and 1048576'],
    [
      '{"maxConectBytes": 100}',
      'unknown configuration key "maxConectBytes" (known: maxConnectBytes, maxClientIdBytes, firstPacketTimeoutMs, placement, saltedIds, inspectPublish, maxPublishPayloadBytes, topicPrefix, topicPrefixes, tenant)',
    ],
    ['{"firstPacketTimeoutMs": "1s"}', '"firstPacketTimeoutMs" must be an integer'],
    ['{"maxConnectBytes": 100', "configuration is not a flat JSON object: expected ',' or '}' at offset 23"],
    ['[1]', "configuration is not a flat JSON object: expected '{' at offset 0"],
    ['{"placement": "round_robin"}', '"placement" must be "weighted" or "sticky"'],
    ['{"placement": 1}', '"placement" must be "weighted" or "sticky"'],
    ['{"saltedIds": 7}', '"saltedIds" must be a string'],
    ['{"saltedIds": "0123456789abcdef"}', SALT_ENTRY(0)],
    ['{"saltedIds": "0123456789abcdeF:1"}', SALT_ENTRY(0)],
    ['{"saltedIds": "0123456789abcde:1"}', SALT_ENTRY(0)],
    ['{"saltedIds": "0123456789abcdef:0"}', SALT_ENTRY(0)],
    ['{"saltedIds": "0123456789abcdef:4294967296"}', SALT_ENTRY(0)],
    ['{"saltedIds": "0123456789abcdef:1,"}', SALT_ENTRY(1)],
    ['{"saltedIds": "0123456789abcdef:1;0123456789abcdee:2"}', SALT_ENTRY(0)],
    ['{"saltedIds": "0123456789abcdef:1,0123456789abcdef:2"}', '"saltedIds" entry 1 repeats an id hash'],
  ])('refuses the configuration %s with an error naming what is wrong', (json, error) => {
    expect(envoy.configure(json)).toBe(false);
    expect(envoy.logs.map((l) => l.text)).toContain(`mqtt-filter: ${error}`);
  });

  it('in sticky placement, sets the client id as an envoy.hashable_string for the connection before passing the CONNECT on', () => {
    expect(envoy.configure('{"placement": "sticky"}')).toBe(true);
    for (const [level, clientId] of [
      [4, 'sensor-17'],
      [5, 'dévice/ü'],
      [3, 'x'.repeat(200)],
    ] as const) {
      const c = envoy.connect();
      const packet = connectPacket({ level, clientId });
      expect(envoy.data(c, packet.subarray(0, 9))).toBe(PAUSE);
      expect(envoy.filterState(c).size).toBe(0);
      expect(envoy.data(c, packet.subarray(9))).toBe(CONTINUE);
      // span 2: DownstreamConnection.
      expect([...envoy.filterState(c)]).toEqual([['envoy.hashable_string', { value: clientId, span: 2 }]]);
    }
    expect(envoy.counter('mqtt_placement_total.result.hashed')).toBe(3);
  });

  it('in sticky placement, hashes "<salt>:<client id>" for a salted id and the plain id for the others', () => {
    const salted = ['sensor-17', 'dévice/ü', 'x'.repeat(300)];
    const value = saltedIdsValue(salted.map((id, i) => ({ hash: clientIdHash(id), salt: 4_294_967_295 - i })));
    expect(envoy.configure(JSON.stringify({ placement: 'sticky', maxClientIdBytes: 1024, saltedIds: value }))).toBe(true);
    expect(envoy.logs.map((l) => l.text)).toContainEqual(expect.stringContaining('placement=sticky saltedIds=3'));
    const keyOf = (clientId: string): string | undefined => {
      const c = envoy.connect();
      expect(envoy.data(c, connectPacket({ level: 4, clientId }))).toBe(CONTINUE);
      return envoy.filterState(c).get('envoy.hashable_string')?.value;
    };
    salted.forEach((id, i) => expect(keyOf(id)).toBe(`${4_294_967_295 - i}:${id}`));
    for (const id of ['sensor-18', 'sensor-1', 'Sensor-17', '']) expect(keyOf(id)).toBe(id === '' ? undefined : id);
    expect(envoy.counter('mqtt_placement_total.result.hashed')).toBe(6);
  });

  it('refuses 10,001 salted ids, one over the most it takes', () => {
    const value = saltedIdsValue(Array.from({ length: 10_001 }, (_, i) => ({ hash: clientIdHash(`c${i}`), salt: 1 })));
    expect(envoy.configure(JSON.stringify({ placement: 'sticky', saltedIds: value }))).toBe(false);
    expect(envoy.logs.map((l) => l.text)).toContain('mqtt-filter: "saltedIds" holds more than 10000 entries');
  });

  it('reads 10,000 salted ids, the most it takes, and keys each of them', () => {
    const ids = Array.from({ length: 10_000 }, (_, i) => `device-${i}`);
    const value = saltedIdsValue(ids.map((id, i) => ({ hash: clientIdHash(id), salt: i + 1 })));
    expect(envoy.configure(JSON.stringify({ placement: 'sticky', saltedIds: value }))).toBe(true);
    for (const i of [0, 4321, 9999]) {
      const c = envoy.connect();
      envoy.data(c, connectPacket({ level: 5, clientId: ids[i] }));
      expect(envoy.filterState(c).get('envoy.hashable_string')?.value).toBe(`${i + 1}:${ids[i]}`);
    }
  });

  it('computes the same id hash as the control plane (FNV-1a 64 over the UTF-8 bytes)', () => {
    // Published FNV-1a 64 test vectors, and one id beyond ASCII.
    expect(clientIdHash('')).toBe('cbf29ce484222325');
    expect(clientIdHash('a')).toBe('af63dc4c8601ec8c');
    expect(clientIdHash('foobar')).toBe('85944171f73967e8');
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 2 ** 32 - 1 }), (id, salt) => {
        const probe = new FakeEnvoy();
        probe.configure(
          JSON.stringify({ placement: 'sticky', maxClientIdBytes: 1024, saltedIds: saltedIdsValue([{ hash: clientIdHash(id), salt }]) }),
        );
        const c = probe.connect();
        probe.data(c, connectPacket({ level: 4, clientId: id }));
        expect(probe.filterState(c).get('envoy.hashable_string')?.value).toBe(`${salt}:${id}`);
      }),
      { numRuns: 40 },
    );
  });

  it('never traps on random saltedIds text: it configures or refuses with a saltedIds error', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'0123456789abcdef:,xF'), maxLength: 80 }), (text) => {
        const probe = new FakeEnvoy();
        const ok = probe.configure(JSON.stringify({ placement: 'sticky', saltedIds: text }));
        if (!ok) expect(probe.logs.map((l) => l.text).some((t) => t.startsWith('mqtt-filter: "saltedIds"'))).toBe(true);
        expect(probe.logs.filter((l) => l.text.includes('abort'))).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });

  it('in sticky placement, sets no key for an empty (server-assigned) client id, and counts it', () => {
    envoy.configure('{"placement": "sticky"}');
    const c = envoy.connect();
    expect(envoy.data(c, connectPacket({ level: 4, clientId: '', cleanStart: true }))).toBe(CONTINUE);
    expect(envoy.filterState(c).size).toBe(0);
    expect(envoy.counter('mqtt_placement_total.result.no_client_id')).toBe(1);
    expect(envoy.counter('mqtt_placement_total.result.hashed')).toBe(0);
  });

  it('in weighted placement (the default), sets no filter state at all', () => {
    for (const config of ['{}', '{"placement": "weighted"}']) {
      envoy.configure(config);
      const c = envoy.connect();
      expect(envoy.data(c, connectPacket({ level: 4, clientId: 'sensor-17' }))).toBe(CONTINUE);
      expect(envoy.filterState(c).size).toBe(0);
    }
    expect(envoy.counter('mqtt_placement_total.result.hashed')).toBe(0);
  });

  it('sets no key for a refused CONNECT', () => {
    envoy.configure('{"placement": "sticky", "maxClientIdBytes": 4}');
    const c = envoy.connect();
    envoy.data(c, connectPacket({ level: 4, clientId: 'too-long' }));
    expect(envoy.closed(c)).toBe(true);
    expect(envoy.filterState(c).size).toBe(0);
  });

  it('never traps on random reads of any size, and decides each connection once', () => {
    envoy.configure('{"maxConnectBytes": 200}');
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 120 }), { minLength: 1, maxLength: 5 }), (reads) => {
        const c = envoy.connect();
        for (const r of reads) envoy.data(c, r);
        envoy.peerClose(c);
      }),
      { numRuns: 300 },
    );
    const decided = [...envoy.counters].filter(([name]) => name !== 'mqtt_connections_total').reduce((sum, [, n]) => sum + n, 0);
    expect(decided).toBe(envoy.counter('mqtt_connections_total'));
    expect(envoy.logs.filter((l) => l.text.includes('abort'))).toEqual([]);
  });
});
