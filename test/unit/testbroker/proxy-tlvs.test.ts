import { crc32c } from '../../tools/testbroker/proxy-crc32c';
import { decodeProxyHeader, type ProxyDecodeResult, type ProxyTlvs } from '../../tools/testbroker/proxy-protocol';
import { sslTlv, tlv, v2Header } from '../../support/proxy-header';

const OPTIONS = { maxHeaderBytes: 4096, optional: false };
const ADDRESSES = { source: { address: '198.51.100.7', port: 40000 }, destination: { address: '10.0.0.5', port: 1883 } };

function tlvsOf(tlvs: Buffer[], extra: { crc?: boolean } = {}): ProxyTlvs {
  const result = decodeProxyHeader(v2Header({ ...ADDRESSES, tlvs, ...extra }), OPTIONS);
  if (result.kind !== 'header') throw new Error(`expected a header, got ${JSON.stringify(result)}`);
  return result.header.tlvs;
}

function refused(tlvs: Buffer[], extra: { badCrc?: boolean } = {}): ProxyDecodeResult {
  return decodeProxyHeader(v2Header({ ...ADDRESSES, tlvs, ...extra }), OPTIONS);
}

describe('PROXY v2 TLVs', () => {
  it('reads ALPN, AUTHORITY (the SNI), UNIQUE_ID as hex, NETNS, and counts NOOP padding', () => {
    const tlvs = tlvsOf([
      tlv(0x01, 'mqtt'),
      tlv(0x04, Buffer.alloc(5)),
      tlv(0x02, 'broker-1.mqtt.example.com'),
      tlv(0x05, Buffer.from('00ff10ab', 'hex')),
      tlv(0x04, Buffer.alloc(0)),
      tlv(0x30, 'blue'),
    ]);
    expect(tlvs).toEqual({
      alpn: 'mqtt',
      authority: 'broker-1.mqtt.example.com',
      crc32c: null,
      noops: 2,
      uniqueId: '00ff10ab',
      ssl: null,
      netns: 'blue',
      custom: [],
      other: [],
    });
  });

  it('keeps custom 0xE0–0xEF TLVs in order, repeats included, as hex and UTF-8', () => {
    const tlvs = tlvsOf([tlv(0xe0, 'tenant=a'), tlv(0xef, Buffer.from([0xff, 0x41])), tlv(0xe0, 'zone=ü')]);
    expect(tlvs.custom).toEqual([
      { type: 0xe0, hex: Buffer.from('tenant=a').toString('hex'), utf8: 'tenant=a' },
      { type: 0xef, hex: 'ff41', utf8: '\ufffdA' },
      { type: 0xe0, hex: Buffer.from('zone=ü').toString('hex'), utf8: 'zone=ü' },
    ]);
  });

  it('keeps experimental, future and unassigned types apart from the custom ones', () => {
    const tlvs = tlvsOf([tlv(0xf0, 'x'), tlv(0xff, ''), tlv(0x06, 'y')]);
    expect(tlvs.other.map((t) => t.type)).toEqual([0xf0, 0xff, 0x06]);
    expect(tlvs.custom).toEqual([]);
  });

  it('keeps the first of a repeated single-valued TLV', () => {
    expect(tlvsOf([tlv(0x02, 'first'), tlv(0x02, 'second')]).authority).toBe('first');
  });

  it('decodes SSL: client flags, a verified certificate and every sub-TLV', () => {
    const tlvs = tlvsOf([
      sslTlv(0x07, 0, [
        tlv(0x21, 'TLSv1.3'),
        tlv(0x22, 'device-42'),
        tlv(0x23, 'TLS_AES_128_GCM_SHA256'),
        tlv(0x24, 'RSA-SHA256'),
        tlv(0x25, 'RSA2048'),
        tlv(0x2a, 'later'),
      ]),
    ]);
    expect(tlvs.ssl).toEqual({
      client: 7,
      tls: true,
      certInConnection: true,
      certInSession: true,
      verify: 0,
      verified: true,
      version: 'TLSv1.3',
      cn: 'device-42',
      cipher: 'TLS_AES_128_GCM_SHA256',
      sigAlg: 'RSA-SHA256',
      keyAlg: 'RSA2048',
      other: [{ type: 0x2a, hex: Buffer.from('later').toString('hex'), utf8: 'later' }],
    });
  });

  it('reports TLS without a client certificate as not verified', () => {
    const tlvs = tlvsOf([sslTlv(0x01, 1, [tlv(0x21, 'TLSv1.2')])]);
    expect(tlvs.ssl).toMatchObject({ tls: true, certInConnection: false, certInSession: false, verify: 1, verified: false, cn: null });
  });

  it('refuses an SSL TLV shorter than its client and verify fields', () => {
    expect(refused([tlv(0x20, Buffer.from([1, 0, 0]))])).toMatchObject({ error: { code: 'PROXY_TRUNCATED_TLV' } });
  });

  it('refuses an SSL sub-TLV that runs past the SSL TLV', () => {
    const inner = Buffer.concat([Buffer.from([0x01, 0, 0, 0, 0]), Buffer.from([0x22, 0x00, 0x09]), Buffer.from('abc')]);
    expect(refused([tlv(0x20, inner), tlv(0x02, 'after')])).toMatchObject({
      error: { code: 'PROXY_TRUNCATED_TLV', message: expect.stringContaining('SSL sub-TLV 0x22') },
    });
  });

  it('refuses a TLV whose length runs past the header', () => {
    const cut = tlv(0x02, 'broker.example').subarray(0, 8);
    expect(refused([cut])).toEqual({
      kind: 'error',
      error: { code: 'PROXY_TRUNCATED_TLV', message: 'TLV 0x02 at byte 28 says 14 bytes but 5 remain' },
    });
  });

  it('refuses one or two stray bytes after the last TLV', () => {
    expect(refused([tlv(0x01, 'mqtt'), Buffer.from([0x02])])).toMatchObject({ error: { code: 'PROXY_TRUNCATED_TLV' } });
    expect(refused([Buffer.from([0x02, 0x00])])).toMatchObject({ error: { code: 'PROXY_TRUNCATED_TLV' } });
  });

  it('accepts a UNIQUE_ID of 128 bytes and refuses one of 129', () => {
    expect(tlvsOf([tlv(0x05, Buffer.alloc(128, 0xab))]).uniqueId).toBe('ab'.repeat(128));
    expect(refused([tlv(0x05, Buffer.alloc(129))])).toMatchObject({ error: { code: 'PROXY_BAD_TLV' } });
  });
});

describe('PROXY v2 CRC32C', () => {
  it('computes the Castagnoli checksum of the standard check string', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32c(Buffer.alloc(32))).toBe(0x8a9136aa);
  });

  it('verifies a correct checksum and records it', () => {
    const bytes = v2Header({ ...ADDRESSES, tlvs: [tlv(0x02, 'a.example')], crc: true });
    const result = decodeProxyHeader(bytes, OPTIONS);
    expect(result.kind === 'header' && result.header.tlvs.crc32c).toBe(bytes.readUInt32BE(bytes.length - 4));
  });

  it('refuses a header whose checksum does not match', () => {
    expect(refused([tlv(0x02, 'a.example')], { badCrc: true })).toMatchObject({ error: { code: 'PROXY_BAD_CHECKSUM' } });
  });

  it('refuses a checksum TLV that is not 4 bytes', () => {
    expect(refused([tlv(0x03, Buffer.alloc(3))])).toMatchObject({ error: { code: 'PROXY_BAD_TLV' } });
  });
});
