import { parsePolicy, type Policy } from '../../../src/config/policy';
import type { Problem, Result } from '../../../src/util/result';

const lines = (...l: string[]): string => l.join('\n') + '\n';
const parse = (text: string): Result<Policy> => parsePolicy(text, 'p.yaml');
const codes = (r: Result<Policy>): Array<[string, string]> => (r.ok ? [] : r.problems.map((p: Problem) => [p.code, p.path]));

const acme = [
  '  acme:',
  '    serverNames: [mqtt.acme.example.com, "*.acme.example.com"]',
  '    certFile: /etc/t/acme.crt',
  '    keyFile: /etc/t/acme.key',
];

describe('policy: tenants', () => {
  it('reads a tenant with its server names, files, pool and limits', () => {
    const r = parse(
      lines(
        'unknownServerName: refuse',
        'tenants:',
        ...acme,
        '    brokers: [b1, b2]',
        '    maxConnections: 100',
        '    connectRate: { perSec: 10 }',
      ),
    );
    expect(r.ok && r.value.unknownServerName).toBe('refuse');
    expect(r.ok && r.value.tenants.acme).toEqual({
      serverNames: ['mqtt.acme.example.com', '*.acme.example.com'],
      certFile: '/etc/t/acme.crt',
      keyFile: '/etc/t/acme.key',
      brokers: ['b1', 'b2'],
      maxConnections: 100,
      connectRate: { perSec: 10, burst: 'auto' },
    });
  });

  it('reads a tenant whose certificate and client CA come from Kubernetes Secrets', () => {
    const r = parse(
      lines(
        'tenants:',
        ...acme.slice(0, 2),
        '    secret: acme-tls',
        '    clientCaSecret: security/acme-device-ca',
        '    clientSubjectAltNames: ["URI:urn:acme:*"]',
      ),
    );
    expect(r.ok && r.value.tenants.acme).toEqual({
      serverNames: ['mqtt.acme.example.com', '*.acme.example.com'],
      secret: 'acme-tls',
      clientCaSecret: 'security/acme-device-ca',
      clientSubjectAltNames: ['URI:urn:acme:*'],
    });
  });

  it('reads a pool chosen by label, and refuses one chosen both ways', () => {
    const r = parse(lines('tenants:', ...acme, '    brokerLabels: { kubernetes.io/service-name: hivemq-gold }'));
    expect(r.ok && r.value.tenants.acme.brokerLabels).toEqual({ 'kubernetes.io/service-name': 'hivemq-gold' });
    expect(codes(parse(lines('tenants:', ...acme, '    brokers: [b1]', '    brokerLabels: { tier: gold }')))).toEqual([
      ['POLICY_TENANT_POOL_TWICE', 'tenants.acme.brokerLabels'],
    ]);
    expect(codes(parse(lines('tenants:', ...acme, '    brokerLabels: {}')))).toEqual([
      ['POLICY_TENANT_LABELS_EMPTY', 'tenants.acme.brokerLabels'],
    ]);
    expect(codes(parse(lines('tenants:', ...acme, '    brokerLabels: { "bad key": x }')))[0][0]).toBe('POLICY_NAME_INVALID');
  });

  it.each<[string, string[], Array<[string, string]>]>([
    [
      'a tenant without a certificate',
      ['tenants:', '  acme:', '    serverNames: [a.example.com]'],
      [['POLICY_TENANT_TLS_MISSING', 'tenants.acme']],
    ],
    ['a certificate file without its key', ['tenants:', ...acme.slice(0, 3)], [['POLICY_TENANT_TLS_PAIR', 'tenants.acme.keyFile']]],
    [
      'a Secret beside the files',
      ['tenants:', ...acme, '    secret: acme-tls', '    clientCaFile: /etc/t/ca.crt'],
      [
        ['POLICY_TENANT_TLS_TWO_SOURCES', 'tenants.acme.certFile'],
        ['POLICY_TENANT_TLS_TWO_SOURCES', 'tenants.acme.keyFile'],
        ['POLICY_TENANT_TLS_TWO_SOURCES', 'tenants.acme.clientCaFile'],
      ],
    ],
    [
      'a client-CA Secret with certificate files',
      ['tenants:', ...acme, '    clientCaSecret: acme-ca'],
      [['POLICY_TENANT_CA_SECRET_NEEDS_SECRET', 'tenants.acme.clientCaSecret']],
    ],
    [
      'a Secret name that is no Kubernetes name',
      ['tenants:', ...acme.slice(0, 2), '    secret: Acme_TLS'],
      [['POLICY_VALUE_INVALID', 'tenants.acme.secret']],
    ],
    [
      'a server name that is no DNS name',
      ['tenants:', ...acme.slice(0, 1), '    serverNames: ["Bad Name"]', ...acme.slice(2)],
      [['POLICY_VALUE_INVALID', 'tenants.acme.serverNames[0]']],
    ],
    [
      'no server names',
      ['tenants:', ...acme.slice(0, 1), '    serverNames: []', ...acme.slice(2)],
      [['POLICY_VALUE_RANGE', 'tenants.acme.serverNames']],
    ],
    [
      'a relative certificate path',
      ['tenants:', ...acme.slice(0, 2), '    certFile: acme.crt', ...acme.slice(3)],
      [['POLICY_VALUE_INVALID', 'tenants.acme.certFile']],
    ],
    ['a tenant name Envoy stats cannot carry', ['tenants:', '  Acme_1:', ...acme.slice(1)], [['POLICY_NAME_INVALID', 'tenants.Acme_1']]],
    [
      'one server name for two tenants',
      ['tenants:', ...acme, '  beta:', ...acme.slice(1)],
      [
        ['POLICY_TENANT_NAME_TAKEN', 'tenants.beta.serverNames[0]'],
        ['POLICY_TENANT_NAME_TAKEN', 'tenants.beta.serverNames[1]'],
      ],
    ],
    [
      'client SANs without a client CA',
      ['tenants:', ...acme, '    clientSubjectAltNames: ["URI:urn:dev:*"]'],
      [['POLICY_TENANT_SANS_WITHOUT_CA', 'tenants.acme.clientSubjectAltNames']],
    ],
    [
      'a burst below the rate',
      ['tenants:', ...acme, '    connectRate: { perSec: 10, burst: 5 }'],
      [['POLICY_TENANT_BURST', 'tenants.acme.connectRate.burst']],
    ],
    ['an unknown unknownServerName', ['unknownServerName: drop'], [['POLICY_VALUE_INVALID', 'unknownServerName']]],
  ])('refuses %s, naming the path', (_what, doc, expected) => {
    expect(codes(parse(lines(...doc)))).toEqual(expected);
  });
});

