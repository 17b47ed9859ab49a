// Hand-built PROXY protocol headers for tests, written from the specification's layout
// independently of the test broker's decoder: v2 with any TLVs (a CRC32C computed over the
// result if asked), and v1 lines. Every field can be set wrong on purpose.
import { crc32c } from '../tools/testbroker/proxy-crc32c';

export const V2_SIGNATURE = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');

export interface V2Spec {
  /** Default 'proxy'. */
  readonly command?: 'proxy' | 'local';
  /** Addresses; their family byte follows from the first one. Absent: UNSPEC and no addresses. */
  readonly source?: { readonly address: string; readonly port: number };
  readonly destination?: { readonly address: string; readonly port: number };
  readonly tlvs?: readonly Buffer[];
  /** Append a CRC32C TLV and fill it in (or with `badCrc`, fill it in wrong). */
  readonly crc?: boolean;
  readonly badCrc?: boolean;
  /** Overrides of the raw bytes 13, 14 and of the length field. */
  readonly versionCommand?: number;
  readonly familyTransport?: number;
  readonly length?: number;
  /** Raw bytes between the fixed part and the TLVs instead of the addresses. */
  readonly addressBlock?: Buffer;
}

export function tlv(type: number, value: Buffer | string): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  const head = Buffer.alloc(3);
  head[0] = type;
  head.writeUInt16BE(bytes.length, 1);
  return Buffer.concat([head, bytes]);
}

/** PP2_TYPE_SSL: client bit field, 32-bit verify, then sub-TLVs. */
export function sslTlv(client: number, verify: number, subs: readonly Buffer[] = []): Buffer {
  const fixed = Buffer.alloc(5);
  fixed[0] = client;
  fixed.writeUInt32BE(verify, 1);
  return tlv(0x20, Buffer.concat([fixed, ...subs]));
}

export function v2Header(spec: V2Spec = {}): Buffer {
  const command = spec.command === 'local' ? 0x0 : 0x1;
  const family = spec.source === undefined ? 0x00 : spec.source.address.includes(':') ? 0x21 : 0x11;
  const addresses = spec.addressBlock ?? (spec.source && spec.destination ? addressBlock(spec.source, spec.destination) : Buffer.alloc(0));
  const tlvs = [...(spec.tlvs ?? [])];
  if (spec.crc || spec.badCrc) tlvs.push(tlv(0x03, Buffer.alloc(4)));
  const body = Buffer.concat([addresses, ...tlvs]);
  const fixed = Buffer.alloc(4);
  fixed[0] = spec.versionCommand ?? 0x20 | command;
  fixed[1] = spec.familyTransport ?? family;
  fixed.writeUInt16BE(spec.length ?? body.length, 2);
  const header = Buffer.concat([V2_SIGNATURE, fixed, body]);
  if (spec.crc || spec.badCrc) {
    const at = header.length - 4;
    header.writeUInt32BE((crc32c(header) ^ (spec.badCrc ? 1 : 0)) >>> 0, at);
  }
  return header;
}

export function v1Header(line: string): Buffer {
  return Buffer.from(line, 'latin1');
}

function addressBlock(source: { address: string; port: number }, destination: { address: string; port: number }): Buffer {
  const ports = Buffer.alloc(4);
  ports.writeUInt16BE(source.port, 0);
  ports.writeUInt16BE(destination.port, 2);
  return Buffer.concat([ipBytes(source.address), ipBytes(destination.address), ports]);
}

/** Dotted quad → 4 bytes; IPv6 text (one "::" allowed, no embedded IPv4) → 16 bytes. */
export function ipBytes(address: string): Buffer {
  if (!address.includes(':')) return Buffer.from(address.split('.').map(Number));
  const [head, tail] = address.includes('::') ? address.split('::') : [address, undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  const bytes = Buffer.alloc(16);
  groups.forEach((g, i) => bytes.writeUInt16BE(parseInt(g, 16), 2 * i));
  return bytes;
}
