// Pure: MQTT packet framing over a byte stream, for the benchmark's sink broker. It reads
// only the fixed header (type byte and remaining length) and skips the rest without copying,
// so the sink spends next to nothing per PUBLISH and the proxy in front stays the bottleneck.
// A CONNECT's body is not needed either: the sink answers every CONNECT the same way.

/** Packet type (the first byte's high nibble) and whole size of each packet, in stream order. */
export type PacketHandler = (type: number, bytes: number) => void;

/** The largest remaining length MQTT allows (four varint bytes). */
export const MAX_REMAINING_LENGTH = 268_435_455;

export class Framer {
  /** Bytes of the current packet's body still to skip; 0 = at a fixed header. */
  private toSkip = 0;
  /** The fixed header read so far (type byte and varint bytes), when split across chunks. */
  private header: number[] = [];
  private failed: string | undefined;

  constructor(private readonly onPacket: PacketHandler) {}

  /** Why the stream is not MQTT (a remaining length over four bytes), or undefined. */
  get error(): string | undefined {
    return this.failed;
  }

  feed(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length && this.failed === undefined) {
      if (this.toSkip > 0) {
        const n = Math.min(this.toSkip, chunk.length - i);
        this.toSkip -= n;
        i += n;
        continue;
      }
      this.header.push(chunk[i++]);
      if (this.header.length === 1) continue;
      const last = this.header[this.header.length - 1];
      if (last & 0x80) {
        if (this.header.length === 5) this.failed = 'remaining length longer than four bytes';
        continue;
      }
      let remaining = 0;
      for (let k = this.header.length - 1; k >= 1; k--) remaining = remaining * 128 + (this.header[k] & 0x7f);
      const type = this.header[0] >> 4;
      this.onPacket(type, this.header.length + remaining);
      this.header = [];
      this.toSkip = remaining;
    }
  }
}
