// PUBLISH inspection: follows the client→broker packet framing after an accepted CONNECT without
// buffering anything. It keeps the fixed header's few bytes and, for a PUBLISH, the lengths of
// its variable header; every other byte is skipped by count. A PUBLISH is checked as soon as the
// bytes allow: its payload size once its variable header has passed (always before the first
// payload byte), its topic against the prefix byte by byte as the topic arrives.
//
// The payload, as MQTT defines it: remaining length − variable header, where the variable header
// is the topic (2 + its length), the packet id (2, QoS 1 and 2 only) and, in MQTT 5, the property
// length and the properties.

/** Why the filter closed an established connection; 0 while it has not. */
export enum StreamClose {
  None = 0,
  /** A PUBLISH's payload is over maxPublishPayloadBytes. MQTT 5 DISCONNECT 0x95 (packet too large). */
  PayloadTooLarge = 1,
  /** A PUBLISH's topic does not start with topicPrefix. MQTT 5 DISCONNECT 0x87 (not authorized). */
  TopicNotAllowed = 2,
  /** Framing that breaks the spec: remaining length over 4 bytes, reserved type or flags, lengths past the packet. 0x81. */
  Malformed = 3,
  /** A second CONNECT. 0x82 (protocol error). */
  ProtocolError = 4,
}

export const STREAM_CLOSE_COUNT = 5;

export function streamCloseName(r: StreamClose): string {
  switch (r) {
    case StreamClose.PayloadTooLarge:
      return 'payload_too_large';
    case StreamClose.TopicNotAllowed:
      return 'topic_not_allowed';
    case StreamClose.Malformed:
      return 'malformed';
    case StreamClose.ProtocolError:
      return 'protocol_error';
    default:
      return 'none';
  }
}

/** The MQTT 5 DISCONNECT reason a server would send (it cannot here: docs/mqtt-filter.md, "Limits"). */
export function disconnectReason(r: StreamClose): u8 {
  switch (r) {
    case StreamClose.PayloadTooLarge:
      return 0x95;
    case StreamClose.TopicNotAllowed:
      return 0x87;
    case StreamClose.Malformed:
      return 0x81;
    case StreamClose.ProtocolError:
      return 0x82;
    default:
      return 0;
  }
}

// Where the framer is inside the current packet.
const TYPE: u8 = 0; // the fixed header's first byte
const LENGTH: u8 = 1; // the remaining length, 1 to 4 bytes
const TOPIC_LENGTH: u8 = 2; // PUBLISH: 2 bytes
const TOPIC: u8 = 3; // PUBLISH: the topic's bytes, compared with the prefix as they pass
const PACKET_ID: u8 = 4; // PUBLISH QoS 1/2: 2 bytes
const PROPERTY_LENGTH: u8 = 5; // PUBLISH, MQTT 5: 1 to 4 bytes
const SKIP: u8 = 6; // bytes passed over by count: the rest of a topic, or the rest of the packet
const STOPPED: u8 = 7;

const PUBLISH: u8 = 3;

export class PacketFramer {
  closed: StreamClose = StreamClose.None;
  detail: string = '';
  /** PUBLISH packets whose fixed header was read since the last takePublishes(). */
  publishes: u32 = 0;

  private state: u8 = TYPE;
  private type: u8 = 0;
  private qos: u8 = 0;
  /** Bytes of the current packet not yet passed (after its fixed header). */
  private left: u32 = 0;
  /** A variable byte integer being decoded (remaining length, property length), and its bytes so far. */
  private varint: u32 = 0;
  private varintBytes: u32 = 0;
  /** Bytes read of the current 2-byte field or of the topic. */
  private fieldAt: u32 = 0;
  private topicLength: u32 = 0;
  /** In SKIP: bytes still to pass, and whether they end the packet (else they end the topic). */
  private skipCount: u32 = 0;
  private skipToEnd: bool = true;

