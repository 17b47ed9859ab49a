// PUBLISH inspection: follows the client→broker packet framing after an accepted CONNECT without
// buffering anything. It keeps the fixed header's few bytes and, for a PUBLISH or a SUBSCRIBE,
// the lengths of its fields; every other byte is skipped by count. A PUBLISH is checked as soon
// as the bytes allow: its payload size once its variable header has passed (always before the
// first payload byte), its topic against the allowed prefixes byte by byte as the topic arrives.
// With prefixes, a SUBSCRIBE's every topic filter is checked the same way, byte by byte, so a
// SUBSCRIBE split across reads costs no buffer at all (only the matcher's few words).
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
  /** A SUBSCRIBE topic filter does not start with an allowed prefix. MQTT 5 DISCONNECT 0x8F (topic filter invalid). */
  SubscriptionNotAllowed = 5,
}

export const STREAM_CLOSE_COUNT = 6;

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
    case StreamClose.SubscriptionNotAllowed:
      return 'subscription_not_allowed';
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
    case StreamClose.SubscriptionNotAllowed:
      return 0x8f;
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
const SUB_PACKET_ID: u8 = 8; // SUBSCRIBE: 2 bytes
const SUB_PROPERTY_LENGTH: u8 = 9; // SUBSCRIBE, MQTT 5: 1 to 4 bytes, then the properties skipped
const FILTER_LENGTH: u8 = 10; // SUBSCRIBE: a topic filter's 2-byte length
const FILTER: u8 = 11; // SUBSCRIBE: the filter's bytes, compared with the prefixes as they pass
const OPTIONS: u8 = 12; // SUBSCRIBE: the byte of subscription options after each filter

// What a SKIP ends in.
const THEN_END: u8 = 0; // the packet
const THEN_TOPIC: u8 = 1; // a PUBLISH topic
const THEN_FILTERS: u8 = 2; // a SUBSCRIBE's properties: the first filter follows
const THEN_FILTER: u8 = 3; // a SUBSCRIBE topic filter: its options byte follows

const PUBLISH: u8 = 3;
const SUBSCRIBE: u8 = 8;

/**
 * Matches a topic (or filter) against up to 32 prefixes at once, byte by byte: a bit per prefix
 * still equal so far. A prefix never holds + or #, so a filter with a wildcard before a prefix's
 * end differs from it there and fails.
 */
export class PrefixMatcher {
  /** Prefixes still equal to the bytes so far (bit i: prefixes[i]). */
  private alive: u32 = 0;
  private at: u32 = 0;
  /** Some prefix has been matched in full: the rest of the string does not matter. */
  matched: bool = false;

  constructor(public prefixes: Array<Uint8Array>) {}

  start(): void {
    const n = this.prefixes.length;
    this.alive = n >= 32 ? 0xffffffff : ((<u32>1) << n) - 1;
    this.at = 0;
    this.matched = false;
  }

