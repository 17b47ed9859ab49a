// How PUBLISH inspection copies Envoy's buffer: few host calls for many small packets, header
// bytes only for large ones (the window in filter/contexts.ts; cost in docs/benchmarks.md).
import { CONTINUE, FakeEnvoy } from './fake-envoy';
import { connectPacket, publishPacket } from '../../support/mqtt-packets';

const INSPECTED = 'mqtt_publish_inspected_total';

function connected(envoy: FakeEnvoy): number {
  const c = envoy.connect();
  expect(envoy.data(c, connectPacket({ level: 4, clientId: 'copies' }))).toBe(CONTINUE);
  return c;
}

describe('PUBLISH inspection copies (fake host)', () => {
  it('reads 1,000 small PUBLISH packets in one read with a few dozen copies, counting each once', () => {
    const envoy = new FakeEnvoy();
    envoy.configure('{"inspectPublish": true, "maxPublishPayloadBytes": 1000}');
    const c = connected(envoy);
    const packet = publishPacket({ level: 4, topic: 'bench/filter', payload: new Uint8Array(128) });
    const read = Buffer.concat(Array.from({ length: 1000 }, () => packet));
    const before = envoy.downstreamCopies;
    expect(envoy.data(c, read)).toBe(CONTINUE);
    expect(envoy.counter(INSPECTED)).toBe(1000);
    expect(envoy.closed(c)).toBe(false);
    // 512-byte windows would take one copy per ~4 packets (about 270); widening to 16 KiB takes under 20.
    expect(envoy.downstreamCopies - before).toBeLessThan(20);
    expect(envoy.outOfBoundsReads).toBe(0);
  });

  it('narrows the window again after a large payload: small packets, then one of 200,000 bytes, copy its header only', () => {
    const envoy = new FakeEnvoy();
    envoy.configure('{"inspectPublish": true, "maxPublishPayloadBytes": 1000000, "topicPrefix": "acme/"}');
    const c = connected(envoy);
    const small = publishPacket({ level: 4, topic: 'acme/s', payload: new Uint8Array(100) });
    for (let i = 0; i < 20; i++) expect(envoy.data(c, Buffer.concat(Array.from({ length: 50 }, () => small)))).toBe(CONTINUE);
    const big = publishPacket({ level: 4, topic: 'acme/bulk', payload: new Uint8Array(200_000) });
    const copied = envoy.copiedDownstreamBytes;
    for (let at = 0; at < big.length; at += 16_384) expect(envoy.data(c, big.subarray(at, at + 16_384))).toBe(CONTINUE);
    // At most one wide window lands on the big packet's header before the window narrows.
    expect(envoy.copiedDownstreamBytes - copied).toBeLessThanOrEqual(16_384 + 512);
    expect(envoy.counter(INSPECTED)).toBe(1001);
    expect(envoy.closed(c)).toBe(false);
  });
});
