// An incremental, bounded parser for the first packet of an MQTT connection (a CONNECT, in
// MQTT 3.1, 3.1.1 or 5). It buffers only that packet, never more than maxConnectBytes, and
// accepts its bytes split anywhere: feed() takes what it needs from each read and says when it
// has decided. Non-MQTT input is refused as early as the bytes allow (the first byte, the
// remaining length, then the protocol name), so an HTTP or TLS client is told apart at once.
import { Reader } from './reader';
import { Refusal } from './refusal';

export enum Verdict {
  NeedMore = 0,
  Accepted = 1,
  Refused = 2,
}

export class ConnectInfo {
  /** 3 (MQTT 3.1), 4 (3.1.1) or 5. */
  protocolVersion: u8 = 0;
  /** May be empty: MQTT 5 (and 3.1.1 with clean session) let the server assign one. */
  clientId: string = '';
  hasUsername: bool = false;
  username: string = '';
  hasPassword: bool = false;
  cleanStart: bool = false;
  keepAliveS: u16 = 0;
  willFlag: bool = false;
  willQos: u8 = 0;
  willRetain: bool = false;
  /** MQTT 5's Session Expiry Interval property; 0 when absent (and always for 3.x). */
  sessionExpiryS: u32 = 0;
  /** Fixed header included. */
  packetBytes: u32 = 0;
}

const CONNECT_FIRST_BYTE: u8 = 0x10;
// Protocol name length (2) + "MQTT" (4) + level + flags + keep-alive (2) + client id length (2).
const MIN_REMAINING: u32 = 12;

export class ConnectParser {
  verdict: Verdict = Verdict.NeedMore;
  refusal: Refusal = Refusal.None;
  /** Human-readable detail for the log line; names the field that broke. */
  detail: string = '';
  /** The protocol level once its byte has arrived behind a valid protocol name; else 0. */
  protocolLevel: u8 = 0;
  info: ConnectInfo | null = null;

  private header: Uint8Array = new Uint8Array(5);
  private headerLen: i32 = 0;
  private remainingLength: u32 = 0;
  private headerDone: bool = false;
  private body: Uint8Array | null = null;
  private filled: i32 = 0;
  /** How far the early checks of the variable header have looked. */
  private checked: i32 = 0;
  private nameLen: i32 = 0;

  constructor(
    public maxConnectBytes: u32,
    public maxClientIdBytes: u32,
  ) {}

  /** Bytes consumed so far (fixed header included). */
  consumed(): i32 {
    return this.headerLen + this.filled;
  }

  /** An upper bound on the bytes the parser can still use: reads past it are not copied. */
  wanted(): i32 {
    if (this.verdict != Verdict.NeedMore) return 0;
    if (!this.headerDone) return <i32>this.maxConnectBytes - this.headerLen;
    return <i32>this.remainingLength - this.filled;
  }

  feed(data: Uint8Array): Verdict {
    return this.feedRaw(data.dataStart, data.length);
  }

  /** Feeds `len` bytes at `ptr`; bytes beyond the first packet are ignored. */
  feedRaw(ptr: usize, len: i32): Verdict {
    let i = 0;
    while (this.verdict == Verdict.NeedMore && !this.headerDone && i < len) {
      this.headerByte(load<u8>(ptr + <usize>i));
      i++;
    }
    if (this.verdict != Verdict.NeedMore || !this.headerDone) return this.verdict;
    const body = this.body as Uint8Array;
    const take = min(len - i, body.length - this.filled);
    if (take > 0) {
      memory.copy(body.dataStart + <usize>this.filled, ptr + <usize>i, take);
      this.filled += take;
    }
    this.earlyChecks();
    if (this.verdict == Verdict.NeedMore && this.filled == body.length) this.parseBody();
    return this.verdict;
  }

  /** The peer closed its side: a CONNECT still incomplete now never will be. */
  endOfStream(): Verdict {
    if (this.verdict == Verdict.NeedMore)
      this.refuse(Refusal.Truncated, 'connection closed after ' + this.consumed().toString() + ' bytes of the first packet');
    return this.verdict;
  }

  /** Refuses from outside (the filter's first-packet deadline). */
  refuseExternally(refusal: Refusal, detail: string): void {
    if (this.verdict == Verdict.NeedMore) this.refuse(refusal, detail);
  }

