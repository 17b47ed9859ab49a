import { decodeProxyHeader, type ProxyDecodeResult, type ProxyHeader } from '../../tools/testbroker/proxy-protocol';
import { formatIPv6 } from '../../tools/testbroker/proxy-v2';
import { ipBytes, tlv, V2_SIGNATURE, v2Header } from '../../support/proxy-header';

const OPTIONS = { maxHeaderBytes: 4096, optional: false };
const decode = (bytes: Buffer, options = OPTIONS): ProxyDecodeResult => decodeProxyHeader(bytes, options);

function header(bytes: Buffer): ProxyHeader {
  const result = decode(bytes);
  if (result.kind !== 'header') throw new Error(`expected a header, got ${JSON.stringify(result)}`);
  return result.header;
}

function errorCode(bytes: Buffer, options = OPTIONS): string {
  const result = decode(bytes, options);
  return result.kind === 'error' ? result.error.code : `no error: ${result.kind}`;
}

describe('PROXY v2 header', () => {
  it('gives TCP over IPv4 addresses and ports, and ends exactly where the header does', () => {
    const bytes = v2Header({ source: { address: '192.0.2.10', port: 51234 }, destination: { address: '10.1.2.3', port: 1883 } });
    const payload = Buffer.from([0x10, 0x0c, 0x00, 0x04]);
    const h = header(Buffer.concat([bytes, payload]));
    expect(h).toMatchObject({
      version: 2,
      command: 'proxy',
      family: 'inet4',
      transport: 'stream',
      source: { address: '192.0.2.10', port: 51234 },
      destination: { address: '10.1.2.3', port: 1883 },
      headerBytes: 28,
    });
    expect(h.headerBytes).toBe(bytes.length);
    expect(h.tlvs).toEqual({
      alpn: null,
      authority: null,
      crc32c: null,
      noops: 0,
      uniqueId: null,
      ssl: null,
      netns: null,
      custom: [],
      other: [],
    });
  });

  it('gives TCP over IPv6 addresses in their canonical text form', () => {
    const h = header(v2Header({ source: { address: '2001:db8::7', port: 443 }, destination: { address: '::1', port: 8883 } }));
    expect(h).toMatchObject({
      family: 'inet6',
      transport: 'stream',
      source: { address: '2001:db8::7', port: 443 },
      destination: { address: '::1', port: 8883 },
      headerBytes: 16 + 36,
    });
  });

  it('accepts LOCAL with UNSPEC and no addresses, as Envoy sends for its own connections', () => {
    const bytes = Buffer.concat([V2_SIGNATURE, Buffer.from([0x20, 0x00, 0x00, 0x00])]);
    expect(header(bytes)).toEqual({
      version: 2,
      command: 'local',
      family: 'unspec',
      transport: 'unspec',
      source: null,
      destination: null,
      tlvs: expect.objectContaining({ authority: null }),
      headerBytes: 16,
    });
  });

  it('ignores the addresses of a LOCAL header but still reads its TLVs', () => {
    const h = header(
      v2Header({
        command: 'local',
        source: { address: '10.0.0.1', port: 1 },
        destination: { address: '10.0.0.2', port: 2 },
        tlvs: [tlv(0x02, 'broker.example')],
      }),
    );
    expect(h).toMatchObject({ command: 'local', family: 'inet4', source: null, destination: null });
    expect(h.tlvs.authority).toBe('broker.example');
  });

  it('accepts a LOCAL header whose block is shorter than its family needs, skipping the block', () => {
    const h = header(v2Header({ command: 'local', familyTransport: 0x11, addressBlock: Buffer.alloc(5) }));
    expect(h).toMatchObject({ command: 'local', family: 'inet4', source: null, headerBytes: 21 });
  });

  it('reads TLVs after UNSPEC with no address bytes', () => {
    expect(header(v2Header({ tlvs: [tlv(0x01, 'mqtt')] })).tlvs.alpn).toBe('mqtt');
  });

  it('gives UNIX socket paths without ports', () => {
    const path = (p: string): Buffer => Buffer.concat([Buffer.from(p), Buffer.alloc(108 - p.length)]);
    const h = header(
      v2Header({ familyTransport: 0x31, addressBlock: Buffer.concat([path('/run/client.sock'), path('/run/broker.sock')]) }),
    );
    expect(h).toMatchObject({
      family: 'unix',
      transport: 'stream',
      source: { address: '/run/client.sock', port: null },
      destination: { address: '/run/broker.sock', port: null },
    });
  });

  it('falls back to UNSPEC for a known family with an UNSPEC transport: no addresses, the block skipped', () => {
    const h = header(v2Header({ familyTransport: 0x10, addressBlock: Buffer.alloc(12), tlvs: [tlv(0x02, 'hidden')] }));
    expect(h).toMatchObject({ family: 'inet4', transport: 'unspec', source: null, destination: null, headerBytes: 16 + 12 + 9 });
    expect(h.tlvs.authority).toBeNull();
  });

  it('refuses a version other than 2 after the signature', () => {
    expect(errorCode(v2Header({ versionCommand: 0x11 }))).toBe('PROXY_BAD_VERSION');
  });

  it('refuses commands other than LOCAL and PROXY', () => {
    expect(errorCode(v2Header({ versionCommand: 0x22 }))).toBe('PROXY_BAD_COMMAND');
  });

  it('refuses an undefined family or transport', () => {
    expect(errorCode(v2Header({ familyTransport: 0x41 }))).toBe('PROXY_BAD_FAMILY');
    expect(errorCode(v2Header({ familyTransport: 0x13 }))).toBe('PROXY_BAD_TRANSPORT');
  });

  it('refuses a PROXY header whose block is too short for its addresses', () => {
    const result = decode(v2Header({ familyTransport: 0x21, addressBlock: Buffer.alloc(12) }));
    expect(result).toEqual({
      kind: 'error',
      error: { code: 'PROXY_TRUNCATED_ADDRESS', message: 'inet6 addresses need 36 bytes but the header has 12 after its fixed part' },
    });
  });

  it('refuses a header longer than the limit as soon as its length field arrives', () => {
    const fixed = v2Header({ length: 5000 }).subarray(0, 16);
    const result = decode(fixed);
    expect(result.kind === 'error' && result.error).toEqual({
      code: 'PROXY_TOO_LARGE',
      message: 'the v2 header says 5016 bytes, more than the 4096 allowed (--proxy-max-header-bytes)',
    });
  });

  it('accepts a header of exactly the limit', () => {
    const bytes = v2Header({ tlvs: [tlv(0x04, Buffer.alloc(4096 - 16 - 3))] });
    expect(bytes.length).toBe(4096);
    expect(header(bytes).tlvs.noops).toBe(1);
    expect(errorCode(bytes, { maxHeaderBytes: 4095, optional: false })).toBe('PROXY_TOO_LARGE');
  });

  it('asks for the fixed part, then for the whole header, before deciding', () => {
    const bytes = v2Header({ source: { address: '10.0.0.1', port: 1 }, destination: { address: '10.0.0.2', port: 2 } });
    expect(decode(bytes.subarray(0, 13))).toEqual({ kind: 'incomplete', needBytes: 16 });
    expect(decode(bytes.subarray(0, 16))).toEqual({ kind: 'incomplete', needBytes: 28 });
    expect(decode(bytes.subarray(0, 27))).toEqual({ kind: 'incomplete', needBytes: 28 });
    expect(decode(bytes).kind).toBe('header');
  });
});

describe('formatIPv6', () => {
  it.each([
    ['2001:db8::1', '2001:db8::1'],
    ['::', '::'],
    ['::1', '::1'],
    ['1::', '1::'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['fe80::abcd:ef01', 'fe80::abcd:ef01'],
    ['::ffff:a00:1', '::ffff:10.0.0.1'],
  ])('writes %s as %s (RFC 5952)', (input, expected) => {
    expect(formatIPv6(ipBytes(input))).toBe(expected);
  });
});
