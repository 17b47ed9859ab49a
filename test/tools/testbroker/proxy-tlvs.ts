// The TLVs (type, 16-bit length, value) after a PROXY v2 header's addresses, and the SSL
// TLV's own sub-TLVs. Pure. A repeated single-valued TLV (ALPN, AUTHORITY, …) keeps the
// first: the specification does not say, and a sender that repeats one is what a test
// should see, not silently the last.
import { crc32c } from './proxy-crc32c';
import { NO_TLVS, type ProxyError, type ProxyErrorCode, type ProxyRawTlv, type ProxySsl, type ProxyTlvs } from './proxy-header';

export const TLV = {
  ALPN: 0x01,
  AUTHORITY: 0x02,
  CRC32C: 0x03,
  NOOP: 0x04,
  UNIQUE_ID: 0x05,
  SSL: 0x20,
  SSL_VERSION: 0x21,
  SSL_CN: 0x22,
  SSL_CIPHER: 0x23,
  SSL_SIG_ALG: 0x24,
  SSL_KEY_ALG: 0x25,
  NETNS: 0x30,
  MIN_CUSTOM: 0xe0,
  MAX_CUSTOM: 0xef,
} as const;

export const SSL_CLIENT = { SSL: 0x01, CERT_CONN: 0x02, CERT_SESS: 0x04 } as const;

/** The specification's bound on PP2_TYPE_UNIQUE_ID. */
export const MAX_UNIQUE_ID_BYTES = 128;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Parsed<T> = { ok: true; value: T } | { ok: false; error: ProxyError };

interface Tlv {
  readonly type: number;
  readonly value: Buffer;
  /** Where the value starts in the header. */
  readonly at: number;
}

/**
 * The TLVs in header[start, end). The checksum TLV is verified over the whole header
 * (`header`, exactly the header's bytes) with its own value zeroed.
 */
export function decodeTlvs(header: Buffer, start: number): Parsed<ProxyTlvs> {
  const list = splitTlvs(header, start, header.length, 'TLV');
  if (!list.ok) return list;
  const tlvs: Mutable<ProxyTlvs> = { ...NO_TLVS, custom: [], other: [] };
  const custom: ProxyRawTlv[] = [];
  const other: ProxyRawTlv[] = [];
  for (const { type, value, at } of list.value) {
    if (type === TLV.ALPN) tlvs.alpn ??= value.toString('utf8');
    else if (type === TLV.AUTHORITY) tlvs.authority ??= value.toString('utf8');
    else if (type === TLV.NOOP) tlvs.noops += 1;
    else if (type === TLV.NETNS) tlvs.netns ??= value.toString('utf8');
    else if (type === TLV.UNIQUE_ID) {
      if (value.length > MAX_UNIQUE_ID_BYTES) {
        return bad('PROXY_BAD_TLV', `UNIQUE_ID (0x05) at byte ${at} has ${value.length} bytes, more than ${MAX_UNIQUE_ID_BYTES}`);
      }
      tlvs.uniqueId ??= value.toString('hex');
    } else if (type === TLV.CRC32C) {
      if (tlvs.crc32c !== null) continue;
      const checked = verifyCrc(header, value, at);
      if (!checked.ok) return checked;
      tlvs.crc32c = checked.value;
    } else if (type === TLV.SSL) {
      if (tlvs.ssl !== null) continue;
      const ssl = decodeSsl(header, value, at);
      if (!ssl.ok) return ssl;
      tlvs.ssl = ssl.value;
    } else if (type >= TLV.MIN_CUSTOM && type <= TLV.MAX_CUSTOM) custom.push(raw(type, value));
    else other.push(raw(type, value));
  }
  tlvs.custom = custom;
  tlvs.other = other;
  return { ok: true, value: tlvs };
}

function verifyCrc(header: Buffer, value: Buffer, at: number): Parsed<number> {
  if (value.length !== 4) return bad('PROXY_BAD_TLV', `CRC32C (0x03) at byte ${at} has ${value.length} bytes, not 4`);
  const sent = value.readUInt32BE(0);
  const zeroed = Buffer.from(header);
  zeroed.fill(0, at, at + 4);
  const computed = crc32c(zeroed);
  if (computed !== sent) {
    return bad('PROXY_BAD_CHECKSUM', `CRC32C says 0x${hex32(sent)} but the header's checksum is 0x${hex32(computed)}`);
  }
  return { ok: true, value: sent };
}

function decodeSsl(header: Buffer, value: Buffer, at: number): Parsed<ProxySsl> {
  if (value.length < 5) {
    return bad('PROXY_TRUNCATED_TLV', `SSL (0x20) at byte ${at} has ${value.length} bytes, fewer than its 5-byte client and verify fields`);
  }
  const subs = splitTlvs(header, at + 5, at + value.length, 'SSL sub-TLV');
  if (!subs.ok) return subs;
  const client = value[0];
  const verify = value.readUInt32BE(1);
  const ssl: Mutable<ProxySsl> = {
    client,
    tls: (client & SSL_CLIENT.SSL) !== 0,
    certInConnection: (client & SSL_CLIENT.CERT_CONN) !== 0,
    certInSession: (client & SSL_CLIENT.CERT_SESS) !== 0,
    verify,
    verified: verify === 0,
    version: null,
    cn: null,
    cipher: null,
    sigAlg: null,
    keyAlg: null,
    other: [],
  };
  const other: ProxyRawTlv[] = [];
  for (const sub of subs.value) {
    const text = sub.value.toString('utf8');
    if (sub.type === TLV.SSL_VERSION) ssl.version ??= text;
    else if (sub.type === TLV.SSL_CN) ssl.cn ??= text;
    else if (sub.type === TLV.SSL_CIPHER) ssl.cipher ??= text;
    else if (sub.type === TLV.SSL_SIG_ALG) ssl.sigAlg ??= text;
    else if (sub.type === TLV.SSL_KEY_ALG) ssl.keyAlg ??= text;
    else other.push(raw(sub.type, sub.value));
  }
  ssl.other = other;
  return { ok: true, value: ssl };
}

/** Splits bytes[start, end) into TLVs; every one must fit exactly. */
function splitTlvs(bytes: Buffer, start: number, end: number, what: string): Parsed<Tlv[]> {
  const list: Tlv[] = [];
  let pos = start;
  while (pos < end) {
    if (end - pos < 3) {
      return bad('PROXY_TRUNCATED_TLV', `${end - pos} byte(s) at byte ${pos}, too few for a ${what}'s type and length`);
    }
    const type = bytes[pos];
    const length = bytes.readUInt16BE(pos + 1);
    if (pos + 3 + length > end) {
      return bad(
        'PROXY_TRUNCATED_TLV',
        `${what} 0x${type.toString(16).padStart(2, '0')} at byte ${pos} says ${length} bytes but ${end - pos - 3} remain`,
      );
    }
    list.push({ type, value: bytes.subarray(pos + 3, pos + 3 + length), at: pos + 3 });
    pos += 3 + length;
  }
  return { ok: true, value: list };
}

function raw(type: number, value: Buffer): ProxyRawTlv {
  return { type, hex: value.toString('hex'), utf8: value.toString('utf8') };
}

function bad(code: ProxyErrorCode, message: string): { ok: false; error: ProxyError } {
  return { ok: false, error: { code, message } };
}

const hex32 = (n: number): string => n.toString(16).padStart(8, '0');
