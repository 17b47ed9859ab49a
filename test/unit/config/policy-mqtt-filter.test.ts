import { parsePolicy, type Policy } from '../../../src/config/policy';
import { tenantMqttFilter } from '../../../src/config/policy-mqtt-filter';
import type { Problem, Result } from '../../../src/util/result';

const lines = (...l: string[]): string => l.join('\n') + '\n';
const parse = (text: string): Result<Policy> => parsePolicy(text, 'p.yaml');
const problems = (r: Result<Policy>): Problem[] => (r.ok ? [] : r.problems);

describe('policy: mqttFilter', () => {
  it('is off by default, with the filter defaults', () => {
    const r = parse('{}');
    expect(r.ok && r.value.mqttFilter).toEqual({
      enabled: false,
      maxConnectBytes: 16384,
      maxClientIdBytes: 256,
      firstPacketTimeoutMs: 10000,
      placement: 'weighted',
      stickyWeightBand: 0.2,
      inspectPublish: false,
      maxPublishPayloadBytes: 0,
      topicPrefix: '',
    });
  });

  it('reads the section, keys not written keeping their defaults', () => {
    const r = parse(lines('mqttFilter: { enabled: true, maxClientIdBytes: 64 }'));
    expect(r.ok && r.value.mqttFilter).toEqual({
      enabled: true,
      maxConnectBytes: 16384,
      maxClientIdBytes: 64,
      firstPacketTimeoutMs: 10000,
      placement: 'weighted',
      stickyWeightBand: 0.2,
      inspectPublish: false,
      maxPublishPayloadBytes: 0,
      topicPrefix: '',
    });
  });

  it.each([
    ['maxClientIdBytes: 0', 'mqttFilter.maxClientIdBytes', 'an integer in 1..65535'],
    ['maxConnectBytes: 65536', 'mqttFilter.maxConnectBytes', 'an integer in 14..32768'],
    ['firstPacketTimeoutMs: 1.5', 'mqttFilter.firstPacketTimeoutMs', 'an integer in 0..3600000'],
    ['enabled: yes', 'mqttFilter.enabled', 'true or false'],
    ['placement: stickey', 'mqttFilter.placement', 'one of weighted, sticky'],
    ['inspectPublish: 1', 'mqttFilter.inspectPublish', 'true or false'],
    ['maxPublishPayloadBytes: -1', 'mqttFilter.maxPublishPayloadBytes', 'an integer in 0..268435455'],
    ['maxPublishPayloadBytes: 268435456', 'mqttFilter.maxPublishPayloadBytes', 'an integer in 0..268435455'],
    ['topicPrefix: "a/#"', 'mqttFilter.topicPrefix', 'without +, # or NUL'],
  ])('refuses %s, naming the key and what is allowed', (entry, path, allowed) => {
    const [p] = problems(parse(lines('mqttFilter:', `  ${entry}`)));
    expect(p).toMatchObject({ path, line: 2 });
    expect(p.message).toContain(allowed);
  });

  it('reads placement sticky, for the listener and per tenant', () => {
    const r = parse(
      lines(
        'mqttFilter: { enabled: true, placement: sticky }',
        'tenants:',
        '  acme:',
        '    serverNames: [acme.example.com]',
        '    certFile: /c',
        '    keyFile: /k',
        '    mqttFilter: { placement: weighted }',
      ),
    );
    expect(r.ok && r.value.mqttFilter.placement).toBe('sticky');
    expect(r.ok && tenantMqttFilter(r.value.mqttFilter, r.value.tenants.acme.mqttFilter).placement).toBe('weighted');
  });

  it('reads PUBLISH inspection, shared and per tenant', () => {
    const r = parse(
      lines(
        'mqttFilter: { enabled: true, inspectPublish: true, maxPublishPayloadBytes: 65536 }',
        'tenants:',
        '  acme:',
        '    serverNames: [acme.example.com]',
        '    certFile: /c',
        '    keyFile: /k',
        '    mqttFilter: { maxPublishPayloadBytes: 1024, topicPrefix: "acme/" }',
      ),
    );
    expect(r.ok && r.value.mqttFilter).toMatchObject({ inspectPublish: true, maxPublishPayloadBytes: 65536, topicPrefix: '' });
    expect(r.ok && tenantMqttFilter(r.value.mqttFilter, r.value.tenants.acme.mqttFilter)).toMatchObject({
      inspectPublish: true,
      maxPublishPayloadBytes: 1024,
      topicPrefix: 'acme/',
    });
  });

  it('refuses a mistyped key with a suggestion', () => {
    const [p] = problems(parse(lines('mqttFilter: { maxClientIDBytes: 64 }')));
    expect(p).toMatchObject({ code: 'POLICY_UNKNOWN_KEY', path: 'mqttFilter.maxClientIDBytes' });
    expect(p.message).toContain('maxClientIdBytes');
  });

  it("lets a tenant set its own values over the shared ones, and refuses a bad one under the tenant's path", () => {
    const tenant = (extra: string): string =>
      lines(
        'mqttFilter: { enabled: true, maxClientIdBytes: 64 }',
        'tenants:',
        '  acme:',
        '    serverNames: [acme.example.com]',
        '    certFile: /c',
        '    keyFile: /k',
        extra,
      );
    const r = parse(tenant('    mqttFilter: { maxClientIdBytes: 23 }'));
    expect(r.ok && r.value.tenants.acme.mqttFilter).toEqual({ maxClientIdBytes: 23 });
    const shared = r.ok ? r.value.mqttFilter : undefined;
    expect(shared && tenantMqttFilter(shared, r.ok ? r.value.tenants.acme.mqttFilter : undefined)).toEqual({
      enabled: true,
      maxConnectBytes: 16384,
      maxClientIdBytes: 23,
      firstPacketTimeoutMs: 10000,
      placement: 'weighted',
      stickyWeightBand: 0.2,
      inspectPublish: false,
      maxPublishPayloadBytes: 0,
      topicPrefix: '',
    });
    expect(problems(parse(tenant('    mqttFilter: { enabled: maybe }')))[0].path).toBe('tenants.acme.mqttFilter.enabled');
  });
});