  /**
   * @param protocolVersion the CONNECT's: 5 has PUBLISH properties
   * @param maxPayloadBytes 0: no limit
   * @param prefix UTF-8 bytes every PUBLISH topic must start with; empty: no check
   */
  constructor(
    public protocolVersion: u8,
    public maxPayloadBytes: u32,
    public prefix: Uint8Array,
  ) {}

  /** Bytes the framer will pass over without looking at them; the caller may skip them unread. */
  skipping(): u32 {
    return this.state == SKIP ? this.skipCount : 0;
  }

  /** Passes over `n` ≤ skipping() bytes without reading them; may close (a topic's end decides). */
  skip(n: u32): StreamClose {
    this.left -= n;
    this.skipCount -= n;
    if (this.skipCount == 0) {
      if (this.skipToEnd) this.state = TYPE;
      else this.topicDone();
    }
    return this.closed;
  }

  takePublishes(): u32 {
    const n = this.publishes;
    this.publishes = 0;
    return n;
  }

  /** Reads `len` bytes at `ptr` (never outside them); stops at the first close. */
  feedRaw(ptr: usize, len: u32): StreamClose {
    let i: u32 = 0;
    while (i < len && this.state != STOPPED) {
      if (this.state == SKIP) {
        const n = min(this.skipCount, len - i);
        this.skip(n);
        i += n;
        continue;
      }
      this.byte(load<u8>(ptr + <usize>i));
      i++;
    }
    return this.closed;
  }

  private byte(b: u8): void {
    const state = this.state;
    if (state == TYPE) return this.typeByte(b);
    if (state == LENGTH) return this.lengthByte(b);
    // Every other state reads a byte of a PUBLISH's variable header.
    if (this.left == 0) return this.stop(StreamClose.Malformed, 'PUBLISH variable header runs past the packet');
    this.left--;
    if (state == TOPIC_LENGTH) {
      this.topicLength = (this.topicLength << 8) | b;
      if (++this.fieldAt < 2) return;
      if (this.topicLength > this.left) return this.stop(StreamClose.Malformed, 'PUBLISH topic length runs past the packet');
      this.fieldAt = 0;
      if (this.topicLength == 0) return this.topicDone();
      // Only a prefix needs the topic's bytes; the payload limit needs its length alone.
      if (this.prefix.length == 0) return this.skipThen(this.topicLength, false);
      this.state = TOPIC;
      return;
    }
    if (state == TOPIC) {
      const at = this.fieldAt++;
      if (b != this.prefix[at]) return this.topicNotAllowed();
      if (this.fieldAt == this.topicLength) return this.topicDone();
      // The prefix has matched: the rest of the topic is passed over unread.
      if (this.fieldAt == <u32>this.prefix.length) this.skipThen(this.topicLength - this.fieldAt, false);
      return;
    }
    if (state == PACKET_ID) {
      if (++this.fieldAt < 2) return;
      this.fieldAt = 0;
      if (this.protocolVersion == 5) this.startPropertyLength();
      else this.payloadReached(this.left);
      return;
    }
    // PROPERTY_LENGTH
    if (!this.varintByte(b)) return;
    if (this.varint > this.left) return this.stop(StreamClose.Malformed, 'PUBLISH properties run past the packet');
    // The properties are variable header; what follows them is the payload.
    this.payloadReached(this.left - this.varint);
  }

  /** Adds a byte to `varint`; true once it is complete (a 5th byte stops as malformed). */
  private varintByte(b: u8): bool {
    this.varint |= (<u32>(b & 0x7f)) << (7 * this.varintBytes);
    this.varintBytes++;
    if ((b & 0x80) == 0) return true;
    if (this.varintBytes == 4) this.stop(StreamClose.Malformed, 'a variable byte integer runs past 4 bytes');
    return false;
  }

