// PROXY protocol version 1: one US-ASCII line, "PROXY TCP4|TCP6 src dst sport dport\r\n"
// or "PROXY UNKNOWN…\r\n", at most 107 bytes. Pure.
import { isIPv6 } from 'node:net';
import { NO_TLVS, proxyError, V1_MAX_BYTES, type ProxyDecodeResult } from './proxy-header';

export const V1_SIGNATURE = Buffer.from('PROXY ', 'latin1');

const CR = 0x0d;
const LF = 0x0a;
/** Decimal without leading zeros, as the specification asks for ports and IPv4 octets. */
const DECIMAL = /^(0|[1-9]\d*)$/;

/** `input` starts with "PROXY ". */
export function decodeV1(input: Uint8Array): ProxyDecodeResult {
  const limit = Math.min(input.length, V1_MAX_BYTES);
  let end = -1;
  for (let i = V1_SIGNATURE.length; i < limit; i++) {
    const byte = input[i];
    if (byte === CR) {
      if (i + 1 >= input.length) return { kind: 'incomplete', needBytes: i + 2 };
      if (input[i + 1] !== LF) return bad('a CR not followed by LF');
      end = i;
      break;
    }
    if (byte === LF) return bad('an LF without CR');
    if (byte < 0x20 || byte > 0x7e) return bad(`a byte 0x${byte.toString(16).padStart(2, '0')} that is not printable US-ASCII`);
  }
  if (end < 0) {
    if (input.length < V1_MAX_BYTES) return { kind: 'incomplete', needBytes: input.length + 1 };
    return proxyError('PROXY_TOO_LARGE', `the v1 line has no CRLF within its maximum of ${V1_MAX_BYTES} bytes`);
  }
  const headerBytes = end + 2;
  const fields = Buffer.from(input.subarray(0, end)).toString('latin1').split(' ');
  const common = { version: 1 as const, command: 'proxy' as const, tlvs: NO_TLVS, headerBytes };
  // UNKNOWN: the receiver must ignore the rest of the line and use the real endpoints.
  if (fields[1] === 'UNKNOWN') {
    return { kind: 'header', header: { ...common, family: 'unspec', transport: 'unspec', source: null, destination: null } };
  }
  if (fields[1] !== 'TCP4' && fields[1] !== 'TCP6') return bad(`protocol "${fields[1]}" (expected TCP4, TCP6 or UNKNOWN)`);
  if (fields.length !== 6) return bad(`${fields.length - 1} fields after "PROXY" (expected 5, each after exactly one space)`);
  const [, protocol, src, dst, srcPort, dstPort] = fields;
  // A zone (fe80::1%eth0) is not part of the wire format, though Node's isIPv6 allows it.
  const valid = protocol === 'TCP4' ? isDottedQuad : (a: string): boolean => isIPv6(a) && !a.includes('%');
  for (const address of [src, dst]) if (!valid(address)) return bad(`${protocol} address "${address}"`);
  const ports = [srcPort, dstPort].map(port);
  if (ports[0] === undefined || ports[1] === undefined) return bad(`port "${ports[0] === undefined ? srcPort : dstPort}"`);
  return {
    kind: 'header',
    header: {
      ...common,
      family: protocol === 'TCP4' ? 'inet4' : 'inet6',
      transport: 'stream',
      source: { address: src, port: ports[0] },
      destination: { address: dst, port: ports[1] },
    },
  };
}

function bad(what: string): ProxyDecodeResult {
  return proxyError('PROXY_BAD_V1', `malformed PROXY v1 line: ${what}`);
}

function isDottedQuad(text: string): boolean {
  const parts = text.split('.');
  return parts.length === 4 && parts.every((p) => DECIMAL.test(p) && p.length <= 3 && Number(p) <= 255);
}

function port(text: string): number | undefined {
  return DECIMAL.test(text) && text.length <= 5 && Number(text) <= 65535 ? Number(text) : undefined;
}