describe('policy: a tenant’s PROXY TLVs', () => {
  it('reads literal TLVs', () => {
    const r = parse(lines('tenants:', ...acme, '    proxyTlvs: ["0xE5=gold", "230=eu"]'));
    expect(r.ok && r.value.tenants.acme.proxyTlvs).toEqual(['0xE5=gold', '230=eu']);
  });

  it('reads the sources cluster.proxyProtocol.tlvs takes: client values and the tenant', () => {
    const r = parse(
      lines(
        'tenants:',
        ...acme,
        '    proxyTlvs: ["0xE6=%REQUESTED_SERVER_NAME%", "0xE7=%DOWNSTREAM_PEER_FINGERPRINT_256%", "0xE8=%TENANT%"]',
      ),
    );
    expect(r.ok && r.value.tenants.acme.proxyTlvs).toEqual([
      '0xE6=%REQUESTED_SERVER_NAME%',
      '0xE7=%DOWNSTREAM_PEER_FINGERPRINT_256%',
      '0xE8=%TENANT%',
    ]);
  });

  it('refuses a type out of range and an unknown source, naming the entry', () => {
    const r = parse(lines('tenants:', ...acme, '    proxyTlvs: ["0x100=gold", "0xE6=%DOWNSTREAM_PEER_ISSUER%", "0xE7=a%b"]'));
    expect(codes(r)).toEqual([
      ['POLICY_PROXY_TLV_TYPE', 'tenants.acme.proxyTlvs[0]'],
      ['POLICY_PROXY_TLV_SOURCE', 'tenants.acme.proxyTlvs[1]'],
      ['POLICY_PROXY_TLV_VALUE', 'tenants.acme.proxyTlvs[2]'],
    ]);
  });
});
