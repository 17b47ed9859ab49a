import { Registry } from 'prom-client';
import { defaultPolicy } from '../../../src/config';
import type { Broker, BrokerLoad } from '../../../src/domain';
import { Planner } from '../../../src/planner';
import { SuspectReport } from '../../../src/runners';
import { createLogger } from '../../../src/util/log';

const brokers: Broker[] = [
  { name: 'liar', address: '10.0.0.1', port: 1883 },
  { name: 'honest', address: '10.0.0.2', port: 1883 },
];
const page = (broker: string, atMs: number, connections: number): BrokerLoad => ({
  broker,
  scrapedAtMs: atMs,
  signals: { connections },
  consecutiveFailures: 0,
  stale: false,
});

describe('suspect report', () => {
  it('warns once when a page stops being believed, keeps the gauge at 1, counts it, and says when it ends', async () => {
    const logs: Array<Record<string, unknown>> = [];
    const registry = new Registry();
    const report = new SuspectReport(
      createLogger('info', {}, (line) => logs.push(JSON.parse(line) as Record<string, unknown>)),
      registry,
    );
    const planner = new Planner('metrics', defaultPolicy(), (o) => report.observe(o.decisions));
    planner.setBrokers(brokers);
    planner.setEnvoySource(
      () =>
        new Map([
          ['liar', { connections: 300, openedPerSec: 3, envoys: 1 }],
          ['honest', { connections: 300, openedPerSec: 3, envoys: 1 }],
        ]),
    );
    const liarSays = [0, 0, 0, 0, 300, 300, 300];
    liarSays.forEach((n, i) => {
      planner.setLoads(
        new Map([
          ['liar', page('liar', 1000 * i, n)],
          ['honest', page('honest', 1000 * i, 300)],
        ]),
      );
      planner.next(1000 * i + 1);
    });
    const gauge = async (): Promise<number[]> =>
      (await registry.getSingleMetric('mqtt_xds_broker_suspect')!.get()).values.map((v) => v.value);
    const total = (await registry.getSingleMetric('mqtt_xds_broker_suspect_total')!.get()).values;
    expect(logs.filter((l) => l.level === 'warn')).toEqual([
      expect.objectContaining({ broker: 'liar', reason: 'page says 0 connections, the Envoys hold 300' }),
    ]);
    expect(logs.filter((l) => String(l.msg).includes('agree with the Envoys again'))).toHaveLength(1);
    expect(total).toEqual([{ labels: { broker: 'liar' }, value: 1 }]);
    expect(await gauge()).toEqual([0, 0]);
  });
});
