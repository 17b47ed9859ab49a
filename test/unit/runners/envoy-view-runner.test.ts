import { Registry } from 'prom-client';
import type { Broker } from '../../../src/domain';
import { EnvoyViewRunner } from '../../../src/runners';
import { buildResources } from '../../../src/translation';
import { SnapshotCache } from '../../../src/xds';
import { model, plan } from '../translation/fixtures';

const T0 = 1_000_000;
const brokers: Broker[] = [
  { name: 'b-0', address: '10.0.0.1', port: 1883 },
  { name: 'b-1', address: '10.0.0.2', port: 1883 },
  { name: 'b-6', address: 'fd00::6', port: 1883 },
];

function runner(now: { ms: number }, registry = new Registry()): EnvoyViewRunner {
  return new EnvoyViewRunner({ reportIntervalMs: 1000, registry, brokers: () => brokers, nowMs: () => now.ms, notifyDelayMs: 5 });
}

describe('EnvoyViewRunner', () => {
  it('lists every broker served by address:port, with 0 where no Envoy has connections', () => {
    const now = { ms: T0 };
    const r = runner(now);
    r.report(1, { nodeId: 'envoy-1', intervalMs: 1000, endpoints: [{ endpoint: '10.0.0.1:1883', inProgress: 4, issued: 2 }] });
    const view = r.view(T0);
    expect([...view.keys()]).toEqual(['10.0.0.1:1883', '10.0.0.2:1883', '[fd00::6]:1883']);
    expect(view.get('10.0.0.1:1883')).toEqual({ connections: 4, openedPerSec: 2, envoys: 1, freshAtMs: T0, uncounted: 0, settling: false });
    expect(view.get('10.0.0.2:1883')?.connections).toBe(0);
    expect(r.byBroker(T0).get('b-6')?.envoys).toBe(1);
  });

  it('shows per broker what the Envoys hold in /status, and endpoints that are no broker as a count', () => {
    const now = { ms: T0 + 500 };
    const r = runner(now);
    now.ms = T0;
    r.report(1, {
      nodeId: 'envoy-1',
      intervalMs: 1000,
      endpoints: [
        { endpoint: '10.0.0.2:1883', inProgress: 7, issued: 1 },
        { endpoint: '10.9.9.9:1883', inProgress: 1, issued: 0 },
      ],
    });
    r.report(2, { nodeId: 'envoy-2', intervalMs: 3000, endpoints: [{ endpoint: '10.0.0.2:1883', inProgress: 1, issued: 1 }] });
    now.ms = T0 + 500;
    expect(r.status()).toEqual({
      reportIntervalMs: 1000,
      envoys: 2,
      staleEnvoys: 0,
      brokers: {
        'b-0': { connections: 0, openedPerSec: 0, envoys: 2, uncounted: 0, freshAt: new Date(T0).toISOString() },
        'b-1': { connections: 8, openedPerSec: 1.333, envoys: 2, uncounted: 0, freshAt: new Date(T0).toISOString() },
        'b-6': { connections: 0, openedPerSec: 0, envoys: 2, uncounted: 0, freshAt: new Date(T0).toISOString() },
      },
      unknownEndpoints: 1,
    });
    expect(r.status(T0 + 3001)).toMatchObject({ envoys: 0, staleEnvoys: 2, brokers: { 'b-1': { connections: 0, envoys: 0 } } });
  });

  it('exports per-broker gauges that lose a broker once it is no longer served', async () => {
    const registry = new Registry();
    const now = { ms: T0 };
    const r = runner(now, registry);
    r.report(1, { nodeId: 'envoy-1', intervalMs: 1000, endpoints: [{ endpoint: '10.0.0.1:1883', inProgress: 3, issued: 0 }] });
    const text = await registry.metrics();
    expect(text).toMatch(/mqtt_xds_envoy_view_connections\{broker="b-0"\} 3/);
    expect(text).toMatch(/mqtt_xds_envoy_view_envoys 1/);
    brokers.splice(0, 1);
    try {
      expect(await registry.metrics()).not.toMatch(/broker="b-0"/);
    } finally {
      brokers.unshift({ name: 'b-0', address: '10.0.0.1', port: 1883 });
    }
  });

  it('tells listeners once for reports that arrive together, and when an Envoy leaves', async () => {
    const r = runner({ ms: T0 });
    let calls = 0;
    const off = r.onReport(() => calls++);
    for (let i = 0; i < 5; i++) r.report(i, { nodeId: `envoy-${i}`, intervalMs: 1000, endpoints: [] });
    await new Promise((res) => setTimeout(res, 30));
    expect(calls).toBe(1);
    r.closed(0, 'envoy-0');
    await new Promise((res) => setTimeout(res, 30));
    expect(calls).toBe(2);
    off();
    r.report(9, { nodeId: 'envoy-9', intervalMs: 1000, endpoints: [] });
    await new Promise((res) => setTimeout(res, 30));
    expect(calls).toBe(2);
    r.stop();
  });

  it('counts what the Envoys hold as uncounted when the cache publishes a changed MQTT cluster, and only then', async () => {
    const now = { ms: T0 };
    const registry = new Registry();
    const r = runner(now, registry);
    const cache = new SnapshotCache();
    const publish = (perHost: number, weight = 1): void => {
      const m = model();
      const changed = cache.publish(
        buildResources({
          ...m,
          cluster: { ...m.cluster, perHostMaxConnections: perHost },
          plan: { endpoints: plan.endpoints.map((e, i) => (i === 0 ? { ...e, weight } : e)) },
        }),
      );
      if (!changed.ok) throw new Error(JSON.stringify(changed.problems));
    };
    publish(100);
    r.follow(cache, 'mqtt_brokers');
    const held = (): void => {
      r.report(1, {
        nodeId: 'envoy-1',
        intervalMs: 1000,
        endpoints: [{ endpoint: '10.0.0.1:1883', inProgress: 30, issued: 0, cluster: 'mqtt_brokers' }],
      });
    };
    held();
    // A weight change is EDS only: Envoy keeps its cluster and counts on.
    publish(100, 7);
    now.ms = T0 + 10_000;
    held();
    expect(r.status().brokers['b-0']).toMatchObject({ connections: 30, uncounted: 0 });
    // A changed Cluster is a new cluster in Envoy.
    publish(200, 7);
    now.ms = T0 + 20_000;
    r.report(1, {
      nodeId: 'envoy-1',
      intervalMs: 1000,
      endpoints: [{ endpoint: '10.0.0.1:1883', inProgress: 2, issued: 2, cluster: 'mqtt_brokers' }],
    });
    expect(r.status().brokers['b-0']).toMatchObject({ connections: 2, uncounted: 30 });
    expect(await registry.metrics()).toMatch(/mqtt_xds_envoy_view_uncounted_connections\{broker="b-0"\} 30/);
    // After stop, the cache is no longer followed.
    r.stop();
    publish(300, 7);
    now.ms = T0 + 30_000;
    r.report(1, {
      nodeId: 'envoy-1',
      intervalMs: 1000,
      endpoints: [{ endpoint: '10.0.0.1:1883', inProgress: 2, issued: 0, cluster: 'mqtt_brokers' }],
    });
    expect(r.status().brokers['b-0']).toMatchObject({ connections: 2, uncounted: 30 });
  });

  it("adds a broker's WebSocket endpoint and its tenants' pools to its count, and replaces only the cluster that changed", () => {
    const now = { ms: T0 };
    const ws: Broker[] = [{ name: 'w-0', address: '10.0.0.9', port: 1883, websocketPort: 8000 }];
    const r = new EnvoyViewRunner({ reportIntervalMs: 1000, registry: new Registry(), brokers: () => ws, nowMs: () => now.ms });
    const report = (main: number, pool: number, socket: number): void => {
      r.report(1, {
        nodeId: 'envoy-1',
        intervalMs: 1000,
        endpoints: [
          { endpoint: '10.0.0.9:1883', inProgress: main, issued: 0, cluster: 'mqtt_brokers' },
          { endpoint: '10.0.0.9:1883', inProgress: pool, issued: 0, cluster: 'mqtt_brokers.acme' },
          { endpoint: '10.0.0.9:8000', inProgress: socket, issued: 0, cluster: 'mqtt_brokers_ws' },
          { endpoint: '10.0.0.7:1883', inProgress: 1, issued: 0, cluster: 'mqtt_brokers' },
        ],
      });
    };
    report(10, 20, 30);
    expect(r.status().brokers['w-0']).toMatchObject({ connections: 60, uncounted: 0 });
    expect(r.status().unknownEndpoints).toBe(1);
    // Only the tenant's pool changed: its 20 go uncounted, the others are still counted.
    r.clusterReplaced('mqtt_brokers.acme');
    now.ms = T0 + 10_000;
    report(11, 0, 30);
    expect(r.status().brokers['w-0']).toMatchObject({ connections: 41, uncounted: 20 });
  });

  it('counts what the Envoys held through a cluster that is gone (a tenant removed) as uncounted', () => {
    const now = { ms: T0 };
    const r = runner(now);
    const cache = new SnapshotCache();
    const m = model();
    const withTenant = buildResources(m);
    const tenantCluster = { ...withTenant.clusters[0], name: 'mqtt_brokers.acme' };
    const publish = (clusters: typeof withTenant.clusters): void => {
      const endpoints = clusters.map((c) => ({ ...withTenant.endpoints[0], cluster_name: c.name }));
      const done = cache.publish({ ...withTenant, clusters, endpoints });
      if (!done.ok) throw new Error(JSON.stringify(done.problems));
    };
    publish([...withTenant.clusters, tenantCluster]);
    r.follow(cache, 'mqtt_brokers');
    r.report(1, {
      nodeId: 'envoy-1',
      intervalMs: 1000,
      endpoints: [{ endpoint: '10.0.0.1:1883', inProgress: 9, issued: 0, cluster: 'mqtt_brokers.acme' }],
    });
    publish(withTenant.clusters);
    now.ms = T0 + 10_000;
    r.report(1, { nodeId: 'envoy-1', intervalMs: 1000, endpoints: [] });
    expect(r.status().brokers['b-0']).toMatchObject({ connections: 0, uncounted: 9 });
  });
});
