import YAML from 'yaml';
import { stickyPolicyYaml } from '../../../test/bench/lb/balancers/envoy';
import { parsePolicy } from '../../../src/config/policy';

describe('stickyPolicyYaml', () => {
  it('turns the MQTT filter on with sticky placement and keeps the rest of the policy', () => {
    const out = YAML.parse(stickyPolicyYaml('signals: { connections: 1, cpu: 1 }\nmqttFilter: { maxClientIdBytes: 64 }\n'));
    expect(out).toEqual({
      signals: { connections: 1, cpu: 1 },
      mqttFilter: { maxClientIdBytes: 64, enabled: true, placement: 'sticky' },
    });
  });

  it('writes a policy of its own when the scenario has none, one mqtt-xds accepts', () => {
    const text = stickyPolicyYaml(undefined);
    const parsed = parsePolicy(text, 'policy.yaml');
    expect(parsed.ok).toBe(true);
    if (parsed.ok) expect(parsed.value.mqttFilter).toMatchObject({ enabled: true, placement: 'sticky' });
  });
});
