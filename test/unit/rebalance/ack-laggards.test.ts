// Issue 9.4: one Envoy that never ACKs the DRAINING push must not stall every drain.
import type { Rebalancer } from '../../../src/rebalance';
import { tuned } from '../balancing/fixtures';
import { Fleet } from './fleet';

async function run(fleet: Fleet, r: Rebalancer, seconds: number): Promise<void> {
  for (let i = 0; i < seconds; i++) {
    fleet.nowMs += 1000;
    await r.tick();
  }
}

/** A drain of a (60 clients) with one Envoy that never ACKs, and a 5 s ackTimeoutMs. */
function stuckDrain(laggardAction?: 'proceed' | 'wait'): { fleet: Fleet; r: Rebalancer } {
  const fleet = new Fleet({ a: 60, b: 0 }, tuned({ rebalance: { ackTimeoutMs: 5000, ...(laggardAction ? { laggardAction } : {}) } }));
  fleet.laggards = ['envoy-stuck'];
  const r = fleet.rebalancer();
  r.requestDrain('a');
  return { fleet, r };
}

const laggardGauge = async (fleet: Fleet): Promise<number | undefined> =>
  (await fleet.registry.getSingleMetric('mqtt_xds_rebalance_ack_laggards')?.get())?.values[0]?.value;
const laggardLogs = (fleet: Fleet): string[] => fleet.logLines.filter((l) => l.includes('have not ACKed'));

describe('Envoys that do not ACK a DRAINING push', () => {
  it('hold a drain back only until ackTimeoutMs, then it goes on with the Envoys that did ACK', async () => {
    const { fleet, r } = stuckDrain();
    await run(fleet, r, 4);
    expect(fleet.moved('a')).toBe(0);
    expect(r.drainStatus('a')).toMatchObject({ phase: 'waiting-for-ack' });
    await run(fleet, r, 4);
    expect(fleet.moved('a')).toBe(60);
    expect(r.drainStatus('a')).toMatchObject({ state: 'drained' });
  });

  it('are named by node id in status, counted in a gauge, and logged once per change', async () => {
    const { fleet, r } = stuckDrain();
    fleet.reconnect = false;
    fleet.clients.set('a', [
      ...fleet.clients.get('a')!,
      ...Array.from({ length: 9940 }, (_, i) => ({
        clientId: `x-${i}`,
        mqttVersion: 5,
        cleanStart: true,
        sessionExpirySec: 0,
        sharedSubscriber: false,
        connectedSinceMs: 0,
      })),
    ]);
    await run(fleet, r, 7);
    expect(r.drainStatus('a')).toMatchObject({ ackLaggards: { laggards: ['envoy-stuck'], laggardCount: 1 } });
    expect(r.status()).toMatchObject({ ackLaggards: { laggards: ['envoy-stuck'], laggardCount: 1 } });
    expect(await laggardGauge(fleet)).toBe(1);
    await run(fleet, r, 3);
    expect(laggardLogs(fleet)).toHaveLength(1);
    fleet.laggards = ['envoy-stuck', 'envoy-slow'];
    await run(fleet, r, 1);
    expect(laggardLogs(fleet)).toHaveLength(2);
    expect(await laggardGauge(fleet)).toBe(2);
    fleet.laggards = [];
    await run(fleet, r, 1);
    expect(await laggardGauge(fleet)).toBe(0);
    expect(r.drainStatus('a').ackLaggards).toBeUndefined();
  });

  it('with laggardAction wait, stall the drain and are named while it waits', async () => {
    const { fleet, r } = stuckDrain('wait');
    await run(fleet, r, 10);
    expect(fleet.moved('a')).toBe(0);
    expect(r.drainStatus('a')).toMatchObject({ phase: 'waiting-for-ack', ackLaggards: { laggards: ['envoy-stuck'] } });
    expect(r.drainStatus('a').note).toMatch(/envoy-stuck.*laggardAction wait/);
    fleet.laggards = [];
    await run(fleet, r, 3);
    expect(fleet.moved('a')).toBe(60);
  });

  it('unnamed (a bare false answer) keep the drain waiting: nobody is known to have ACKed', async () => {
    const { fleet, r } = stuckDrain();
    fleet.laggards = [];
    fleet.acked = false;
    await run(fleet, r, 10);
    expect(fleet.moved('a')).toBe(0);
    expect(r.drainStatus('a').note).toMatch(/not ACKed the DRAINING push after/);
  });

  it('are bounded in status: at most 20 node ids, with the full count', async () => {
    const { fleet, r } = stuckDrain('wait');
    fleet.laggards = Array.from({ length: 500 }, (_, i) => `envoy-${String(i).padStart(3, '0')}`);
    await run(fleet, r, 7);
    const lag = r.drainStatus('a').ackLaggards!;
    expect(lag.laggardCount).toBe(500);
    expect(lag.laggards).toHaveLength(20);
    expect(await laggardGauge(fleet)).toBe(500);
  });
});