  private typeByte(b: u8): void {
    const type = b >> 4;
    const flags = b & 0x0f;
    if (type == PUBLISH) {
      this.qos = (flags >> 1) & 0x03;
      if (this.qos == 3) return this.stop(StreamClose.Malformed, 'PUBLISH with QoS 3');
      this.publishes++;
    } else if (type == 0) {
      return this.stop(StreamClose.Malformed, 'packet type 0 is reserved');
    } else if (type == 1) {
      return this.stop(StreamClose.ProtocolError, 'a second CONNECT');
    } else if (type == 15 && this.protocolVersion != 5) {
      return this.stop(StreamClose.Malformed, 'AUTH before MQTT 5');
    } else {
      // PUBREL, SUBSCRIBE and UNSUBSCRIBE carry flags 0010, every other type 0000.
      const want: u8 = type == 6 || type == 8 || type == 10 ? 2 : 0;
      if (flags != want) return this.stop(StreamClose.Malformed, 'flags 0x' + flags.toString(16) + ' on packet type ' + type.toString());
    }
    this.type = type;
    this.varint = 0;
    this.varintBytes = 0;
    this.state = LENGTH;
  }

  private lengthByte(b: u8): void {
    if (!this.varintByte(b)) return;
    this.left = this.varint;
    if (this.type != PUBLISH) return this.skipThen(this.left, true);
    // The smallest variable header: an empty topic (2), the packet id, MQTT 5's property length.
    const minHeader: u32 = 2 + (this.qos > 0 ? 2 : 0) + (this.protocolVersion == 5 ? 1 : 0);
    if (this.left < minHeader)
      return this.stop(StreamClose.Malformed, 'PUBLISH remaining length ' + this.left.toString() + ' is too short');
    // The common case: with no prefix to check and a packet too small to break the limit, the
    // fixed header settles it, and the rest is passed over by count.
    if (this.prefix.length == 0 && (this.maxPayloadBytes == 0 || this.left - minHeader <= this.maxPayloadBytes))
      return this.skipThen(this.left, true);
    this.topicLength = 0;
    this.fieldAt = 0;
    this.state = TOPIC_LENGTH;
  }

  /**
   * The topic has passed. An empty one (MQTT 5: a topic alias stands for it) is not checked: the
   * alias's mapping was set by an earlier PUBLISH on this connection, whose topic was.
   */
  private topicDone(): void {
    if (this.topicLength > 0 && this.topicLength < <u32>this.prefix.length) return this.topicNotAllowed();
    // The packet id and MQTT 5's property length must still fit.
    if (this.left < (this.qos > 0 ? 2 : 0) + (this.protocolVersion == 5 ? 1 : 0))
      return this.stop(StreamClose.Malformed, 'PUBLISH variable header runs past the packet');
    this.fieldAt = 0;
    if (this.qos > 0) this.state = PACKET_ID;
    else if (this.protocolVersion == 5) this.startPropertyLength();
    else this.payloadReached(this.left);
  }

  private topicNotAllowed(): void {
    this.stop(StreamClose.TopicNotAllowed, 'PUBLISH topic does not start with topicPrefix');
  }

  private startPropertyLength(): void {
    this.varint = 0;
    this.varintBytes = 0;
    this.state = PROPERTY_LENGTH;
  }

  /** Decided before the payload's first byte: `payload` bytes of it follow, then the packet ends. */
  private payloadReached(payload: u32): void {
    if (this.maxPayloadBytes > 0 && payload > this.maxPayloadBytes) {
      return this.stop(
        StreamClose.PayloadTooLarge,
        'PUBLISH payload of ' + payload.toString() + ' bytes exceeds maxPublishPayloadBytes ' + this.maxPayloadBytes.toString(),
      );
    }
    this.skipThen(this.left, true);
  }

  /** Passes over `n` bytes by count; then the packet ends (toEnd) or the topic does. */
  private skipThen(n: u32, toEnd: bool): void {
    if (n == 0) {
      if (toEnd) this.state = TYPE;
      else this.topicDone();
      return;
    }
    this.skipCount = n;
    this.skipToEnd = toEnd;
    this.state = SKIP;
  }

  private stop(reason: StreamClose, detail: string): void {
    this.closed = reason;
    this.detail = detail;
    this.state = STOPPED;
  }
}
