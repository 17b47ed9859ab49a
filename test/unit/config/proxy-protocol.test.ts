import { defaultConfig, validateConfig, withOverrides } from '../../../src/config';
import { parseProxyTlvs } from '../../../src/config/proxy-protocol';
import { proxyProtocolModel, tlvSourcesOf } from '../../../src/publishing/model';

const PATH = 'cluster.proxyProtocol.tlvs';
const problems = (version: 'off' | 'v1' | 'v2', tlvs: string) =>
  validateConfig(withOverrides(defaultConfig('/'), { cluster: { proxyProtocol: { version, tlvs } } })).map((p) => [
    p.code,
    p.path,
    p.message,
  ]);

describe('cluster.proxyProtocol', () => {
  it('is off by default', () => {
    expect(defaultConfig('/').cluster.proxyProtocol).toEqual({ version: 'off', tlvs: '' });
  });

  it('reads static values and client sources, in decimal or hex', () => {
    expect(parseProxyTlvs('0xE0=edge-1,225=%REQUESTED_SERVER_NAME%,0xe2=%TENANT%', PATH)).toEqual({
      tlvs: [
        { type: 0xe0, value: 'edge-1' },
        { type: 225, source: 'REQUESTED_SERVER_NAME' },
        { type: 0xe2, source: 'TENANT' },
      ],
      problems: [],
    });
  });

  it('refuses a TLV type out of range, naming the field and the entry', () => {
    expect(problems('v2', '0xE0=a,0x1FF=b')).toEqual([
      [
        'CONFIG_PROXY_TLV_TYPE',
        PATH,
        'cluster.proxyProtocol.tlvs: entry 2 "0x1FF=b": TLV type 511 is out of range: a PROXY v2 TLV type is one byte, 0..255 (0xE0..0xEF are for custom use)',
      ],
    ]);
  });

  it('refuses unknown sources, mixed values, duplicates and a missing "="', () => {
    expect(problems('v2', '0xE0=%CLIENT%,0xE1=a%b,0xE1=c,0xE2').map(([code]) => code)).toEqual([
      'CONFIG_PROXY_TLV_SOURCE',
      'CONFIG_PROXY_TLV_VALUE',
      'CONFIG_PROXY_TLV_DUPLICATE',
      'CONFIG_PROXY_TLV_FORM',
    ]);
  });

  it('refuses TLVs without v2', () => {
    expect(problems('v1', '0xE0=a').map(([code, path]) => [code, path])).toEqual([['CONFIG_PROXY_TLVS_NEED_V2', PATH]]);
    expect(problems('v2', '0xE0=a')).toEqual([]);
  });

  it("gives a tenant's cluster its name for %TENANT%, and leaves that TLV out elsewhere", () => {
    const { tlvs } = parseProxyTlvs('0xE0=edge,0xE1=%TENANT%,0xE2=%DOWNSTREAM_PEER_SUBJECT%', PATH);
    const setting = { version: 'v2' as const, tlvs };
    expect(proxyProtocolModel(setting, 'acme')?.tlvs).toEqual([
      { type: 0xe0, value: 'edge' },
      { type: 0xe1, value: 'acme' },
      { type: 0xe2, source: 'DOWNSTREAM_PEER_SUBJECT' },
    ]);
    expect(proxyProtocolModel(setting, undefined)?.tlvs.map((t) => t.type)).toEqual([0xe0, 0xe2]);
    expect(proxyProtocolModel({ version: 'off', tlvs }, 'acme')).toBeUndefined();
    expect(tlvSourcesOf(tlvs)).toEqual(['DOWNSTREAM_PEER_SUBJECT']);
  });
});

describe("a tenant's own TLVs", () => {
  it('are added to its cluster and replace a setting TLV of the same type', () => {
    const setting = { version: 'v2' as const, tlvs: parseProxyTlvs('0xE0=edge,0xE5=bronze', PATH).tlvs };
    const own = parseProxyTlvs('0xE5=gold,0xE6=eu', PATH).tlvs;
    expect(proxyProtocolModel(setting, 'acme', own)?.tlvs).toEqual([
      { type: 0xe0, value: 'edge' },
      { type: 0xe5, value: 'gold' },
      { type: 0xe6, value: 'eu' },
    ]);
  });
});