  /** Takes the next byte; false once no prefix can match any more. */
  byte(b: u8): bool {
    const at = this.at++;
    let alive = this.alive;
    let left = alive;
    while (left != 0) {
      const i = <i32>ctz(left);
      left &= left - 1;
      const p = unchecked(this.prefixes[i]);
      if (<u32>p.length <= at || unchecked(p[at]) != b) {
        alive &= ~((<u32>1) << i);
        continue;
      }
      if (<u32>p.length == at + 1) {
        this.matched = true;
        return true;
      }
    }
    this.alive = alive;
    return alive != 0;
  }
}

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
  private skipNext: u8 = THEN_END;
  private matcher: PrefixMatcher;
  private checkPrefixes: bool;

  /**
   * @param protocolVersion the CONNECT's: 5 has PUBLISH properties
   * @param maxPayloadBytes 0: no limit
   * @param prefixes UTF-8 bytes, one of which every PUBLISH topic and SUBSCRIBE filter must start with; empty: no check
   */
  constructor(
    public protocolVersion: u8,
    public maxPayloadBytes: u32,
    prefixes: Array<Uint8Array>,
  ) {
    this.matcher = new PrefixMatcher(prefixes);
    this.checkPrefixes = prefixes.length > 0;
  }

  /** Bytes the framer will pass over without looking at them; the caller may skip them unread. */
  skipping(): u32 {
    return this.state == SKIP ? this.skipCount : 0;
  }

  /** Passes over `n` ≤ skipping() bytes without reading them; may close (a topic's end decides). */
  skip(n: u32): StreamClose {
    this.left -= n;
    this.skipCount -= n;
    if (this.skipCount == 0) this.skipped();
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
      if (this.state == TYPE) {
        i = this.wholeHeaders(ptr, i, len);
        if (i >= len || this.state != TYPE) continue;
      }
      this.byte(load<u8>(ptr + <usize>i));
      i++;
    }
    return this.closed;
  }

  /**
   * The common case in one loop: packets whose fixed header lies whole in these bytes and settles
   * them (any packet passed over by count, a PUBLISH too small for the limit with no prefix to
   * check). Returns where it stopped: at a packet that needs more (its header split, a PUBLISH to
   * read, anything to refuse), which byte() then takes from its first byte, exactly as if this
   * loop had not run; or inside a packet that runs past these bytes, in SKIP.
   */
  private wholeHeaders(ptr: usize, from: u32, len: u32): u32 {
    const v5 = this.protocolVersion == 5;
    const checkPrefixes = this.checkPrefixes;
    const maxPayload = this.maxPayloadBytes;
    let i = from;
    while (i < len) {
      const b = load<u8>(ptr + <usize>i);
      const type = b >> 4;
      const flags = b & 0x0f;
      let qos: u8 = 0;
      if (type == PUBLISH) {
        qos = (flags >> 1) & 0x03;
        if (qos == 3) break;
      } else if (type == 0 || type == 1 || type == 15 || (type == SUBSCRIBE && checkPrefixes)) {
        break;
      } else if (flags != (type == 6 || type == 8 || type == 10 ? 2 : 0)) {
        break;
      }
      // The remaining length, when all of its 1 to 4 bytes are here.
      let n: u32 = 0;
      let at = i + 1;
      let complete = false;
      for (let k: u32 = 0; k < 4 && at < len; k++) {
        const c = load<u8>(ptr + <usize>at);
        at++;
        n |= (<u32>(c & 0x7f)) << (7 * k);
        if ((c & 0x80) == 0) {
          complete = true;
          break;
        }
      }
      if (!complete) break;
      if (type == PUBLISH) {
        const minHeader: u32 = 2 + (qos > 0 ? 2 : 0) + (v5 ? 1 : 0);
        if (n < minHeader || checkPrefixes || (maxPayload != 0 && n - minHeader > maxPayload)) break;
        this.publishes++;
      }
      if (n <= len - at) {
        i = at + n;
        continue;
      }
      // The packet runs on past these bytes: the rest of it is passed over by count.
      this.type = type;
      this.qos = qos;
      this.left = n;
      this.skipThen(n, THEN_END);
      return at;
    }
    return i;
  }

  private byte(b: u8): void {
    const state = this.state;
    if (state == TYPE) return this.typeByte(b);
    if (state == LENGTH) return this.lengthByte(b);
    if (state >= SUB_PACKET_ID) return this.subscribeByte(b);
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
      if (!this.checkPrefixes) return this.skipThen(this.topicLength, THEN_TOPIC);
      this.matcher.start();
      this.state = TOPIC;
      return;
    }
    if (state == TOPIC) {
      this.fieldAt++;
      if (!this.matcher.byte(b)) return this.topicNotAllowed();
      if (this.fieldAt == this.topicLength) return this.topicDone();
      // A prefix has matched: the rest of the topic is passed over unread.
      if (this.matcher.matched) this.skipThen(this.topicLength - this.fieldAt, THEN_TOPIC);
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
    if (this.type == SUBSCRIBE && this.checkPrefixes) {
      this.fieldAt = 0;
      this.state = SUB_PACKET_ID;
      return;
    }
    if (this.type != PUBLISH) return this.skipThen(this.left, THEN_END);
    // The smallest variable header: an empty topic (2), the packet id, MQTT 5's property length.
    const minHeader: u32 = 2 + (this.qos > 0 ? 2 : 0) + (this.protocolVersion == 5 ? 1 : 0);
    if (this.left < minHeader)
      return this.stop(StreamClose.Malformed, 'PUBLISH remaining length ' + this.left.toString() + ' is too short');
    // The common case: with no prefix to check and a packet too small to break the limit, the
    // fixed header settles it, and the rest is passed over by count.
    if (!this.checkPrefixes && (this.maxPayloadBytes == 0 || this.left - minHeader <= this.maxPayloadBytes))
      return this.skipThen(this.left, THEN_END);
    this.topicLength = 0;
    this.fieldAt = 0;
    this.state = TOPIC_LENGTH;
  }

  /**
   * The topic has passed. An empty one (MQTT 5: a topic alias stands for it) is not checked: the
   * alias's mapping was set by an earlier PUBLISH on this connection, whose topic was.
   */
  private topicDone(): void {
    if (this.topicLength > 0 && this.checkPrefixes && !this.matcher.matched) return this.topicNotAllowed();
    // The packet id and MQTT 5's property length must still fit.
    if (this.left < (this.qos > 0 ? 2 : 0) + (this.protocolVersion == 5 ? 1 : 0))
      return this.stop(StreamClose.Malformed, 'PUBLISH variable header runs past the packet');
    this.fieldAt = 0;
    if (this.qos > 0) this.state = PACKET_ID;
    else if (this.protocolVersion == 5) this.startPropertyLength();
    else this.payloadReached(this.left);
  }

  private topicNotAllowed(): void {
    this.stop(StreamClose.TopicNotAllowed, 'PUBLISH topic does not start with an allowed topic prefix');
  }

  /**
   * A byte of a SUBSCRIBE (read only with prefixes): packet id, MQTT 5 properties (skipped by
   * count), then filters, each a 2-byte length, its bytes and an options byte, to the packet's end.
   */
  private subscribeByte(b: u8): void {
    const state = this.state;
    if (this.left == 0) return this.stop(StreamClose.Malformed, 'SUBSCRIBE runs past the packet');
    this.left--;
    if (state == SUB_PACKET_ID) {
      if (++this.fieldAt < 2) return;
      this.fieldAt = 0;
      if (this.protocolVersion == 5) {
        this.varint = 0;
        this.varintBytes = 0;
        this.state = SUB_PROPERTY_LENGTH;
        return;
      }
      return this.filtersStart();
    }
    if (state == SUB_PROPERTY_LENGTH) {
      if (!this.varintByte(b)) return;
      if (this.varint > this.left) return this.stop(StreamClose.Malformed, 'SUBSCRIBE properties run past the packet');
      return this.skipThen(this.varint, THEN_FILTERS);
    }
    if (state == FILTER_LENGTH) {
      this.topicLength = (this.topicLength << 8) | b;
      if (++this.fieldAt < 2) return;
      // The filter and its options byte must fit.
      if (this.topicLength + 1 > this.left) return this.stop(StreamClose.Malformed, 'SUBSCRIBE topic filter length runs past the packet');
      if (this.topicLength == 0) return this.stop(StreamClose.Malformed, 'SUBSCRIBE with an empty topic filter');
      this.fieldAt = 0;
      this.matcher.start();
      this.state = FILTER;
      return;
    }
    if (state == FILTER) {
      this.fieldAt++;
      if (!this.matcher.byte(b)) return this.subscriptionNotAllowed();
      if (this.matcher.matched) return this.skipThen(this.topicLength - this.fieldAt, THEN_FILTER);
      // The filter ended before any prefix did.
      if (this.fieldAt == this.topicLength) return this.subscriptionNotAllowed();
      return;
    }
    // OPTIONS: its value is the broker's to check. Another filter follows, or the packet ends.
    this.nextFilter();
  }

  /** After the packet id (and properties): a SUBSCRIBE holds at least one filter. */
  private filtersStart(): void {
    if (this.left == 0) return this.stop(StreamClose.Malformed, 'SUBSCRIBE without a topic filter');
    this.nextFilter();
  }

  private nextFilter(): void {
    if (this.left == 0) {
      this.state = TYPE;
      return;
    }
    if (this.left < 3) return this.stop(StreamClose.Malformed, 'SUBSCRIBE topic filter runs past the packet');
    this.topicLength = 0;
    this.fieldAt = 0;
    this.state = FILTER_LENGTH;
  }

  private subscriptionNotAllowed(): void {
    this.stop(StreamClose.SubscriptionNotAllowed, 'SUBSCRIBE topic filter does not start with an allowed topic prefix');
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
    this.skipThen(this.left, THEN_END);
  }

  /** Passes over `n` bytes by count; then what `next` names follows. */
  private skipThen(n: u32, next: u8): void {
    this.skipNext = next;
    if (n == 0) return this.skipped();
    this.skipCount = n;
    this.state = SKIP;
  }

  private skipped(): void {
    const next = this.skipNext;
    if (next == THEN_END) this.state = TYPE;
    else if (next == THEN_TOPIC) this.topicDone();
    else if (next == THEN_FILTERS) this.filtersStart();
    else this.state = OPTIONS;
  }

  private stop(reason: StreamClose, detail: string): void {
    this.closed = reason;
    this.detail = detail;
    this.state = STOPPED;
  }
}
