import { Registry } from 'prom-client';
import { defaultPolicy } from '../../../src/config';
import type { Broker, BrokerLoad } from '../../../src/domain';
import { Planner } from '../../../src/planner';
import { MissingSignalReport } from '../../../src/runners';
import { createLogger } from '../../../src/util/log';

const brokers: Broker[] = [
  { name: 'ce', address: '10.0.0.1', port: 1883 },
  { name: 'agent', address: '10.0.0.2', port: 1883 },
];

/** A Community Edition page without the agent: connections, no CPU. */
const ceLoad = (atMs: number): BrokerLoad => ({
  broker: 'ce',
  scrapedAtMs: atMs,
  signals: { connections: 300 },
  unavailable: ['cpu'],
  consecutiveFailures: 0,
  stale: false,
});
const agentLoad = (atMs: number): BrokerLoad => ({
  broker: 'agent',
  scrapedAtMs: atMs,
  signals: { connections: 300, cpu: 0.5, cpuSource: 'limit' },
  consecutiveFailures: 0,
  stale: false,
});

function harness() {
  const logs: Array<Record<string, unknown>> = [];
  const registry = new Registry();
  const report = new MissingSignalReport(
    createLogger('info', {}, (line) => logs.push(JSON.parse(line) as Record<string, unknown>)),
    registry,
  );
  const planner = new Planner('metrics', defaultPolicy(), (o) => report.observe(o.decisions));
  planner.setBrokers(brokers);
  const gauge = async (): Promise<Array<{ labels: object; value: number }>> =>
    (await registry.getSingleMetric('mqtt_xds_signal_missing')!.get()).values.map((v) => ({ labels: v.labels, value: v.value }));
  return { logs, planner, gauge };
}

describe('missing-signal report', () => {
  it('warns once per broker and signal, however many plans follow, and sets the gauge to 1', async () => {
    const h = harness();
    for (let i = 0; i < 3; i++) {
      h.planner.setLoads(
        new Map([
          ['ce', ceLoad(1000 * i)],
          ['agent', agentLoad(1000 * i)],
        ]),
      );
      h.planner.next(1000 * i + 1);
    }
    const warnings = h.logs.filter((l) => l.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ broker: 'ce', signal: 'cpu' });
    expect(String(warnings[0].consequence)).toContain('falls back to neutral');
    expect(await h.gauge()).toEqual([{ labels: { broker: 'ce', signal: 'cpu' }, value: 1 }]);
    expect(h.planner.lastOutcome()?.decisions.find((d) => d.name === 'ce')).toMatchObject({
      missingSignals: ['cpu'],
      capacitySource: 'neutral',
    });
  });

  it('says once when the signal is back and sets the gauge to 0', async () => {
    const h = harness();
    h.planner.setLoads(new Map([['ce', ceLoad(0)]]));
    h.planner.next(1);
    // The agent is deployed on the broker: its page now has CPU.
    h.planner.setLoads(new Map([['ce', { ...agentLoad(1000), broker: 'ce' }]]));
    h.planner.next(1001);
    h.planner.next(2001);
    expect(h.logs.map((l) => [l.level, l.broker, l.signal])).toEqual([
      ['warn', 'ce', 'cpu'],
      ['info', 'ce', 'cpu'],
    ]);
    expect(await h.gauge()).toEqual([{ labels: { broker: 'ce', signal: 'cpu' }, value: 0 }]);
  });

  it('drops the series of a broker that leaves', async () => {
    const h = harness();
    h.planner.setLoads(new Map([['ce', ceLoad(0)]]));
    h.planner.next(1);
    h.planner.setBrokers([brokers[1]]);
    h.planner.next(1001);
    expect(await h.gauge()).toEqual([]);
    expect(h.logs.filter((l) => l.level === 'info')).toEqual([]);
  });

  it('reports nothing when the policy does not use the signal (a capacity class, cpu not weighed)', () => {
    const h = harness();
    h.planner.setPolicy({
      ...defaultPolicy(),
      capacity: { ...defaultPolicy().capacity, classes: { s: { connections: 1000 } }, default: 's' },
    });
    h.planner.setLoads(new Map([['ce', ceLoad(0)]]));
    h.planner.next(1);
    expect(h.logs).toEqual([]);
  });
});
