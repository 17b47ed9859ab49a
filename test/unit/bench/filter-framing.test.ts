import fc from 'fast-check';
import { Framer } from '../../../test/bench/filter/framing';
import { varint } from '../../support/mqtt-packets';

const packet = (firstByte: number, bodyLength: number): Buffer =>
  Buffer.from([firstByte, ...varint(bodyLength), ...Buffer.alloc(bodyLength, 0x5a)]);

function frame(chunks: readonly Uint8Array[]): { packets: [number, number][]; error: string | undefined } {
  const packets: [number, number][] = [];
  const f = new Framer((type, bytes) => packets.push([type, bytes]));
  for (const c of chunks) f.feed(c);
  return { packets, error: f.error };
}

describe('Framer', () => {
  it('finds each packet of a stream by its fixed header, with its whole size', () => {
    const stream = Buffer.concat([packet(0x10, 12), packet(0x30, 200), packet(0x30, 0), packet(0xc0, 0), packet(0x32, 16_384)]);
    expect(frame([stream]).packets).toEqual([
      [1, 14],
      [3, 203],
      [3, 2],
      [12, 2],
      [3, 16_388],
    ]);
  });

  it('frames a stream split anywhere as it frames the whole', () => {
    const sizes = fc.array(fc.integer({ min: 0, max: 20_000 }), { minLength: 1, maxLength: 8 });
    fc.assert(
      fc.property(sizes, fc.array(fc.integer({ min: 1, max: 5000 }), { maxLength: 20 }), (bodies, cuts) => {
        const stream = Buffer.concat(bodies.map((n) => packet(0x30, n)));
        const chunks: Buffer[] = [];
        let at = 0;
        for (const c of cuts) {
          if (at >= stream.length) break;
          chunks.push(stream.subarray(at, at + c));
          at += c;
        }
        chunks.push(stream.subarray(at));
        expect(frame(chunks).packets).toEqual(frame([stream]).packets);
        expect(frame(chunks).packets.map(([, n]) => n)).toEqual(bodies.map((n) => 1 + varint(n).length + n));
      }),
      { numRuns: 60 },
    );
  });

  it('stops at a remaining length of more than four bytes', () => {
    const r = frame([Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00])]);
    expect(r.packets).toEqual([]);
    expect(r.error).toMatch(/four bytes/);
  });
});
