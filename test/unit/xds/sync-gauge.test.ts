import { Registry } from 'prom-client';
import { proxyStatus, type ProxyStatusBody } from '../../../src/admin/proxy-views';
import { CLUSTER, ENDPOINT, registerSyncGauge, STALE_AFTER_MS, syncCounts, type StreamSync, type SyncState } from '../../../src/xds';
import { DeltaStream } from '../../../src/xds/delta-stream';
import { SotwStream } from '../../../src/xds/sotw-stream';
import { harness } from './harness';
import { model } from '../translation/fixtures';

const EDS_NAMES = ['mqtt_brokers'];

function asStream(s: SotwStream | DeltaStream, id: number, kind: 'sotw' | 'delta'): StreamSync {
  return { id, kind, nodeId: `e${id}`, cluster: 'edge', peer: 'ipv4:127.0.0.1:1', openedAt: new Date(0).toISOString(), types: s.sync() };
}

/** The gauge's state of one stream's EDS, at the harness's clock, the snapshot published at `publishedAt`. */
function edsState(h: ReturnType<typeof harness>, stream: StreamSync, publishedAt: number): SyncState | undefined {
  const row = syncCounts([stream], h.deps.nowMs(), publishedAt).get('eds');
  return row && (Object.entries(row).find(([, n]) => n === 1)?.[0] as SyncState);
}

function sotw() {
  const h = harness();
  const s = new SotwStream(h.deps);
  const [cds] = s.onRequest(CLUSTER, { type_url: CLUSTER, node: { id: 'e1' } });
  s.onRequest(CLUSTER, { type_url: CLUSTER, version_info: cds.version, response_nonce: cds.nonce });
  const [eds] = s.onRequest(ENDPOINT, { type_url: ENDPOINT, resource_names: EDS_NAMES });
  s.onRequest(ENDPOINT, { type_url: ENDPOINT, resource_names: EDS_NAMES, version_info: eds.version, response_nonce: eds.nonce });
  return { h, s, eds, eds_: (publishedAt = h.deps.nowMs()) => edsState(h, asStream(s, 1, 'sotw'), publishedAt) };
}

function delta() {
  const h = harness();
  const s = new DeltaStream(h.deps);
  const [cds] = s.onRequest(CLUSTER, { type_url: CLUSTER, node: { id: 'e1' } });
  s.onRequest(CLUSTER, { type_url: CLUSTER, response_nonce: cds.nonce });
  const [eds] = s.onRequest(ENDPOINT, { type_url: ENDPOINT, resource_names_subscribe: EDS_NAMES });
  s.onRequest(ENDPOINT, { type_url: ENDPOINT, response_nonce: eds.nonce });
  return { h, s, eds_: (publishedAt = h.deps.nowMs()) => edsState(h, asStream(s, 1, 'delta'), publishedAt) };
}

