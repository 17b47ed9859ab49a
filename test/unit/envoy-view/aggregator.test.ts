import { EnvoyViewAggregator, type EndpointView } from '../../../src/envoy-view';
import type { EndpointLoad, EnvoyLoadReport } from '../../../src/domain';

const A = '10.0.0.1:1883';
const B = '10.0.0.2:1883';
const T0 = 1_000_000;

const report = (nodeId: string, endpoints: EndpointLoad[], intervalMs = 1000): EnvoyLoadReport => ({ nodeId, intervalMs, endpoints });
const load = (endpoint: string, inProgress: number, issued = 0): EndpointLoad => ({ endpoint, inProgress, issued });
const connections = (view: ReadonlyMap<string, EndpointView>): Record<string, number> =>
  Object.fromEntries([...view].map(([k, v]) => [k, v.connections]));

describe('EnvoyViewAggregator', () => {
  it('adds up the latest report of every Envoy per endpoint', () => {
    const agg = new EnvoyViewAggregator({ staleAfterMs: 3000 });
    agg.record(1, report('envoy-1', [load(A, 5, 2), load(B, 3)]), T0);
    agg.record(2, report('envoy-2', [load(A, 1, 4)], 2000), T0 + 100);
    const view = agg.view(T0 + 200);
    expect(view.get(A)).toEqual({ connections: 6, openedPerSec: 2 + 2, envoys: 2, freshAtMs: T0, uncounted: 0, settling: false });
    expect(view.get(B)).toEqual({ connections: 3, openedPerSec: 0, envoys: 2, freshAtMs: T0, uncounted: 0, settling: false });
  });

  it('replaces an Envoy’s report: an endpoint it no longer names counts 0', () => {
    const agg = new EnvoyViewAggregator({ staleAfterMs: 3000 });
    agg.record(1, report('envoy-1', [load(A, 5), load(B, 3)]), T0);
    agg.record(1, report('envoy-1', [load(B, 2)]), T0 + 1000);
    expect(connections(agg.view(T0 + 1000, [A, B]))).toEqual({ [A]: 0, [B]: 2 });
  });

  it('lists the endpoints asked for even when no Envoy names them', () => {
    const agg = new EnvoyViewAggregator({ staleAfterMs: 3000 });
    agg.record(1, report('envoy-1', []), T0);
    expect(agg.view(T0, [A]).get(A)).toEqual({ connections: 0, openedPerSec: 0, envoys: 1, freshAtMs: T0, uncounted: 0, settling: false });
    expect(new EnvoyViewAggregator({ staleAfterMs: 3000 }).view(T0, [A]).get(A)).toEqual({
      connections: 0,
      openedPerSec: 0,
      envoys: 0,
      freshAtMs: undefined,
      uncounted: 0,
      settling: false,
    });
  });

  it('leaves out an Envoy whose last report is older than staleAfterMs, and counts it again when it reports', () => {
    const agg = new EnvoyViewAggregator({ staleAfterMs: 3000 });
    agg.record(1, report('envoy-1', [load(A, 5)]), T0);
    agg.record(2, report('envoy-2', [load(A, 7)]), T0 + 2000);
    expect(agg.view(T0 + 3000).get(A)?.connections).toBe(12);
    expect(agg.view(T0 + 3001).get(A)).toEqual({
      connections: 7,
      openedPerSec: 0,
      envoys: 1,
      freshAtMs: T0 + 2000,
      uncounted: 0,
      settling: false,
    });
    expect(agg.summary(T0 + 3001)).toEqual({ nodes: 2, fresh: 1, entries: 2 });
    agg.record(1, report('envoy-1', [load(A, 4)]), T0 + 3500);
    expect(agg.view(T0 + 3500).get(A)?.connections).toBe(11);
  });

  it('drops an Envoy when its stream ends, but not when an older stream of the same node ends', () => {
    const agg = new EnvoyViewAggregator({ staleAfterMs: 3000 });
    agg.record(1, report('envoy-1', [load(A, 5)]), T0);
    // The Envoy reconnected before its old stream was noticed gone.
    agg.record(2, report('envoy-1', [load(A, 6)]), T0 + 10);
    agg.drop(1, 'envoy-1');
    expect(agg.view(T0 + 20).get(A)?.connections).toBe(6);
    agg.drop(2, 'envoy-1');
    expect(agg.view(T0 + 20).size).toBe(0);
    expect(agg.summary(T0 + 20)).toEqual({ nodes: 0, fresh: 0, entries: 0 });
  });

  it('gives openedPerSec as issued over the interval Envoy measured', () => {
    const agg = new EnvoyViewAggregator({ staleAfterMs: 10_000 });
    agg.record(1, report('envoy-1', [load(A, 0, 10)], 5000), T0);
    agg.record(2, report('envoy-2', [load(A, 0, 3)], 500), T0);
    expect(agg.view(T0).get(A)?.openedPerSec).toBeCloseTo(2 + 6);
  });

  it('refuses an Envoy past maxNodes and keeps the others', () => {
    const agg = new EnvoyViewAggregator({ staleAfterMs: 3000, maxNodes: 2 });
    expect(agg.record(1, report('a', [load(A, 1)]), T0)).toBeUndefined();
    expect(agg.record(2, report('b', [load(A, 1)]), T0)).toBeUndefined();
    expect(agg.record(3, report('c', [load(A, 1)]), T0)?.code).toBe('ENVOY_VIEW_TOO_MANY_NODES');
    // A known node may go on reporting.
    expect(agg.record(1, report('a', [load(A, 2)]), T0 + 1)).toBeUndefined();
    expect(agg.view(T0 + 1).get(A)?.connections).toBe(3);
  });

  it('refuses a report naming too many endpoints, and forgets that Envoy’s earlier one', () => {
    const agg = new EnvoyViewAggregator({ staleAfterMs: 3000, maxEndpointsPerReport: 3 });
    agg.record(1, report('a', [load(A, 4)]), T0);
    const many = Array.from({ length: 4 }, (_, i) => load(`10.1.0.${i}:1883`, 1));
    expect(agg.record(1, report('a', many), T0 + 1)?.code).toBe('ENVOY_VIEW_TOO_MANY_ENDPOINTS');
    expect(agg.summary(T0 + 1)).toEqual({ nodes: 0, fresh: 0, entries: 0 });
  });

  it('bounds the entries kept over all Envoys, counting a replaced report once', () => {
    const agg = new EnvoyViewAggregator({ staleAfterMs: 3000, maxEntries: 3 });
    expect(agg.record(1, report('a', [load(A, 1), load(B, 1)]), T0)).toBeUndefined();
    // Replacing a's two entries with two others stays within the bound.
    expect(agg.record(1, report('a', [load(A, 2), load(B, 2)]), T0)).toBeUndefined();
    expect(agg.record(2, report('b', [load(A, 1), load(B, 1)]), T0)?.code).toBe('ENVOY_VIEW_TOO_MANY_ENTRIES');
    expect(agg.record(2, report('b', [load(A, 1)]), T0)).toBeUndefined();
    expect(agg.summary(T0).entries).toBe(3);
  });

  it('keeps no entry for an endpoint with nothing in progress and nothing opened', () => {
    const agg = new EnvoyViewAggregator({ staleAfterMs: 3000 });
    agg.record(1, report('a', [load(A, 0, 0), load(B, 0, 1)]), T0);
    expect(agg.summary(T0).entries).toBe(1);
    expect(connections(agg.view(T0))).toEqual({ [B]: 0 });
  });

  describe('when the MQTT cluster is replaced (a Cluster update: its hosts count from zero)', () => {
    const uncounted = (view: ReadonlyMap<string, EndpointView>): Record<string, number> =>
      Object.fromEntries([...view].map(([k, v]) => [k, v.uncounted]));

    it('keeps what each Envoy held as uncounted: the most it reported until it surely switched', () => {
      const agg = new EnvoyViewAggregator({ staleAfterMs: 3000 });
      agg.record(1, report('envoy-1', [load(A, 100), load(B, 50)]), T0);
      agg.record(2, report('envoy-2', [load(A, 7)]), T0);
      agg.clusterReplaced(T0 + 100, 5000);
      // Still on the old cluster while the new one warms: 10 more opened through it.
      agg.record(1, report('envoy-1', [load(A, 110), load(B, 50)]), T0 + 1000);
      expect(uncounted(agg.view(T0 + 1000))).toEqual({ [A]: 110 + 7, [B]: 50 });
      expect(agg.view(T0 + 1000).get(A)?.settling).toBe(true);
      // Switched: the new cluster counts only what was opened since.
      agg.record(1, report('envoy-1', [load(A, 5, 5)]), T0 + 2000);
      agg.record(2, report('envoy-2', [load(A, 1, 1)]), T0 + 2000);
      const after = agg.view(T0 + 2000, [A, B]);
      expect(connections(after)).toEqual({ [A]: 6, [B]: 0 });
      expect(uncounted(after)).toEqual({ [A]: 117, [B]: 50 });
      // Past the window the reports count the new cluster only, and the bound stays.
      agg.record(1, report('envoy-1', [load(A, 300)]), T0 + 6000);
      agg.record(2, report('envoy-2', [load(A, 2)]), T0 + 6000);
      expect(uncounted(agg.view(T0 + 6000, [A, B]))).toEqual({ [A]: 117, [B]: 50 });
      expect(agg.view(T0 + 6000).get(A)?.settling).toBe(false);
      // A second replacement adds what the new cluster held.
      agg.clusterReplaced(T0 + 6500, 5000);
      agg.record(1, report('envoy-1', [load(A, 3)]), T0 + 7000);
      agg.record(2, report('envoy-2', [load(A, 0, 1)]), T0 + 7000);
      expect(uncounted(agg.view(T0 + 7000, [A, B]))).toEqual({ [A]: 117 + 302, [B]: 50 });
    });

    it('forgets an Envoy’s uncounted connections with its stream, and leaves a stale Envoy’s out', () => {
      const agg = new EnvoyViewAggregator({ staleAfterMs: 3000 });
      agg.record(1, report('envoy-1', [load(A, 40)]), T0);
      agg.record(2, report('envoy-2', [load(A, 60)]), T0);
      agg.clusterReplaced(T0, 1000);
      agg.record(1, report('envoy-1', []), T0 + 2000);
      expect(agg.view(T0 + 2000).get(A)?.uncounted).toBe(100);
      expect(agg.view(T0 + 3500).get(A)?.uncounted).toBe(40);
      agg.drop(1, 'envoy-1');
      expect(agg.view(T0 + 3500, [A]).get(A)?.uncounted).toBe(0);
      agg.drop(2, 'envoy-2');
      expect(agg.summary(T0 + 3500)).toEqual({ nodes: 0, fresh: 0, entries: 0 });
    });

    it('bounds the uncounted entries like the reports: per Envoy and over all', () => {
      const agg = new EnvoyViewAggregator({ staleAfterMs: 3000, maxEndpointsPerReport: 2, maxEntries: 3 });
      const C = '10.0.0.3:1883';
      agg.record(1, report('a', [load(A, 1), load(B, 1)]), T0);
      agg.clusterReplaced(T0, 1000);
      expect(agg.summary(T0).entries).toBe(4);
      // A third endpoint in the window finds no room in a's bound of 2.
      agg.record(1, report('a', [load(C, 9)]), T0 + 500);
      agg.record(1, report('a', [load(C, 1)]), T0 + 2000);
      const view = agg.view(T0 + 2000);
      expect(uncounted(view)).toEqual({ [A]: 1, [B]: 1, [C]: 0 });
      expect(agg.summary(T0 + 2000).entries).toBe(3);
    });
  });
});
