// A bounds-checked cursor over a complete packet. A read past the end returns zero and clears
// `ok`, so the parser checks once per field group instead of before every byte, and can never
// read outside the packet it buffered.

export class Reader {
  pos: i32;
  ok: bool = true;
  /** Set when a string was not well-formed UTF-8 (or held U+0000), which MQTT forbids. */
  badUtf8: bool = false;

  constructor(
    private base: usize,
    start: i32,
    public end: i32,
  ) {
    this.pos = start;
  }

  remaining(): i32 {
    return this.end - this.pos;
  }

  u8(): u8 {
    if (this.pos + 1 > this.end) return this.fail<u8>();
    const v = load<u8>(this.base + <usize>this.pos);
    this.pos++;
    return v;
  }

  u16(): u16 {
    if (this.pos + 2 > this.end) return this.fail<u16>();
    const v = ((<u16>load<u8>(this.base + <usize>this.pos)) << 8) | (<u16>load<u8>(this.base + <usize>this.pos + 1));
    this.pos += 2;
    return v;
  }

  u32(): u32 {
    if (this.pos + 4 > this.end) return this.fail<u32>();
    const p = this.base + <usize>this.pos;
    const v = ((<u32>load<u8>(p)) << 24) | ((<u32>load<u8>(p + 1)) << 16) | ((<u32>load<u8>(p + 2)) << 8) | (<u32>load<u8>(p + 3));
    this.pos += 4;
    return v;
  }

  /** MQTT 5 variable byte integer: at most 4 bytes. */
  varint(): u32 {
    let value: u32 = 0;
    for (let i = 0; i < 4; i++) {
      const b = this.u8();
      if (!this.ok) return 0;
      value |= (<u32>(b & 0x7f)) << (7 * i);
      if ((b & 0x80) == 0) return value;
    }
    return this.fail<u32>();
  }

  /** Skips a length-prefixed binary field; returns its length. */
  skipBinary(): i32 {
    const len = <i32>this.u16();
    if (!this.ok) return 0;
    if (this.pos + len > this.end) return this.fail<i32>();
    this.pos += len;
    return len;
  }

  /** A length-prefixed UTF-8 string, validated; "" and !ok when it does not fit. */
  utf8(): string {
    const len = <i32>this.u16();
    if (!this.ok) return '';
    if (this.pos + len > this.end) return this.fail<string>();
    const start = this.base + <usize>this.pos;
    this.pos += len;
    if (!validUtf8(start, len)) {
      this.badUtf8 = true;
      this.ok = false;
      return '';
    }
    return String.UTF8.decodeUnsafe(start, len);
  }

  /** Like utf8() but only checks the string; for fields the filter does not keep. */
  skipUtf8(): i32 {
    const len = <i32>this.u16();
    if (!this.ok) return 0;
    if (this.pos + len > this.end) return this.fail<i32>();
    const start = this.base + <usize>this.pos;
    this.pos += len;
    if (!validUtf8(start, len)) {
      this.badUtf8 = true;
      this.ok = false;
    }
    return len;
  }

  private fail<T>(): T {
    this.ok = false;
    this.pos = this.end;
    if (isReference<T>()) return changetype<T>('');
    return <T>0;
  }
}

/** RFC 3629 UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF), without U+0000. */
export function validUtf8(p: usize, len: i32): bool {
  let i = 0;
  while (i < len) {
    const b0 = <u32>load<u8>(p + <usize>i);
    if (b0 == 0) return false;
    if (b0 < 0x80) {
      i++;
      continue;
    }
    let need = 0;
    let min: u32 = 0;
    let cp: u32 = 0;
    if ((b0 & 0xe0) == 0xc0) {
      need = 1;
      min = 0x80;
      cp = b0 & 0x1f;
    } else if ((b0 & 0xf0) == 0xe0) {
      need = 2;
      min = 0x800;
      cp = b0 & 0x0f;
    } else if ((b0 & 0xf8) == 0xf0) {
      need = 3;
      min = 0x10000;
      cp = b0 & 0x07;
    } else {
      return false;
    }
    // The sequence's last byte is at i + need, which must be inside the string.
    if (i + need >= len) return false;
    for (let k = 1; k <= need; k++) {
      const b = <u32>load<u8>(p + <usize>(i + k));
      if ((b & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += need + 1;
  }
  return true;
}
