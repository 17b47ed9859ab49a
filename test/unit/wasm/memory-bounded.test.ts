// The filter collects its garbage itself, at the end of its exports (wasm/mqtt-filter/assembly/
// abi/collect.ts): many connections, long-lived ones and large CONNECTs must not grow its memory
// past a bound. Linear memory never shrinks, so its size is the high-water mark.
import { CONTINUE, FakeEnvoy, PAUSE } from './fake-envoy';
import { connectPacket, publishPacket } from '../../support/mqtt-packets';

const MIB = 1024 * 1024;

/** `n` connections, each an accepted CONNECT (or a refused one, every third) that the client then closes. */
function churn(envoy: FakeEnvoy, n: number, from = 0): void {
  for (let i = from; i < from + n; i++) {
    const c = envoy.connect();
    if (i % 3 === 2) {
      expect(envoy.data(c, Buffer.from('GET / HTTP/1.1\r\n\r\n'))).toBe(PAUSE);
    } else {
      expect(envoy.data(c, connectPacket({ level: i % 2 === 0 ? 4 : 5, clientId: `client-${i}-${'x'.repeat(i % 100)}` }))).toBe(CONTINUE);
    }
    envoy.peerClose(c);
  }
}

describe('MQTT Wasm filter memory (fake host)', () => {
  it('stops growing under connection churn: 10,000 more connections after 2,000 add no memory', () => {
    const envoy = new FakeEnvoy();
    envoy.logLevel = 2;
    envoy.configure('{"placement": "sticky", "inspectPublish": true, "topicPrefix": "client-"}');
    churn(envoy, 2000);
    const warm = envoy.memoryBytes();
    churn(envoy, 10_000, 2000);
    expect(envoy.memoryBytes()).toBe(warm);
    expect(warm).toBeLessThanOrEqual(2 * MIB);
    expect(envoy.counter('mqtt_connections_total')).toBe(12_000);
  });

  it('stays bounded with debug lines built for 64 KiB client ids', () => {
    const envoy = new FakeEnvoy();
    envoy.logLevel = 0;
    envoy.configure('{"maxConnectBytes": 70000, "maxClientIdBytes": 65535}');
    for (let i = 0; i < 40; i++) {
      const c = envoy.connect();
      const id = `${i}-`.padEnd(65_000, i % 2 === 0 ? 'a' : '"');
      expect(envoy.data(c, connectPacket({ level: 4, clientId: id }))).toBe(CONTINUE);
      envoy.peerClose(c);
    }
    expect(envoy.logs.filter((l) => l.text.includes('CONNECT accepted')).length).toBe(40);
    // Together they made about 40 MiB of garbage (each: the copy, the strings, the quoted line).
    expect(envoy.memoryBytes()).toBeLessThanOrEqual(8 * MIB);
  });

  it('does not collect inside a close that calls it back: 300 half-sent CONNECTs time out in one tick', () => {
    const envoy = new FakeEnvoy();
    envoy.logLevel = 2;
    envoy.reenterOnClose = true;
    envoy.configure('{"firstPacketTimeoutMs": 1000, "maxConnectBytes": 4096}');
    const packet = connectPacket({ level: 4, clientId: 'half-'.padEnd(2000, 'x') });
    // Each leaves 1,000 bytes owed when the tick decides it, so the debt passes the budget mid-tick.
    const ids = Array.from({ length: 300 }, () => {
      const c = envoy.connect();
      expect(envoy.data(c, packet.subarray(0, 1000))).toBe(PAUSE);
      return c;
    });
    envoy.advance(2000);
    expect(ids.filter((c) => !envoy.closed(c))).toEqual([]);
    expect(envoy.counter('mqtt_connect_refused_total.reason.first_packet_timeout')).toBe(300);
    expect(envoy.logs.filter((l) => l.level >= 3)).toEqual([]);
    for (const c of ids) envoy.finish(c);
    churn(envoy, 3000);
    expect(envoy.counter('mqtt_connect_refused_total.reason.not_mqtt')).toBe(1000);
  });

  it('holds no garbage per read on a long-lived inspected connection', () => {
    const envoy = new FakeEnvoy();
    envoy.configure('{"inspectPublish": true, "maxPublishPayloadBytes": 1000, "topicPrefix": "t/"}');
    const c = envoy.connect();
    expect(envoy.data(c, connectPacket({ level: 5, clientId: 'long-lived' }))).toBe(CONTINUE);
    const read = Buffer.concat(Array.from({ length: 50 }, () => publishPacket({ level: 5, topic: 't/x', payload: new Uint8Array(100) })));
    const reads = (n: number): void => {
      for (let i = 0; i < n; i++) {
        expect(envoy.data(c, read)).toBe(CONTINUE);
        envoy.clearForwarded(c);
      }
    };
    reads(1000);
    const warm = envoy.memoryBytes();
    reads(10_000);
    expect(envoy.memoryBytes()).toBe(warm);
    expect(envoy.counter('mqtt_publish_inspected_total')).toBe(11_000 * 50);
  });
});
