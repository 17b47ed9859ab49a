import { ClusterFrameDecoder, encodeClusterFrame, type ClusterMessage } from '../../../test/tools/testbroker/cluster-frame';

const messages: ClusterMessage[] = [
  { topic: 'demo/hello', payload: Buffer.from('hi'), qos: 0, retain: false },
  { topic: 'sensors/ä/1', payload: Buffer.alloc(0), qos: 1, retain: true },
  { topic: 't', payload: Buffer.from([0, 1, 2, 255]), qos: 2, retain: false },
];

describe('cluster link frames', () => {
  it('decodes what it encodes, with reads split at every byte offset', () => {
    const wire = Buffer.concat(messages.map(encodeClusterFrame));
    for (let cut = 0; cut <= wire.length; cut++) {
      const decoder = new ClusterFrameDecoder();
      const first = decoder.push(wire.subarray(0, cut));
      const second = decoder.push(wire.subarray(cut));
      expect(first.ok && second.ok).toBe(true);
      if (first.ok && second.ok) expect([...first.messages, ...second.messages]).toEqual(messages);
    }
  });

  it('decodes a stream fed one byte at a time', () => {
    const wire = Buffer.concat(messages.map(encodeClusterFrame));
    const decoder = new ClusterFrameDecoder();
    const out: ClusterMessage[] = [];
    for (const byte of wire) {
      const r = decoder.push(Buffer.from([byte]));
      if (r.ok) out.push(...r.messages);
    }
    expect(out).toEqual(messages);
  });

  it('refuses a frame over the limit as soon as its length arrives, and stays failed', () => {
    const decoder = new ClusterFrameDecoder(100);
    const big = encodeClusterFrame({ topic: 'x', payload: Buffer.alloc(200), qos: 0, retain: false });
    const r = decoder.push(big.subarray(0, 4));
    expect(r).toMatchObject({ ok: false, code: 'CLUSTER_FRAME_TOO_LARGE' });
    expect(decoder.push(encodeClusterFrame(messages[0]))).toMatchObject({ ok: false });
  });

  it('refuses an unknown version, QoS 3, a topic longer than its frame and an empty topic', () => {
    const good = encodeClusterFrame(messages[0]);
    const variants: Array<[string, (b: Buffer) => void]> = [
      ['version', (b) => b.writeUInt8(9, 4)],
      ['qos 3', (b) => b.writeUInt8(3, 5)],
      ['topic length', (b) => b.writeUInt16BE(500, 6)],
      ['empty topic', (b) => b.writeUInt16BE(0, 6)],
    ];
    for (const [what, spoil] of variants) {
      const bad = Buffer.from(good);
      spoil(bad);
      expect([what, new ClusterFrameDecoder().push(bad)]).toMatchObject([what, { ok: false, code: 'CLUSTER_BAD_FRAME' }]);
    }
  });
});
