import { Registry } from 'prom-client';
import type { BrokerDecision } from '../../../src/balancing';
import type { Broker, BrokerLoad } from '../../../src/domain';
import { Rebalancer, type AgentClient } from '../../../src/rebalance';
import { createLogger } from '../../../src/util/log';
import { tuned } from '../balancing/fixtures';

/**
 * A drain whose remaining brokers are all overloaded: the plan is blocked, and the drain's
 * progress must say so instead of the phase it had before (the load-balancing benchmark
 * saw "moving" for half a minute while nothing moved).
 */
describe('a blocked plan in the drain progress', () => {
  const counts: Record<string, number> = { a: 400, b: 1200, c: 1200 };
  let overloaded = false;
  let nowMs = 1_000;
  const disconnected: string[] = [];
  const brokers: Broker[] = Object.keys(counts).map((name) => ({ name, address: '10.0.0.1', port: 1883, agentUrl: `http://${name}` }));
  const clientsOf = (name: string): AgentClient[] =>
    Array.from({ length: counts[name] }, (_, i) => ({
      clientId: `${name}-${i}`,
      mqttVersion: 4,
      cleanStart: true,
      sessionExpirySec: 0,
      sharedSubscriber: false,
      connectedSinceMs: i,
    }));
  const loads = (): Map<string, BrokerLoad> =>
    new Map(
      Object.entries(counts).map(([name, n]) => [
        name,
        { broker: name, scrapedAtMs: nowMs, signals: { connections: n }, consecutiveFailures: 0, stale: false },
      ]),
    );
  const decisions = (): BrokerDecision[] =>
    Object.keys(counts).map((name) => ({
      name,
      weight: 1000,
      health: 'serving',
      excluded: false,
      capacity: 2000,
      capacitySource: 'hint',
      factors: { catchUp: 1, slowStart: 1, overload: overloaded && name !== 'a' ? 0.01 : 1, stale: 1, fill: 1 },
      reason: '',
      inputs: {},
    }));
  const rebalancer = new Rebalancer({
    logger: createLogger('error'),
    registry: new Registry(),
    tickMs: 1000,
    agent: {
      listClients: async (url) => ({ ok: true, value: { total: counts[url.slice(7)], clients: clientsOf(url.slice(7)) } }),
      disconnect: async (url, ids) => {
        disconnected.push(...ids);
        counts[url.slice(7)] -= ids.length;
        return { ok: true, value: { disconnected: [...ids], notFound: [] } };
      },
    },
    policy: () => tuned({ rebalance: { ratePerSec: 100, batchSize: 50 } }),
    isLeader: () => true,
    brokers: () => brokers,
    loads,
    decisions,
    setMoving: () => undefined,
    drainingAcked: () => true,
    now: () => nowMs,
  });

  it('reports the drain as paused, with the reason, while every serving broker is overloaded', async () => {
    rebalancer.requestDrain('a');
    // requestDrain starts a round of its own; let it finish.
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(rebalancer.drainStatus('a').phase).toBe('moving');
    const movedBefore = disconnected.length;
    expect(movedBefore).toBeGreaterThan(0);

    overloaded = true;
    nowMs += 1_000;
    await rebalancer.tick();
    expect(disconnected.length).toBe(movedBefore);
    expect(rebalancer.drainStatus('a')).toMatchObject({
      state: 'draining',
      phase: 'paused',
      note: 'nothing moves: every serving broker is overloaded or full',
    });
  });
});
