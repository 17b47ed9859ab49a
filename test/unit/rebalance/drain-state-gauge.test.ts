// mqtt_xds_drain_state: one series per drain in force, so an alert can name a stuck drain's broker.
import { tuned } from '../balancing/fixtures';
import { Fleet } from './fleet';

async function series(fleet: Fleet): Promise<string[]> {
  const got = await fleet.registry.getSingleMetric('mqtt_xds_drain_state')?.get();
  return (got?.values ?? []).map((v) => `${v.labels.broker} ${v.labels.state} ${v.value}`);
}

describe('the drain state gauge', () => {
  it('reports a drain as draining, then timed-out past drain.deadlineMs, and drops it once cancelled', async () => {
    // An agent that fails every request: the drain cannot move anyone and must time out.
    const fleet = new Fleet({ a: 20, b: 0 }, tuned({ drain: { deadlineMs: 5000 } }));
    fleet.failWith = { code: 'AGENT_CONNECT', message: 'refused' };
    const r = fleet.rebalancer();
    expect(await series(fleet)).toEqual([]);
    r.requestDrain('a');
    await r.tick();
    expect(await series(fleet)).toEqual(['a draining 1']);
    for (let i = 0; i < 6; i++) {
      fleet.nowMs += 1000;
      await r.tick();
    }
    expect(await series(fleet)).toEqual(['a timed-out 1']);
    r.cancelDrain('a');
    expect(await series(fleet)).toEqual([]);
  });

  it('reports a drain that emptied its broker as drained', async () => {
    const fleet = new Fleet({ a: 10, b: 0 }, tuned({}));
    const r = fleet.rebalancer();
    r.requestDrain('a');
    for (let i = 0; i < 10 && !r.drainStatus('a').drained; i++) {
      fleet.nowMs += 1000;
      await r.tick();
    }
    expect(await series(fleet)).toEqual(['a drained 1']);
  });
});
