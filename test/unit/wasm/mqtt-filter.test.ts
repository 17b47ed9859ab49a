// The filter module (wasm/mqtt-filter) through proxy-wasm ABI 0.2.1, against a fake Envoy.
import fc from 'fast-check';
import { CONTINUE, FakeEnvoy, PAUSE } from './fake-envoy';
import { connectPacket } from '../../support/mqtt-packets';

const accepted = (v: number): string => `mqtt_connect_total.protocol_version.${v}`;
const refused = (reason: string): string => `mqtt_connect_refused_total.reason.${reason}`;

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
      'unknown configuration key "maxConectBytes" (known: maxConnectBytes, maxClientIdBytes, firstPacketTimeoutMs, placement, inspectPublish, maxPublishPayloadBytes, topicPrefix, tenant)',
    ],
    ['{"firstPacketTimeoutMs": "1s"}', '"firstPacketTimeoutMs" must be an integer'],
    ['{"maxConnectBytes": 100', "configuration is not a flat JSON object: expected ',' or '}' at offset 23"],
    ['[1]', "configuration is not a flat JSON object: expected '{' at offset 0"],
    ['{"placement": "round_robin"}', '"placement" must be "weighted" or "sticky"'],
    ['{"placement": 1}', '"placement" must be "weighted" or "sticky"'],
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