  private headerByte(b: u8): void {
    if (this.headerLen == 0) {
      this.header[0] = b;
      this.headerLen = 1;
      // Even 0x11–0x1f (CONNECT with reserved flags, which the spec calls malformed) is treated as
      // not MQTT: 0x16 opens every TLS record, and such a peer must not be told an MQTT reason.
      if (b != CONNECT_FIRST_BYTE) this.refuse(Refusal.NotMqtt, 'first byte 0x' + b.toString(16) + ' is not an MQTT CONNECT');
      return;
    }
    this.header[this.headerLen++] = b;
    const shift = <u32>(7 * (this.headerLen - 2));
    this.remainingLength |= (<u32>(b & 0x7f)) << shift;
    if ((b & 0x80) != 0) {
      if (this.headerLen == 5) this.refuse(Refusal.BadRemainingLength, 'remaining length runs past 4 bytes');
      return;
    }
    this.headerDone = true;
    const total = <u64>this.headerLen + <u64>this.remainingLength;
    if (total > <u64>this.maxConnectBytes) {
      this.refuse(Refusal.TooLarge, 'CONNECT of ' + total.toString() + ' bytes exceeds maxConnectBytes ' + this.maxConnectBytes.toString());
      return;
    }
    if (this.remainingLength < MIN_REMAINING) {
      this.refuse(Refusal.Malformed, 'remaining length ' + this.remainingLength.toString() + ' is shorter than any CONNECT');
      return;
    }
    this.body = new Uint8Array(<i32>this.remainingLength);
  }

  /** Protocol name and level, checked byte by byte as they arrive. */
  private earlyChecks(): void {
    const body = this.body as Uint8Array;
    while (this.verdict == Verdict.NeedMore && this.checked < this.filled) {
      const at = this.checked++;
      const b = body[at];
      if (at == 0) {
        if (b != 0) return this.refuse(Refusal.NotMqtt, 'protocol name length is not 4 or 6');
      } else if (at == 1) {
        if (b != 4 && b != 6)
          return this.refuse(Refusal.NotMqtt, 'protocol name length ' + b.toString() + ' is not 4 (MQTT) or 6 (MQIsdp)');
        this.nameLen = b;
      } else if (at < 2 + this.nameLen) {
        const expected = this.nameLen == 4 ? 'MQTT' : 'MQIsdp';
        if (<i32>b != expected.charCodeAt(at - 2)) return this.refuse(Refusal.NotMqtt, 'protocol name is not ' + expected);
      } else if (at == 2 + this.nameLen) {
        const supported = this.nameLen == 4 ? b == 4 || b == 5 : b == 3;
        if (!supported) {
          this.protocolLevel = b;
          return this.refuse(
            Refusal.UnsupportedProtocolVersion,
            'protocol level ' + b.toString() + ' with name ' + (this.nameLen == 4 ? 'MQTT' : 'MQIsdp') + ' is not MQTT 3.1, 3.1.1 or 5',
          );
        }
        this.protocolLevel = b;
      } else {
        this.checked = this.filled;
      }
    }
  }

  private parseBody(): void {
    const body = this.body as Uint8Array;
    const r = new Reader(body.dataStart, 3 + this.nameLen, body.length);
    const level = this.protocolLevel;
    const info = new ConnectInfo();
    info.protocolVersion = level;
    info.packetBytes = <u32>(this.headerLen + body.length);

    const flags = r.u8();
    info.keepAliveS = r.u16();
    if (!r.ok) return this.refuse(Refusal.Malformed, 'variable header is cut short');
    if ((flags & 0x01) != 0) return this.refuse(Refusal.Malformed, 'reserved connect flag is set');
    info.cleanStart = (flags & 0x02) != 0;
    info.willFlag = (flags & 0x04) != 0;
    info.willQos = (flags >> 3) & 0x03;
    info.willRetain = (flags & 0x20) != 0;
    info.hasPassword = (flags & 0x40) != 0;
    info.hasUsername = (flags & 0x80) != 0;
    if (info.willQos == 3) return this.refuse(Refusal.Malformed, 'will QoS 3');
    if (!info.willFlag && (info.willQos != 0 || info.willRetain))
      return this.refuse(Refusal.Malformed, 'will QoS or retain set without the will flag');
    if (level < 5 && info.hasPassword && !info.hasUsername) return this.refuse(Refusal.Malformed, 'password flag without username flag');

    if (level == 5) {
      if (!this.connectProperties(r, info)) return;
    }

    info.clientId = r.utf8();
    if (!r.ok) return this.refuse(Refusal.Malformed, r.badUtf8 ? 'client id is not valid UTF-8' : 'client id is cut short');
    const idBytes = <u32>String.UTF8.byteLength(info.clientId);
    if (idBytes > this.maxClientIdBytes) {
      return this.refuse(
        Refusal.ClientIdInvalid,
        'client id of ' + idBytes.toString() + ' bytes exceeds maxClientIdBytes ' + this.maxClientIdBytes.toString(),
      );
    }
    if (idBytes == 0 && level == 3) return this.refuse(Refusal.ClientIdInvalid, 'MQTT 3.1 requires a client id');
    if (idBytes == 0 && level == 4 && !info.cleanStart)
      return this.refuse(Refusal.ClientIdInvalid, 'empty client id without clean session');

    if (info.willFlag) {
      if (level == 5 && !this.willProperties(r)) return;
      const topicLen = r.skipUtf8();
      if (!r.ok) return this.refuse(Refusal.Malformed, r.badUtf8 ? 'will topic is not valid UTF-8' : 'will topic is cut short');
      if (topicLen == 0) return this.refuse(Refusal.Malformed, 'will topic is empty');
      r.skipBinary();
      if (!r.ok) return this.refuse(Refusal.Malformed, 'will payload is cut short');
    }
    if (info.hasUsername) {
      info.username = r.utf8();
      if (!r.ok) return this.refuse(Refusal.Malformed, r.badUtf8 ? 'username is not valid UTF-8' : 'username is cut short');
    }
    if (info.hasPassword) {
      r.skipBinary();
      if (!r.ok) return this.refuse(Refusal.Malformed, 'password is cut short');
    }
    if (r.remaining() != 0) return this.refuse(Refusal.Malformed, r.remaining().toString() + ' bytes after the CONNECT payload');

    this.info = info;
    this.verdict = Verdict.Accepted;
    this.body = null;
  }

