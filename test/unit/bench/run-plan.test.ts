import { capacityWeights } from '../../../test/bench/lb/balancers/capacity-weights';
import { defaultStrategies, planRuns, PRODUCTION_SCRAPE, scrapeTimeoutMs } from '../../../test/bench/lb/run-plan';
import { parseScenario } from '../../../test/bench/lb/scenario-parse';
import type { Scenario } from '../../../test/bench/lb/scenario';

function scenario(capacities: readonly number[], scrape = 'scrapeIntervalMs: 1000\n'): Scenario {
  const r = parseScenario(
    `
name: t
durationSec: 30
${scrape}brokers:
${capacities.map((c, i) => `  - { name: b${i + 1}, capacity: ${c} }`).join('\n')}
populations:
  - { name: p, count: 10, arrival: { startSec: 0 }, traffic: { kind: subscriber } }
steadyStateSec: 10
`,
    't.yaml',
  );
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.value;
}

describe('defaultStrategies', () => {
  it('leaves the weighted variants out when every broker has the same capacity', () => {
    expect(defaultStrategies(scenario([400, 400, 400]))).toEqual([
      'envoy-rr',
      'envoy-least-request',
      'haproxy-leastconn',
      'nginx-least-conn',
      'mqtt-xds',
    ]);
  });

  it('puts each weighted variant next to its unweighted one when capacities differ', () => {
    expect(defaultStrategies(scenario([150, 300, 600]))).toEqual([
      'envoy-rr',
      'envoy-rr-weighted',
      'envoy-least-request',
      'haproxy-leastconn',
      'haproxy-leastconn-weighted',
      'nginx-least-conn',
      'nginx-least-conn-weighted',
      'mqtt-xds',
    ]);
  });
});

describe('planRuns', () => {
  const s = scenario([400, 400]);

  it("runs mqtt-xds at the scenario's and at the production interval with --scrape both, under two names", () => {
    expect(planRuns(['envoy-rr', 'mqtt-xds'], s, 'both')).toEqual([
      { strategy: 'envoy-rr', label: 'envoy-rr' },
      { strategy: 'mqtt-xds', label: 'mqtt-xds', scrape: { intervalMs: 1000, timeoutMs: 500 } },
      { strategy: 'mqtt-xds', label: 'mqtt-xds@5s', scrape: { intervalMs: 5000, timeoutMs: 2000 } },
    ]);
  });

  it('names the production run after its interval also when it is the only one', () => {
    expect(planRuns(['mqtt-xds'], s, 'production').map((p) => p.label)).toEqual(['mqtt-xds@5s']);
    expect(planRuns(['mqtt-xds'], s, 'scenario').map((p) => p.label)).toEqual(['mqtt-xds']);
  });

  it('runs once when the scenario already scrapes at the production interval (or leaves the interval out)', () => {
    const production = scenario([400, 400], '');
    expect(production.scrapeIntervalMs).toBe(PRODUCTION_SCRAPE.intervalMs);
    expect(planRuns(['mqtt-xds'], production, 'both')).toEqual([
      { strategy: 'mqtt-xds', label: 'mqtt-xds', scrape: { intervalMs: 5000, timeoutMs: 2000 } },
    ]);
  });

  it("gives a scrape half the interval, at most mqtt-xds's production timeout", () => {
    expect(PRODUCTION_SCRAPE).toEqual({ intervalMs: 5000, timeoutMs: 2000 });
    expect(scrapeTimeoutMs(1000)).toBe(500);
    expect(scrapeTimeoutMs(30_000)).toBe(2000);
    expect(scrapeTimeoutMs(100)).toBe(50);
  });
});

describe('capacityWeights', () => {
  it('scales capacities into 1..256 with the largest broker at 256', () => {
    const w = capacityWeights(scenario([150, 300, 600]).brokers);
    expect([...w]).toEqual([
      ['b1', 64],
      ['b2', 128],
      ['b3', 256],
    ]);
  });

  it('never gives a broker weight 0, which would take it out of rotation', () => {
    expect(capacityWeights(scenario([1, 10_000]).brokers).get('b1')).toBe(1);
  });
});