describe('the sync gauge, per Envoy and type', () => {
  it('SotW: SYNCED once ACKed, PENDING while a push is unanswered, STALE after the threshold, NACKED when the latest is rejected', () => {
    const { h, s, eds, eds_ } = sotw();
    expect(eds_()).toBe('SYNCED');
    h.publishWeights(3, 1, 1);
    const [bad] = s.onSnapshot();
    expect(eds_()).toBe('PENDING');
    h.advance(STALE_AFTER_MS);
    expect(eds_()).toBe('STALE');
    const nack = { type_url: ENDPOINT, resource_names: EDS_NAMES, version_info: eds.version, response_nonce: bad.nonce };
    s.onRequest(ENDPOINT, { ...nack, error_detail: { code: 3, message: 'boom' } });
    expect(eds_()).toBe('NACKED');
    h.publishWeights(4, 1, 1);
    const [good] = s.onSnapshot();
    expect(eds_()).toBe('PENDING');
    s.onRequest(ENDPOINT, { type_url: ENDPOINT, resource_names: EDS_NAMES, version_info: good.version, response_nonce: good.nonce });
    expect(eds_()).toBe('SYNCED');
  });

  it('Delta: PENDING while a response is unanswered, NACKED while the rejected version is still the current one', () => {
    const { h, s, eds_ } = delta();
    expect(eds_()).toBe('SYNCED');
    h.publishWeights(5, 1, 1);
    const [bad] = s.onSnapshot();
    expect(eds_()).toBe('PENDING');
    s.onRequest(ENDPOINT, { type_url: ENDPOINT, response_nonce: bad.nonce, error_detail: { message: 'nope' } });
    expect(eds_()).toBe('NACKED');
    expect(s.onSnapshot()).toEqual([]);
    expect(eds_()).toBe('NACKED');
    h.publishWeights(6, 1, 1);
    const [good] = s.onSnapshot();
    expect(eds_()).toBe('PENDING');
    s.onRequest(ENDPOINT, { type_url: ENDPOINT, response_nonce: good.nonce });
    expect(eds_()).toBe('SYNCED');
  });

  it('Delta: SYNCED again after a rollback to the version the client kept, though nothing is sent', () => {
    const { h, s, eds_ } = delta();
    h.publishWeights(5, 1, 1);
    const [bad] = s.onSnapshot();
    s.onRequest(ENDPOINT, { type_url: ENDPOINT, response_nonce: bad.nonce, error_detail: { message: 'nope' } });
    expect(eds_()).toBe('NACKED');
    h.publish(model());
    expect(s.onSnapshot()).toEqual([]);
    expect(eds_()).toBe('SYNCED');
  });

  it('counts a stream behind a snapshot it was not sent yet (its push still queued) from the publish on', () => {
    const { h, eds_ } = sotw();
    const publishedAt = h.deps.nowMs();
    h.publishWeights(7, 1, 1);
    expect(eds_(publishedAt)).toBe('PENDING');
    h.advance(STALE_AFTER_MS);
    expect(eds_(publishedAt)).toBe('STALE');
  });

  it('has no state for a type nothing was sent of yet', () => {
    const h = harness();
    const s = new SotwStream(h.deps);
    s.onRequest(CLUSTER, { type_url: CLUSTER, node: { id: 'e1' }, resource_names: [] });
    const stream = { ...asStream(s, 1, 'sotw'), types: { [ENDPOINT]: { holdsLatest: false, nackedLatest: false } } };
    expect(syncCounts([stream], h.deps.nowMs(), undefined).get('eds')).toBeUndefined();
  });

  it('reports every state of a type seen, and counts what GET /proxy-status shows, stream for stream', async () => {
    const a = sotw();
    const b = sotw();
    const c = delta();
    b.h.publishWeights(2, 1, 1);
    b.s.onSnapshot();
    c.h.publishWeights(2, 1, 1);
    c.s.onSnapshot();
    c.h.advance(STALE_AFTER_MS + 1);
    // One clock for all three: c's is the latest, so b's push is stale by then too.
    const now = c.h.deps.nowMs();
    const streams = [asStream(a.s, 0, 'sotw'), asStream(b.s, 1, 'sotw'), asStream(c.s, 2, 'delta')];
    const counts = Object.fromEntries(syncCounts(streams, now, undefined));
    expect(counts).toEqual({
      cds: { SYNCED: 3, PENDING: 0, STALE: 0, NACKED: 0 },
      eds: { SYNCED: 1, PENDING: 0, STALE: 2, NACKED: 0 },
    });

    const page = proxyStatus(
      {
        sync: () => ({ streams, total: streams.length }),
        nodeIds: () => streams.map((s) => s.nodeId),
        configOf: () => undefined,
        snapshotVersion: () => 'v',
        publishedAtMs: () => undefined,
        nowMs: () => now,
      },
      new URLSearchParams(),
    ).body as ProxyStatusBody;
    const fromPage: Record<string, Record<string, number>> = {};
    for (const p of page.proxies)
      for (const [type, view] of Object.entries(p.types)) {
        const row = (fromPage[type.toLowerCase()] ??= { SYNCED: 0, PENDING: 0, STALE: 0, NACKED: 0 });
        row[view.state]++;
      }
    expect(fromPage).toEqual(counts);

    const registry = new Registry();
    let current: StreamSync[] = streams;
    registerSyncGauge(registry, { streams: () => current, publishedAtMs: () => undefined, nowMs: () => now });
    const text = await registry.getSingleMetricAsString('mqtt_xds_streams_sync');
    expect(text).toContain('mqtt_xds_streams_sync{type="eds",state="STALE"} 2');
    expect(text).toContain('mqtt_xds_streams_sync{type="eds",state="PENDING"} 0');
    expect(text).toContain('mqtt_xds_streams_sync{type="cds",state="NACKED"} 0');
    current = [];
    expect(await registry.getSingleMetricAsString('mqtt_xds_streams_sync')).not.toContain('type="eds"');
  });
});
