import type { WeightPlan } from '../../../src/domain';
import { drainAck } from '../../../src/publishing';
import { ENDPOINT, CLUSTER } from '../../../src/xds/type-urls';

const plan = (health: Record<string, 'serving' | 'draining'>): WeightPlan => ({
  endpoints: Object.entries(health).map(([name, h]) => ({ name, address: '10.0.0.1', port: 1883, weight: 1, health: h })),
});
const eds = (nodeId: string, ackedVersion?: string) => ({
  nodeId,
  types: { [ENDPOINT]: { subscribed: 'wildcard' as const, ackedVersion } },
});

describe('drainAck', () => {
  it('is acked when every Envoy with an EDS subscription ACKed the version that has the brokers DRAINING', () => {
    const r = drainAck(['a'], {
      published: plan({ a: 'draining', b: 'serving' }),
      edsVersion: 'v2',
      streams: [eds('e1', 'v2'), eds('e2', 'v2')],
    });
    expect(r).toEqual({ acked: true, laggards: [] });
  });

  it('names each Envoy that has not ACKed the current EDS version once, sorted', () => {
    const r = drainAck(['a'], {
      published: plan({ a: 'draining' }),
      edsVersion: 'v2',
      streams: [eds('e3', 'v1'), eds('e1', 'v2'), eds('e2'), eds('e3', 'v1')],
    });
    expect(r).toEqual({ acked: false, laggards: ['e2', 'e3'] });
  });

  it('ignores streams without an EDS subscription', () => {
    const cdsOnly = { nodeId: 'e9', types: { [CLUSTER]: { subscribed: 'wildcard' as const, ackedVersion: 'x' } } };
    expect(drainAck(['a'], { published: plan({ a: 'draining' }), edsVersion: 'v2', streams: [cdsOnly] })).toEqual({
      acked: true,
      laggards: [],
    });
  });

  it('is not acked, with no laggards, while a broker is still serving in the published plan', () => {
    const r = drainAck(['a', 'b'], { published: plan({ a: 'draining', b: 'serving' }), edsVersion: 'v2', streams: [eds('e1', 'v1')] });
    expect(r).toEqual({ acked: false, laggards: [] });
  });

  it('counts a broker gone from the published plan as drained', () => {
    expect(drainAck(['gone'], { published: plan({ a: 'serving' }), edsVersion: 'v2', streams: [eds('e1', 'v2')] })).toEqual({
      acked: true,
      laggards: [],
    });
  });

  it('is not acked before anything was published', () => {
    expect(drainAck(['a'], { published: undefined, edsVersion: undefined, streams: [] })).toEqual({ acked: false, laggards: [] });
  });
});
