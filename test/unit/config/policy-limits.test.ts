import { defaultPolicy, diffPolicies, parsePolicy, type Policy } from '../../../src/config/policy';
import type { Problem, Result } from '../../../src/util/result';

function problems<T>(result: Result<T>): Problem[] {
  if (result.ok) throw new Error('expected problems, got a value');
  return result.problems;
}

function value(result: Result<Policy>): Policy {
  if (!result.ok) throw new Error(`expected ok, got ${JSON.stringify(result.problems)}`);
  return result.value;
}

describe('policy limits section', () => {
  it('defaults to derived circuit breakers, no connection-rate limit and no maximum duration', () => {
    expect(defaultPolicy().limits).toEqual({
      connections: { headroom: 1.5, perHost: 'auto', cluster: 'auto', envoys: 1, pending: 1024 },
      connectRate: { perSec: 'off', burst: 'auto' },
      maxConnectionDurationMs: 'off',
    });
  });

  it('reads every field, keeping the defaults of the ones left out', () => {
    const text = [
      'limits:',
      '  connections: { headroom: 1.2, perHost: 20000, envoys: 3 }',
      '  connectRate: { perSec: 500, burst: 2000 }',
      '  maxConnectionDurationMs: 21600000',
      '',
    ].join('\n');
    const p = value(parsePolicy(text, 'p.yaml'));
    expect(p.limits).toEqual({
      connections: { headroom: 1.2, perHost: 20000, cluster: 'auto', envoys: 3, pending: 1024 },
      connectRate: { perSec: 500, burst: 2000 },
      maxConnectionDurationMs: 21_600_000,
    });
    expect(Object.isFrozen(p.limits.connectRate)).toBe(true);
  });

  it('logs a limit change like any other policy change', () => {
    const p = value(parsePolicy('limits: { connectRate: { perSec: 100 } }\n', 'p.yaml'));
    expect(diffPolicies(defaultPolicy(), p)).toEqual(['limits.connectRate.perSec: off -> 100']);
  });

  it.each<[string, string, string, string, number, string]>([
    [
      'a headroom below 1',
      'limits:\n  connections: { headroom: 0.5 }\n',
      'POLICY_VALUE_RANGE',
      'limits.connections.headroom',
      2,
      'expected a number in [1, 100]',
    ],
    [
      'a per-host limit that is neither a count nor auto',
      'limits:\n  connections:\n    perHost: lots\n',
      'POLICY_VALUE_INVALID',
      'limits.connections.perHost',
      3,
      'expected an integer in 1..4294967295, or auto, got the string "lots"',
    ],
    ['a cluster limit of 0', 'limits:\n  connections: { cluster: 0 }\n', 'POLICY_VALUE_RANGE', 'limits.connections.cluster', 2, 'or auto'],
    [
      'zero Envoys',
      'limits:\n  connections: { envoys: 0 }\n',
      'POLICY_VALUE_RANGE',
      'limits.connections.envoys',
      2,
      'expected an integer in 1..10000',
    ],
    [
      'a fractional pending limit',
      'limits:\n  connections: { pending: 2.5 }\n',
      'POLICY_VALUE_INVALID',
      'limits.connections.pending',
      2,
      'expected an integer',
    ],
    [
      'a rate of 0 instead of off',
      'limits:\n  connectRate: { perSec: 0 }\n',
      'POLICY_VALUE_RANGE',
      'limits.connectRate.perSec',
      2,
      'or off',
    ],
    [
      'a misspelt rate field, with a suggestion',
      'limits:\n  connectRate: { perSecond: 5 }\n',
      'POLICY_UNKNOWN_KEY',
      'limits.connectRate.perSecond',
      2,
      '(did you mean "perSec"?)',
    ],
    [
      'a duration given in seconds',
      'limits:\n  maxConnectionDurationMs: 3600\n',
      'POLICY_VALUE_RANGE',
      'limits.maxConnectionDurationMs',
      2,
      'expected an integer in 60000..2592000000, or off',
    ],
    [
      'a per-host limit above the cluster limit',
      'limits:\n  connections: { perHost: 5000, cluster: 4000 }\n',
      'POLICY_LIMITS_ORDER',
      'limits.connections.perHost',
      2,
      'perHost 5000 is above cluster 4000',
    ],
    [
      'a bucket smaller than one second of the rate',
      'limits:\n  connectRate:\n    perSec: 100\n    burst: 10\n',
      'POLICY_VALUE_RANGE',
      'limits.connectRate.burst',
      4,
      'burst 10 is below perSec 100',
    ],
  ])('refuses %s, naming the field', (_, text, code, path, line, message) => {
    const [p, ...rest] = problems(parsePolicy(text, 'p.yaml'));
    expect(rest).toEqual([]);
    expect(p).toMatchObject({ code, path, line });
    expect(p.message).toContain(message);
  });
});
