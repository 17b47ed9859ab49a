// What a PROXY protocol header says, as plain JSON-able values, and the coded errors of
// its decoders (proxy-v1.ts, proxy-v2.ts, proxy-tlvs.ts). Types and constants, no parsing.

export type ProxyCommand = 'proxy' | 'local';
export type ProxyFamily = 'unspec' | 'inet4' | 'inet6' | 'unix';
export type ProxyTransport = 'unspec' | 'stream' | 'dgram';

/** An address as the header gave it; `port` is null for UNIX sockets. */
export interface ProxyEndpoint {
  readonly address: string;
  readonly port: number | null;
}

/** A TLV kept as its bytes (custom 0xE0–0xEF and unregistered types). */
export interface ProxyRawTlv {
  readonly type: number;
  readonly hex: string;
  /** The bytes read as UTF-8 (invalid sequences become U+FFFD): custom TLVs are usually text. */
  readonly utf8: string;
}

/** PP2_TYPE_SSL (0x20): how the client reached the proxy. */
export interface ProxySsl {
  /** The raw client bit field. */
  readonly client: number;
  /** PP2_CLIENT_SSL: the client connected over TLS. */
  readonly tls: boolean;
  /** PP2_CLIENT_CERT_CONN: it presented a certificate on this connection. */
  readonly certInConnection: boolean;
  /** PP2_CLIENT_CERT_SESS: it presented one at least once in this TLS session. */
  readonly certInSession: boolean;
  /** The raw verify field: 0 when a certificate was presented and verified. */
  readonly verify: number;
  readonly verified: boolean;
  readonly version: string | null;
  readonly cn: string | null;
  readonly cipher: string | null;
  readonly sigAlg: string | null;
  readonly keyAlg: string | null;
  /** Sub-TLVs of other types. */
  readonly other: readonly ProxyRawTlv[];
}

export interface ProxyTlvs {
  /** 0x01, read as UTF-8 (it is an ALPN protocol id such as "mqtt"). */
  readonly alpn: string | null;
  /** 0x02: the host name the client asked for, the TLS SNI. */
  readonly authority: string | null;
  /** 0x03: the checksum, present only if it matched (a mismatch refuses the header). */
  readonly crc32c: number | null;
  /** How many 0x04 NOOP TLVs (padding) there were. */
  readonly noops: number;
  /** 0x05, as hex: an opaque id of the downstream connection, at most 128 bytes. */
  readonly uniqueId: string | null;
  readonly ssl: ProxySsl | null;
  /** 0x30: the network namespace name. */
  readonly netns: string | null;
  /** 0xE0–0xEF in the order sent, repeats kept. */
  readonly custom: readonly ProxyRawTlv[];
  /** Any other type (experimental 0xF0–0xF7, future 0xF8–0xFF, unassigned). */
  readonly other: readonly ProxyRawTlv[];
}

export interface ProxyHeader {
  readonly version: 1 | 2;
  readonly command: ProxyCommand;
  readonly family: ProxyFamily;
  readonly transport: ProxyTransport;
  /** Null for LOCAL, UNSPEC and v1 UNKNOWN: the connection's own endpoints apply. */
  readonly source: ProxyEndpoint | null;
  readonly destination: ProxyEndpoint | null;
  /** v1 has none; all empty then. */
  readonly tlvs: ProxyTlvs;
  /** Bytes the header took on the wire, signature included. */
  readonly headerBytes: number;
}

export const PROXY_ERROR_CODES = [
  'PROXY_BAD_SIGNATURE',
  'PROXY_BAD_VERSION',
  'PROXY_BAD_COMMAND',
  'PROXY_BAD_FAMILY',
  'PROXY_BAD_TRANSPORT',
  'PROXY_TOO_LARGE',
  'PROXY_TRUNCATED_ADDRESS',
  'PROXY_TRUNCATED_TLV',
  'PROXY_BAD_TLV',
  'PROXY_BAD_CHECKSUM',
  'PROXY_BAD_V1',
  'PROXY_TIMEOUT',
  'PROXY_INCOMPLETE',
] as const;
export type ProxyErrorCode = (typeof PROXY_ERROR_CODES)[number];

export interface ProxyError {
  readonly code: ProxyErrorCode;
  readonly message: string;
}

export interface ProxyDecodeOptions {
  /** A header longer than this is refused (PROXY_TOO_LARGE) as soon as its length is known. */
  readonly maxHeaderBytes: number;
  /** Input that does not begin with either signature is `absent` instead of PROXY_BAD_SIGNATURE. */
  readonly optional: boolean;
}

export type ProxyDecodeResult =
  /** Try again once the input holds at least `needBytes`. */
  | { readonly kind: 'incomplete'; readonly needBytes: number }
  | { readonly kind: 'header'; readonly header: ProxyHeader }
  /** No PROXY header (optional only): every byte belongs to the next protocol. */
  | { readonly kind: 'absent' }
  | { readonly kind: 'error'; readonly error: ProxyError };

/** The longest v1 line, CRLF included (the specification's worst case, UNKNOWN with IPv6). */
export const V1_MAX_BYTES = 107;

export const proxyError = (code: ProxyErrorCode, message: string): ProxyDecodeResult => ({
  kind: 'error',
  error: { code, message },
});

/** Shared by every header without TLVs (v1, a skipped block), so frozen. */
export const NO_TLVS: ProxyTlvs = Object.freeze({
  alpn: null,
  authority: null,
  crc32c: null,
  noops: 0,
  uniqueId: null,
  ssl: null,
  netns: null,
  custom: Object.freeze([]),
  other: Object.freeze([]),
});
