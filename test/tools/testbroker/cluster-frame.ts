// The wire format of the test brokers' cluster link (cluster-link.ts): one frame per
// PUBLISH a client sent to the originating broker. Pure: encode, and a streaming decoder
// that accepts reads split anywhere and refuses a frame over its limit before buffering it.
//
//   u32  length of the rest of the frame (big endian)
//   u8   version (1)
//   u8   flags: bits 0-1 QoS, bit 2 retain
//   u16  topic length in bytes
//   ...  topic (UTF-8), then the payload (the rest)

export const CLUSTER_FRAME_VERSION = 1;
/** Version, flags and topic length. */
const FIXED_BYTES = 4;
/** A frame's body (after the length) larger than this is refused: the link is a test tool, not a file transfer. */
export const DEFAULT_MAX_FRAME_BYTES = 1024 * 1024;

export interface ClusterMessage {
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: 0 | 1 | 2;
  readonly retain: boolean;
}

export function encodeClusterFrame(message: ClusterMessage): Buffer {
  const topic = Buffer.from(message.topic, 'utf8');
  if (topic.length > 0xffff) throw new Error(`topic of ${topic.length} bytes does not fit a cluster frame`);
  const body = FIXED_BYTES + topic.length + message.payload.length;
  const frame = Buffer.allocUnsafe(4 + body);
  frame.writeUInt32BE(body, 0);
  frame.writeUInt8(CLUSTER_FRAME_VERSION, 4);
  frame.writeUInt8((message.qos & 0b11) | (message.retain ? 0b100 : 0), 5);
  frame.writeUInt16BE(topic.length, 6);
  topic.copy(frame, 8);
  message.payload.copy(frame, 8 + topic.length);
  return frame;
}

/** The size a message's frame has on the wire, without building it. */
export function clusterFrameBytes(message: { topic: string; payload: Buffer }): number {
  return 4 + FIXED_BYTES + Buffer.byteLength(message.topic, 'utf8') + message.payload.length;
}

export type DecodeResult =
  | { readonly ok: true; readonly messages: ClusterMessage[] }
  | { readonly ok: false; readonly code: 'CLUSTER_FRAME_TOO_LARGE' | 'CLUSTER_BAD_FRAME'; readonly message: string };

/** Accumulates reads from one link; after an error it stays failed (the link is then closed). */
export class ClusterFrameDecoder {
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  private failed: DecodeResult | undefined;

  constructor(private readonly maxFrameBytes = DEFAULT_MAX_FRAME_BYTES) {}

  push(chunk: Buffer): DecodeResult {
    if (this.failed) return this.failed;
    this.buffered.push(chunk);
    this.bufferedBytes += chunk.length;
    const messages: ClusterMessage[] = [];
    for (;;) {
      if (this.bufferedBytes < 4) break;
      const head = this.peek(4);
      const body = head.readUInt32BE(0);
      if (body > this.maxFrameBytes) {
        return this.fail('CLUSTER_FRAME_TOO_LARGE', `a frame of ${body} bytes is over the limit of ${this.maxFrameBytes}`);
      }
      if (body < FIXED_BYTES) return this.fail('CLUSTER_BAD_FRAME', `a frame of ${body} bytes is shorter than its header`);
      if (this.bufferedBytes < 4 + body) break;
      const frame = this.take(4 + body);
      const version = frame.readUInt8(4);
      if (version !== CLUSTER_FRAME_VERSION) return this.fail('CLUSTER_BAD_FRAME', `unknown frame version ${version}`);
      const flags = frame.readUInt8(5);
      const qos = flags & 0b11;
      if (qos === 3 || flags > 0b111) return this.fail('CLUSTER_BAD_FRAME', `bad flags 0x${flags.toString(16)}`);
      const topicBytes = frame.readUInt16BE(6);
      if (FIXED_BYTES + topicBytes > body) {
        return this.fail('CLUSTER_BAD_FRAME', `a topic of ${topicBytes} bytes does not fit a frame of ${body}`);
      }
      const topic = frame.subarray(8, 8 + topicBytes).toString('utf8');
      if (topic.length === 0) return this.fail('CLUSTER_BAD_FRAME', 'empty topic');
      messages.push({ topic, payload: Buffer.from(frame.subarray(8 + topicBytes)), qos: qos as 0 | 1 | 2, retain: (flags & 0b100) !== 0 });
    }
    return { ok: true, messages };
  }

  private fail(code: 'CLUSTER_FRAME_TOO_LARGE' | 'CLUSTER_BAD_FRAME', message: string): DecodeResult {
    this.buffered = [];
    this.bufferedBytes = 0;
    this.failed = { ok: false, code, message };
    return this.failed;
  }

  private peek(n: number): Buffer {
    if (this.buffered[0].length < n) this.buffered = [Buffer.concat(this.buffered)];
    return this.buffered[0].subarray(0, n);
  }

  private take(n: number): Buffer {
    const all = this.buffered.length === 1 ? this.buffered[0] : Buffer.concat(this.buffered);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.buffered = rest.length > 0 ? [rest] : [];
    this.bufferedBytes = rest.length;
    return out;
  }
}
