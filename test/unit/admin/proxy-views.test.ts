import { Registry } from 'prom-client';
import { AdminServer, configDump, MAX_PROXIES, proxyStatus, proxyViews, type ProxyViewSources } from '../../../src/admin';
import { silentLogger } from '../../../src/util/log';
import { CLUSTER, ENDPOINT, LISTENER, REDACTED, SECRET, type StreamSync } from '../../../src/xds';
import { snapshotWithSecret } from '../translation/fixtures';

const snapshot = snapshotWithSecret;

const stream = (id: number, nodeId: string, over: Partial<StreamSync> = {}): StreamSync => ({
  id,
  kind: 'sotw',
  nodeId,
  cluster: 'edge',
  peer: 'ipv4:127.0.0.1:5000',
  openedAt: '2026-12-07T12:00:00.000Z',
  types: {
    [CLUSTER]: { sentVersion: 'c1', ackedVersion: 'c1', latestVersion: 'c1', holdsLatest: true, nackedLatest: false },
    [LISTENER]: {
      sentVersion: 'l2',
      ackedVersion: 'l1',
      latestVersion: 'l2',
      holdsLatest: false,
      nackedLatest: true,
      lastError: 'bad listener',
    },
    [ENDPOINT]: {
      sentVersion: 'e2',
      ackedVersion: 'e1',
      latestVersion: 'e2',
      holdsLatest: false,
      nackedLatest: false,
      inFlightSinceMs: 1000,
    },
  },
  ...over,
});

function sources(streams: StreamSync[]): ProxyViewSources {
  const snap = snapshot();
  const sorted = [...streams].sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : a.id - b.id));
  return {
    sync: ({ nodeId, limit }) => {
      const matched = sorted.filter((s) => nodeId === undefined || s.nodeId === nodeId);
      return { streams: matched.slice(0, limit), total: matched.length };
    },
    nodeIds: () => [...new Set(sorted.map((s) => s.nodeId))],
    configOf: (node) =>
      streams.some((s) => s.nodeId === node)
        ? {
            nodeId: node,
            cluster: 'edge',
            streams: [{ id: 1, kind: 'sotw' }],
            resources: {
              [CLUSTER]: [...snap.resources[CLUSTER].values()],
              [ENDPOINT]: [...snap.resources[ENDPOINT].values()],
              [SECRET]: [...snap.resources[SECRET].values()],
              [LISTENER]: [...snap.resources[LISTENER].values()],
            },
          }
        : undefined,
    snapshotVersion: () => snap.version,
    publishedAtMs: () => 0,
    nowMs: () => 60_000,
  };
}

describe('GET /proxy-status', () => {
  it('lists every Envoy with each type classified, in push order, sorted by node', () => {
    const r = proxyStatus(sources([stream(2, 'edge-b'), stream(1, 'edge-a')]), new URLSearchParams());
    expect(r.status).toBe(200);
    const body = r.body as { proxies: Array<{ node: string; types: Record<string, { state: string; error?: string }> }> };
    expect(body.proxies.map((p) => p.node)).toEqual(['edge-a', 'edge-b']);
    expect(Object.keys(body.proxies[0].types)).toEqual(['CDS', 'EDS', 'LDS']);
    expect(body.proxies[0].types.CDS.state).toBe('SYNCED');
    expect(body.proxies[0].types.EDS.state).toBe('STALE');
    expect(body.proxies[0].types.LDS).toMatchObject({ state: 'NACKED', error: 'bad listener' });
  });

  it('filters by ?node= and bounds the list', () => {
    const many = Array.from({ length: MAX_PROXIES + 5 }, (_, i) => stream(i, `edge-${String(i).padStart(5, '0')}`));
    const all = proxyStatus(sources(many), new URLSearchParams()).body as { proxies: unknown[]; omitted: number };
    expect(all.proxies).toHaveLength(MAX_PROXIES);
    expect(all.omitted).toBe(5);
    const one = proxyStatus(sources(many), new URLSearchParams('node=edge-00003')).body as { proxies: Array<{ node: string }> };
    expect(one.proxies.map((p) => p.node)).toEqual(['edge-00003']);
  });
});

describe('GET /config-dump', () => {
  it("decodes every resource the Envoy is sent, by type, with the Secret's key redacted", () => {
    const r = configDump(sources([stream(1, 'edge-a')]), new URLSearchParams('node=edge-a'));
    expect(r.status).toBe(200);
    const body = r.body as { node: string; resources: Record<string, Array<{ name: string; resource: Record<string, unknown> }>> };
    expect(body.node).toBe('edge-a');
    expect(Object.keys(body.resources)).toEqual(['Cluster', 'ClusterLoadAssignment', 'Secret', 'Listener']);
    expect(body.resources.Listener[0].resource).toMatchObject({ name: 'mqtt' });
    expect(JSON.stringify(body)).not.toContain('PRIVATE KEY');
    expect(body.resources.Secret[0].resource).toMatchObject({ tls_certificate: { private_key: REDACTED } });
  });

  it('answers 404 naming the connected Envoys for an unknown node, and 400 without one', () => {
    const src = sources([stream(1, 'edge-a'), stream(2, 'edge-b')]);
    expect(configDump(src, new URLSearchParams('node=edge-z'))).toEqual({
      status: 404,
      body: { error: 'no Envoy with node id "edge-z" is connected; connected: "edge-a", "edge-b" (see /proxy-status)' },
    });
    expect(configDump(src, new URLSearchParams())).toMatchObject({ status: 400, body: { error: /name the Envoy: \/config-dump\?node=/ } });
    expect(configDump(sources([]), new URLSearchParams('node=x')).body).toEqual({
      error: 'no Envoy with node id "x" is connected; no Envoy is connected',
    });
    expect(configDump(src, new URLSearchParams(`node=${'x'.repeat(5000)}`)).status).toBe(400);
  });
});

describe('the admin server', () => {
  it('serves both views as JSON, with the query, without a token like /status', async () => {
    const server = new AdminServer({
      host: '127.0.0.1',
      port: 0,
      registry: new Registry(),
      logger: silentLogger,
      readiness: () => ({ ready: true, reason: 'ok' }),
      status: () => ({}),
      token: 'admin-secret',
      views: proxyViews(sources([stream(1, 'edge-a')])),
    });
    const base = `http://127.0.0.1:${await server.start()}`;
    try {
      const ps = await fetch(`${base}/proxy-status?node=edge-a`);
      expect(ps.status).toBe(200);
      expect(((await ps.json()) as { proxies: unknown[] }).proxies).toHaveLength(1);
      const dump = await fetch(`${base}/config-dump?node=edge-a`);
      expect(dump.status).toBe(200);
      expect(dump.headers.get('content-type')).toBe('application/json');
      const missing = await fetch(`${base}/config-dump?node=nope`);
      expect(missing.status).toBe(404);
      expect(((await missing.json()) as { error: string }).error).toMatch(/no Envoy with node id "nope"/);
      expect((await fetch(`${base}/config-dump`, { method: 'POST' })).status).toBe(405);
    } finally {
      await server.stop();
    }
  });
});
