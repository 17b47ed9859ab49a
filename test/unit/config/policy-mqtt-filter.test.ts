import { parsePolicy, type Policy } from '../../../src/config/policy';
import { allowedTopicPrefixes, DEFAULT_MQTT_FILTER, tenantMqttFilter } from '../../../src/config/policy-mqtt-filter';
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
      stickyHeldFloor: 0.9,
      inspectPublish: false,
      maxPublishPayloadBytes: 0,
      topicPrefix: '',
      topicPrefixes: [],
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
      stickyHeldFloor: 0.9,
      inspectPublish: false,
      maxPublishPayloadBytes: 0,
      topicPrefix: '',
      topicPrefixes: [],
    });
  });

  it.each([
    ['maxClientIdBytes: 0', 'mqttFilter.maxClientIdBytes', 'an integer in 1..65535'],
    ['maxConnectBytes: 65536', 'mqttFilter.maxConnectBytes', 'an integer in 14..32768'],
    ['firstPacketTimeoutMs: 1.5', 'mqttFilter.firstPacketTimeoutMs', 'an integer in 0..3600000'],
    ['enabled: yes', 'mqttFilter.enabled', 'true or false'],
    ['placement: stickey', 'mqttFilter.placement', 'one of weighted, sticky'],
    ['inspectPublish: 1', 'mqttFilter.inspectPublish', 'true or false'],
    ['stickyHeldFloor: 1.5', 'mqttFilter.stickyHeldFloor', 'a number in [0, 1]'],
    ['stickyHeldFloor: off', 'mqttFilter.stickyHeldFloor', 'a number in [0, 1]'],
    ['maxPublishPayloadBytes: -1', 'mqttFilter.maxPublishPayloadBytes', 'an integer in 0..268435455'],
    ['maxPublishPayloadBytes: 268435456', 'mqttFilter.maxPublishPayloadBytes', 'an integer in 0..268435455'],
    ['topicPrefix: "a/#"', 'mqttFilter.topicPrefix', 'without +, # or NUL'],
    ['topicPrefixes: ["a/", "b/+"]', 'mqttFilter.topicPrefixes[1]', 'not empty, without +, # or NUL'],
    ['topicPrefixes: ["a/", ""]', 'mqttFilter.topicPrefixes[1]', 'not empty, without +, # or NUL'],
    ['topicPrefixes: "a/"', 'mqttFilter.topicPrefixes', 'expected a list'],
    [
      `topicPrefixes: [${Array.from({ length: 33 }, (_, i) => `p${i}/`).join(', ')}]`,
      'mqttFilter.topicPrefixes',
      'expected 0 to 32 entries, got 33',
    ],
    [`topicPrefixes: [a/, "${'é'.repeat(513)}"]`, 'mqttFilter.topicPrefixes[1]', 'at most 1024 UTF-8 bytes'],
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

  it('refuses topicPrefix and topicPrefixes side by side, at the list, for the listener and a tenant', () => {
    const [p] = problems(parse(lines('mqttFilter:', '  topicPrefix: a/', '  topicPrefixes: [b/]')));
    expect(p).toMatchObject({ code: 'POLICY_TOPIC_PREFIX_TWO_FORMS', path: 'mqttFilter.topicPrefixes', line: 3 });
    expect(p.message).toContain('topicPrefix or topicPrefixes, not both');
    const tenant = lines(
      'tenants:',
      '  acme:',
      '    serverNames: [acme.example.com]',
      '    certFile: /c',
      '    keyFile: /k',
      '    mqttFilter: { topicPrefix: a/, topicPrefixes: [b/] }',
    );
    expect(problems(parse(tenant))[0]).toMatchObject({
      code: 'POLICY_TOPIC_PREFIX_TWO_FORMS',
      path: 'tenants.acme.mqttFilter.topicPrefixes',
    });
  });

  it('reads topicPrefixes; topicPrefix is the one-entry list; a tenant writing either replaces the shared prefixes', () => {
    const r = parse(
      lines(
        'mqttFilter: { enabled: true, inspectPublish: true, topicPrefix: shared/ }',
        'tenants:',
        '  acme:',
        '    serverNames: [acme.example.com]',
        '    certFile: /c',
        '    keyFile: /k',
        '    mqttFilter: { topicPrefixes: ["acme/", "b2b,x/", "1024é/"] }',
        '  beta:',
        '    serverNames: [beta.example.com]',
        '    certFile: /c',
        '    keyFile: /k',
        '    mqttFilter: { maxPublishPayloadBytes: 9 }',
      ),
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(allowedTopicPrefixes(r.value.mqttFilter)).toEqual(['shared/']);
    const acme = tenantMqttFilter(r.value.mqttFilter, r.value.tenants.acme.mqttFilter);
    expect(acme).toMatchObject({ topicPrefix: '', topicPrefixes: ['acme/', 'b2b,x/', '1024é/'] });
    expect(allowedTopicPrefixes(acme)).toEqual(['acme/', 'b2b,x/', '1024é/']);
    expect(allowedTopicPrefixes(tenantMqttFilter(r.value.mqttFilter, r.value.tenants.beta.mqttFilter))).toEqual(['shared/']);
    expect(allowedTopicPrefixes(DEFAULT_MQTT_FILTER)).toEqual([]);
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
      stickyHeldFloor: 0.9,
      inspectPublish: false,
      maxPublishPayloadBytes: 0,
      topicPrefix: '',
      topicPrefixes: [],
    });
    expect(problems(parse(tenant('    mqttFilter: { enabled: maybe }')))[0].path).toBe('tenants.acme.mqttFilter.enabled');
  });
});
