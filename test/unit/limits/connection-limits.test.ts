import { defaultPolicy, parsePolicy, type Policy } from '../../../src/config/policy';
import type { WeightPlan } from '../../../src/domain';
import { deriveLimits } from '../../../src/limits';

const FALLBACK = { maxConnections: 1_000_000, perHostMaxConnections: 250_000 };

function policy(yaml: string): Policy {
  const r = parsePolicy(yaml, 'p.yaml');
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.value;
}

const plan = (...names: string[]): WeightPlan => ({
  endpoints: names.map((name, i) => ({ name, address: `10.0.0.${i + 1}`, port: 1883, weight: 1, health: 'serving' as const })),
});

const CLASSES = [
  'capacity:',
  '  classes: { small: { connections: 10000 }, large: { connections: 40000 } }',
  '  brokers: { b-small: small, b-large: large }',
].join('\n');

describe('deriveLimits', () => {
  it('keeps the generous cluster.* settings while capacities are unknown (auto)', () => {
    const l = deriveLimits({ policy: defaultPolicy(), plan: plan('a', 'b'), fallback: FALLBACK });
    expect(l.cluster).toEqual({ maxConnections: 1_000_000, perHostMaxConnections: 250_000, maxPendingConnections: 1024 });
    expect(l.listener).toEqual({});
    expect(l.why).toBe('capacity of a, b unknown: cluster.* settings (perHost 250000, cluster 1000000)');
  });

  it('keeps the fallback when only some brokers have a capacity: a guess could refuse clients they can take', () => {
    const l = deriveLimits({ policy: policy(CLASSES + '\n'), plan: plan('b-large', 'b-other'), fallback: FALLBACK });
    expect(l.cluster.perHostMaxConnections).toBe(250_000);
    expect(l.brokers).toEqual([{ name: 'b-large', limit: 60_000 }, { name: 'b-other' }]);
  });

  it('derives per-host from the largest broker and the cluster from the sum, times headroom', () => {
    const l = deriveLimits({ policy: policy(CLASSES + '\n'), plan: plan('b-large', 'b-small'), fallback: FALLBACK });
    expect(l.cluster).toEqual({ maxConnections: 75_000, perHostMaxConnections: 60_000, maxPendingConnections: 1024 });
    expect(l.why).toBe('perHost 60000 from b-large (capacity × 1.5 = 60000); cluster 75000 from 2 brokers');
  });

  it('uses capacity.default and override capacities like the weights do', () => {
    const p = policy(
      [
        CLASSES,
        '  default: small',
        'overrides:',
        '  b-x: { capacity: { connections: 2000 } }',
        'limits: { connections: { headroom: 2 } }',
        '',
      ].join('\n'),
    );
    const l = deriveLimits({ policy: p, plan: plan('b-x', 'b-y'), fallback: FALLBACK });
    expect(l.brokers).toEqual([
      { name: 'b-x', limit: 4000 },
      { name: 'b-y', limit: 20_000 },
    ]);
    expect(l.cluster.maxConnections).toBe(24_000);
  });

  it('splits derived limits across the Envoys, rounding up', () => {
    const p = policy(CLASSES + '\nlimits: { connections: { envoys: 4 } }\n');
    const l = deriveLimits({ policy: p, plan: plan('b-large', 'b-small'), fallback: FALLBACK });
    expect(l.cluster.perHostMaxConnections).toBe(15_000);
    expect(l.cluster.maxConnections).toBe(18_750);
    expect(l.why).toContain('/ 4 Envoys');
  });

  it('applies explicit values as written, and keeps per-host within the cluster limit', () => {
    const explicit = policy('limits: { connections: { perHost: 300, cluster: 900, pending: 64 } }\n');
    expect(deriveLimits({ policy: explicit, plan: plan('a'), fallback: FALLBACK }).cluster).toEqual({
      maxConnections: 900,
      perHostMaxConnections: 300,
      maxPendingConnections: 64,
    });
    const clusterOnly = policy('limits: { connections: { cluster: 100000 } }\n');
    expect(deriveLimits({ policy: clusterOnly, plan: plan('a'), fallback: FALLBACK }).cluster.perHostMaxConnections).toBe(100_000);
    const perHostOnly = policy(CLASSES + '\nlimits: { connections: { perHost: 90000 } }\n');
    const raised = deriveLimits({ policy: perHostOnly, plan: plan('b-large', 'b-small'), fallback: FALLBACK });
    expect(raised.cluster).toMatchObject({ perHostMaxConnections: 90_000, maxConnections: 90_000 });
    expect(raised.why).toContain('policy sets perHost 90000');
  });

  it('turns the rate and duration into listener settings, burst defaulting to one second of the rate', () => {
    const p = policy('limits: { connectRate: { perSec: 200 }, maxConnectionDurationMs: 3600000 }\n');
    expect(deriveLimits({ policy: p, plan: plan('a'), fallback: FALLBACK }).listener).toEqual({
      connectRate: { perSec: 200, burst: 200 },
      maxConnectionDurationMs: 3_600_000,
    });
  });

  it('falls back with an empty plan', () => {
    expect(deriveLimits({ policy: policy(CLASSES + '\n'), plan: plan(), fallback: FALLBACK }).why).toBe('no brokers: cluster.* settings');
  });
});
