// PROXY protocol version 2: the 12-byte signature, version and command, family and
// transport, a 16-bit length, then the address block and TLVs (proxy-tlvs.ts). Pure.
import {
  NO_TLVS,
  proxyError,
  type ProxyDecodeResult,
  type ProxyEndpoint,
  type ProxyFamily,
  type ProxyHeader,
  type ProxyTransport,
} from './proxy-header';
import { decodeTlvs } from './proxy-tlvs';

export const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
/** Signature, version/command, family/transport and the length. */
export const V2_FIXED_BYTES = 16;

const FAMILIES: readonly ProxyFamily[] = ['unspec', 'inet4', 'inet6', 'unix'];
const TRANSPORTS: readonly ProxyTransport[] = ['unspec', 'stream', 'dgram'];
/** The address block's size for each family (two addresses, then two ports for IP). */
const ADDRESS_BYTES: Record<ProxyFamily, number> = { unspec: 0, inet4: 12, inet6: 36, unix: 216 };
const UNIX_PATH_BYTES = 108;

/** `input` starts with the v2 signature. */
export function decodeV2(input: Uint8Array, maxHeaderBytes: number): ProxyDecodeResult {
  if (input.length < V2_FIXED_BYTES) return { kind: 'incomplete', needBytes: V2_FIXED_BYTES };
  const version = input[12] >> 4;
  if (version !== 2) return proxyError('PROXY_BAD_VERSION', `version ${version} after the v2 signature; only 2 is defined`);
  const commandBits = input[12] & 0x0f;
  if (commandBits > 1) {
    return proxyError('PROXY_BAD_COMMAND', `command 0x${commandBits.toString(16)}; only 0x0 LOCAL and 0x1 PROXY are defined`);
  }
  const family = FAMILIES[input[13] >> 4];
  if (family === undefined) return proxyError('PROXY_BAD_FAMILY', `address family 0x${(input[13] >> 4).toString(16)} is not defined`);
  const transport = TRANSPORTS[input[13] & 0x0f];
  if (transport === undefined) {
    return proxyError('PROXY_BAD_TRANSPORT', `transport 0x${(input[13] & 0x0f).toString(16)} is not defined`);
  }
  const headerBytes = V2_FIXED_BYTES + ((input[14] << 8) | input[15]);
  if (headerBytes > maxHeaderBytes) {
    return proxyError(
      'PROXY_TOO_LARGE',
      `the v2 header says ${headerBytes} bytes, more than the ${maxHeaderBytes} allowed (--proxy-max-header-bytes)`,
    );
  }
  if (input.length < headerBytes) return { kind: 'incomplete', needBytes: headerBytes };

  const header = Buffer.from(input.buffer, input.byteOffset, headerBytes);
  const command = commandBits === 0 ? 'local' : 'proxy';
  // Family and transport must both be known to place the addresses; any other valid
  // combination falls back to UNSPEC, as the specification allows: nothing after the
  // fixed part can then be located, so it is skipped.
  const understood = family === 'unspec' || transport !== 'unspec';
  const addressBytes = understood ? ADDRESS_BYTES[family] : headerBytes - V2_FIXED_BYTES;
  const blockBytes = headerBytes - V2_FIXED_BYTES;
  if (blockBytes < addressBytes) {
    // LOCAL discards the address block, so a short one is no error; its TLVs are lost too.
    if (command === 'local') return done({ command, family, transport, headerBytes });
    return proxyError(
      'PROXY_TRUNCATED_ADDRESS',
      `${family} addresses need ${addressBytes} bytes but the header has ${blockBytes} after its fixed part`,
    );
  }
  const tlvs = decodeTlvs(header, V2_FIXED_BYTES + addressBytes);
  if (!tlvs.ok) return { kind: 'error', error: tlvs.error };
  // LOCAL: the connection's real endpoints apply, whatever the block says.
  const endpoints = command === 'proxy' && understood ? addresses(header, family) : null;
  return {
    kind: 'header',
    header: {
      version: 2,
      command,
      family,
      transport,
      source: endpoints?.[0] ?? null,
      destination: endpoints?.[1] ?? null,
      tlvs: tlvs.value,
      headerBytes,
    },
  };
}

function done(parts: Pick<ProxyHeader, 'command' | 'family' | 'transport' | 'headerBytes'>): ProxyDecodeResult {
  return { kind: 'header', header: { version: 2, ...parts, source: null, destination: null, tlvs: NO_TLVS } };
}

function addresses(header: Buffer, family: ProxyFamily): [ProxyEndpoint, ProxyEndpoint] | null {
  const at = V2_FIXED_BYTES;
  if (family === 'inet4') {
    const ip = (offset: number): string => Array.from(header.subarray(offset, offset + 4)).join('.');
    return [
      { address: ip(at), port: header.readUInt16BE(at + 8) },
      { address: ip(at + 4), port: header.readUInt16BE(at + 10) },
    ];
  }
  if (family === 'inet6') {
    return [
      { address: formatIPv6(header.subarray(at, at + 16)), port: header.readUInt16BE(at + 32) },
      { address: formatIPv6(header.subarray(at + 16, at + 32)), port: header.readUInt16BE(at + 34) },
    ];
  }
  if (family === 'unix') {
    const path = (offset: number): string => {
      const bytes = header.subarray(offset, offset + UNIX_PATH_BYTES);
      const nul = bytes.indexOf(0);
      return bytes.subarray(0, nul < 0 ? bytes.length : nul).toString('utf8');
    };
    return [
      { address: path(at), port: null },
      { address: path(at + UNIX_PATH_BYTES), port: null },
    ];
  }
  return null;
}

/**
 * 16 bytes as RFC 5952 text: lower-case hex groups without leading zeros, the longest run
 * of two or more zero groups (the first of equals) as "::", and an IPv4-mapped address as
 * ::ffff:a.b.c.d, the form Node gives a socket's remoteAddress.
 */
export function formatIPv6(bytes: Uint8Array): string {
  const groups = Array.from({ length: 8 }, (_, i) => (bytes[2 * i] << 8) | bytes[2 * i + 1]);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${Array.from(bytes.subarray(12, 16)).join('.')}`;
  }
  let bestAt = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestAt = i;
      bestLength = j - i;
    }
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestAt < 0) return hex.join(':');
  return `${hex.slice(0, bestAt).join(':')}::${hex.slice(bestAt + bestLength).join(':')}`;
}
