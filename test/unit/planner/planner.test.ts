import { defaultPolicy } from '../../../src/config';
import type { Broker, BrokerLoad } from '../../../src/domain';
import { Planner } from '../../../src/planner';

const brokers: Broker[] = [
  { name: 'a', address: '10.0.0.1', port: 1883 },
  { name: 'b', address: '10.0.0.2', port: 1883 },
];

function load(broker: string, atMs: number, connections: number, cpu: number): BrokerLoad {
  return { broker, scrapedAtMs: atMs, signals: { connections, cpu }, consecutiveFailures: 0, stale: false };
}

describe('Planner', () => {
  it('has no plan before discovery delivered brokers', () => {
    expect(new Planner('metrics', defaultPolicy()).next(0)).toBeUndefined();
  });

  it('uses the brokers file weights alone in static mode', () => {
    const p = new Planner('static', defaultPolicy());
    p.setBrokers([{ ...brokers[0], staticWeight: 3 }, brokers[1]]);
    expect(p.next(0)?.plan.endpoints.map((e) => e.weight)).toEqual([3, 1]);
  });

  it('does not slow-start the brokers present when the control plane starts', () => {
    const p = new Planner('metrics', defaultPolicy());
    p.setBrokers(brokers);
    const first = p.next(1_000_000)!;
    expect(first.decisions.map((d) => d.factors.slowStart)).toEqual([1, 1]);
    const [wa, wb] = first.plan.endpoints.map((e) => e.weight);
    expect(wa).toBe(wb);
  });

  it('slow-starts a broker that joins later', () => {
    const p = new Planner('metrics', defaultPolicy());
    p.setBrokers(brokers);
    p.next(1_000_000);
    p.setBrokers([...brokers, { name: 'c', address: '10.0.0.3', port: 1883 }]);
    const out = p.next(1_000_100)!;
    const c = out.decisions.find((d) => d.name === 'c')!;
    expect(c.factors.slowStart).toBeLessThan(0.2);
  });

  it('gives a broker that reports overload a small fraction of the weight', () => {
    const policy = defaultPolicy();
    // The proportional controller, cutting on one scrape: the damped one is the next test.
    const p = new Planner('metrics', {
      ...policy,
      controller: { ...policy.controller, mode: 'proportional' },
      overload: { ...policy.overload, confirmSamples: 1 },
    });
    p.setBrokers(brokers);
    p.setLoads(
      new Map([
        ['a', { ...load('a', 1000, 100, 0.5), signals: { connections: 100, cpu: 0.5, overloadLevel: 5 } }],
        ['b', load('b', 1000, 2000, 0.5)],
      ]),
    );
    const [wa, wb] = p.next(1000)!.plan.endpoints.map((e) => e.weight);
    expect(wa * 50).toBeLessThanOrEqual(wb);
  });

  it('cuts a broker that reports a severe overload (level 5) at once: with the default damped controller', () => {
    const p = new Planner('metrics', defaultPolicy());
    p.setBrokers(brokers);
    // 2000 connections at cpu 0.5: quietConnections (20) barely soften the gap.
    const hot = (atMs: number): BrokerLoad => ({
      ...load('a', atMs, 2000, 0.5),
      signals: { connections: 2000, cpu: 0.5, overloadLevel: 5 },
    });
    p.setLoads(
      new Map([
        ['a', hot(1000)],
        ['b', load('b', 1000, 2000, 0.5)],
      ]),
    );
    const [once] = p.next(1000)!.plan.endpoints.map((e) => e.weight);
    p.setLoads(
      new Map([
        ['a', hot(6000)],
        ['b', load('b', 6000, 2000, 0.5)],
      ]),
    );
    const [wa, wb] = p.next(6000)!.plan.endpoints.map((e) => e.weight);
    expect(once * 10).toBeLessThanOrEqual(wb);
    expect(wa * 10).toBeLessThanOrEqual(wb);
  });

  it('gives identical plans for identical inputs (replicas agree)', () => {
    const run = (): unknown => {
      const p = new Planner('metrics', defaultPolicy());
      p.setBrokers(brokers);
      p.setLoads(
        new Map([
          ['a', load('a', 1000, 300, 0.6)],
          ['b', load('b', 1000, 100, 0.2)],
        ]),
      );
      return p.next(5000)!.plan;
    };
    expect(run()).toEqual(run());
  });
});
