import { hostProblem, isDnsName, isHost, isIpLiteral } from '../../../src/util/host';
import { nearest } from '../../../src/util/suggest';

describe('host checks', () => {
  it('accepts IPv4 and IPv6 literals and DNS names', () => {
    for (const h of ['127.0.0.1', '::1', 'fd00::1:2', 'localhost', 'broker-0.hivemq.svc.cluster.local', 'x.local.']) {
      expect(isHost(h)).toBe(true);
    }
    expect(isIpLiteral('broker.local')).toBe(false);
  });

  it('rejects a malformed IPv4 address instead of taking it for a name', () => {
    expect(isDnsName('10.0.0.300')).toBe(false);
    expect(isHost('10.0.0.300')).toBe(false);
  });

  it('explains the usual mistakes', () => {
    expect(hostProblem('[::1]')).toContain('without brackets');
    expect(hostProblem('broker:1883')).toContain('port separately');
    expect(hostProblem('http://broker')).toContain('not a URL');
    expect(hostProblem('bad_host!')).toContain('IPv4 or IPv6 address or a DNS name');
  });
});

describe('nearest', () => {
  it('suggests a close key, ignoring case, and nothing for an unrelated word', () => {
    expect(nearest('prot', ['name', 'host', 'port'])).toBe('port');
    expect(nearest('metricsurl', ['metricsUrl', 'weight'])).toBe('metricsUrl');
    expect(nearest('zzzzzz', ['name', 'host', 'port'])).toBeUndefined();
  });
});