  /** MQTT 5 CONNECT properties: each known id at most once (User Property excepted). */
  private connectProperties(r: Reader, info: ConnectInfo): bool {
    const end = this.propertiesEnd(r, 'property length runs past the packet');
    if (end < 0) return false;
    while (r.pos < end) {
      const id = this.nextProperty(r, 'CONNECT property', 'property');
      if (id < 0) return false;
      let bad = '';
      switch (id) {
        case 0x11:
          info.sessionExpiryS = r.u32();
          break;
        case 0x21:
          if (r.u16() == 0) bad = 'Receive Maximum 0';
          break;
        case 0x27:
          if (r.u32() == 0) bad = 'Maximum Packet Size 0';
          break;
        case 0x22:
          r.u16();
          break;
        case 0x17:
        case 0x19:
          if (r.u8() > 1) bad = 'request flag property above 1';
          break;
        case 0x26:
          r.skipUtf8();
          r.skipUtf8();
          break;
        case 0x15:
          r.skipUtf8();
          break;
        case 0x16:
          r.skipBinary();
          break;
        default:
          this.refuse(Refusal.Malformed, 'property 0x' + id.toString(16) + ' is not a CONNECT property');
          return false;
      }
      if (!r.ok || r.pos > end) {
        this.refuse(Refusal.Malformed, 'CONNECT properties are cut short or not valid UTF-8');
        return false;
      }
      if (bad.length > 0) {
        this.refuse(Refusal.ProtocolError, bad);
        return false;
      }
    }
    return true;
  }

  private willProperties(r: Reader): bool {
    const end = this.propertiesEnd(r, 'will property length runs past the packet');
    if (end < 0) return false;
    while (r.pos < end) {
      const id = this.nextProperty(r, 'will property', 'will property');
      if (id < 0) return false;
      switch (id) {
        case 0x18:
        case 0x02:
          r.u32();
          break;
        case 0x01:
          if (r.u8() > 1) {
            this.refuse(Refusal.ProtocolError, 'Payload Format Indicator above 1');
            return false;
          }
          break;
        case 0x03:
        case 0x08:
          r.skipUtf8();
          break;
        case 0x09:
          r.skipBinary();
          break;
        case 0x26:
          r.skipUtf8();
          r.skipUtf8();
          break;
        default:
          this.refuse(Refusal.Malformed, 'property 0x' + id.toString(16) + ' is not a will property');
          return false;
      }
      if (!r.ok || r.pos > end) {
        this.refuse(Refusal.Malformed, 'will properties are cut short or not valid UTF-8');
        return false;
      }
    }
    return true;
  }

  /** Properties seen in the block being read: one bit per id (every id the spec defines is below 64). */
  private seenProperties: u64 = 0;

  /** Where a property block whose length starts at `r` ends, or -1 (refused: `tooLong`). */
  private propertiesEnd(r: Reader, tooLong: string): i32 {
    const len = <i32>r.varint();
    if (!r.ok || len > r.remaining()) {
      this.refuse(Refusal.Malformed, tooLong);
      return -1;
    }
    this.seenProperties = 0;
    return r.pos + len;
  }

  /**
   * The next property id of the block, or -1 (refused): an id of 64 or more is not `kind`,
   * and each id but User Property (0x26) may appear once (`twice` names it in the refusal).
   */
  private nextProperty(r: Reader, kind: string, twice: string): i32 {
    const id = r.u8();
    if (id >= 64) {
      this.refuse(Refusal.Malformed, 'property 0x' + id.toString(16) + ' is not a ' + kind);
      return -1;
    }
    if (id != 0x26) {
      const bit = (<u64>1) << id;
      if ((this.seenProperties & bit) != 0) {
        this.refuse(Refusal.ProtocolError, twice + ' 0x' + id.toString(16) + ' appears twice');
        return -1;
      }
      this.seenProperties |= bit;
    }
    return id;
  }

  private refuse(refusal: Refusal, detail: string): void {
    this.verdict = Verdict.Refused;
    this.refusal = refusal;
    this.detail = detail;
    this.body = null;
  }
}
