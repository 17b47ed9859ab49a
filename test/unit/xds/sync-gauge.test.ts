import { Registry } from 'prom-client';
import { CLUSTER, ENDPOINT, registerSyncGauge, syncCounts, syncStateOf, type StreamStatus } from '../../../src/xds';
import { DeltaStream } from '../../../src/xds/delta-stream';
import { SotwStream } from '../../../src/xds/sotw-stream';
import { harness } from './harness';
import { model } from '../translation/fixtures';

const EDS_NAMES = ['mqtt_brokers'];

function sotw() {
  const h = harness();
  const s = new SotwStream(h.deps);
  const [cds] = s.onRequest(CLUSTER, { type_url: CLUSTER, node: { id: 'e1' } });
  s.onRequest(CLUSTER, { type_url: CLUSTER, version_info: cds.version, response_nonce: cds.nonce });
  const [eds] = s.onRequest(ENDPOINT, { type_url: ENDPOINT, resource_names: EDS_NAMES });
  s.onRequest(ENDPOINT, { type_url: ENDPOINT, resource_names: EDS_NAMES, version_info: eds.version, response_nonce: eds.nonce });
  return { h, s, eds, eds_: () => syncStateOf('sotw', s.status()[ENDPOINT]!) };
}

function delta() {
  const h = harness();
  const s = new DeltaStream(h.deps);
  const [cds] = s.onRequest(CLUSTER, { type_url: CLUSTER, node: { id: 'e1' } });
  s.onRequest(CLUSTER, { type_url: CLUSTER, response_nonce: cds.nonce });
  const [eds] = s.onRequest(ENDPOINT, { type_url: ENDPOINT, resource_names_subscribe: EDS_NAMES });
  s.onRequest(ENDPOINT, { type_url: ENDPOINT, response_nonce: eds.nonce });
  return { h, s, eds_: () => syncStateOf('delta', s.status()[ENDPOINT]!) };
}

describe('sync state of an Envoy per type', () => {
  it('SotW: SYNCED once ACKed, STALE while a push is unanswered, NACKED when the latest is rejected, STALE again on a newer push', () => {
    const { h, s, eds, eds_ } = sotw();
    expect(eds_()).toBe('SYNCED');
    h.publishWeights(3, 1, 1);
    const [bad] = s.onSnapshot();
    expect(eds_()).toBe('STALE');
    const nack = { type_url: ENDPOINT, resource_names: EDS_NAMES, version_info: eds.version, response_nonce: bad.nonce };
    s.onRequest(ENDPOINT, { ...nack, error_detail: { code: 3, message: 'boom' } });
    expect(eds_()).toBe('NACKED');
    h.publishWeights(4, 1, 1);
    const [good] = s.onSnapshot();
    expect(eds_()).toBe('STALE');
    s.onRequest(ENDPOINT, { type_url: ENDPOINT, resource_names: EDS_NAMES, version_info: good.version, response_nonce: good.nonce });
    expect(eds_()).toBe('SYNCED');
  });

  it('Delta: STALE while a response is pending, NACKED while the rejected version is still the current one', () => {
    const { h, s, eds_ } = delta();
    expect(eds_()).toBe('SYNCED');
    h.publishWeights(5, 1, 1);
    const [bad] = s.onSnapshot();
    expect(eds_()).toBe('STALE');
    s.onRequest(ENDPOINT, { type_url: ENDPOINT, response_nonce: bad.nonce, error_detail: { message: 'nope' } });
    expect(eds_()).toBe('NACKED');
    expect(s.onSnapshot()).toEqual([]);
    expect(eds_()).toBe('NACKED');
    h.publishWeights(6, 1, 1);
    const [good] = s.onSnapshot();
    expect(eds_()).toBe('STALE');
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

  it('has no state for a type nothing was sent of yet', () => {
    expect(syncStateOf('sotw', { subscribed: ['later'] })).toBeUndefined();
    expect(syncStateOf('delta', { subscribed: ['later'] })).toBeUndefined();
  });

  it('counts streams per type and state, and the gauge reports every state of a type seen', async () => {
    const a = sotw();
    const b = sotw();
    b.h.publishWeights(2, 1, 1);
    b.s.onSnapshot();
    const streams: StreamStatus[] = [a, b].map(({ s }, id) => ({
      id,
      kind: 'sotw',
      nodeId: `e${id}`,
      peer: 'ipv4:127.0.0.1:1',
      openedAt: new Date(0).toISOString(),
      types: s.status(),
    }));
    expect(Object.fromEntries(syncCounts(streams))).toEqual({
      cds: { SYNCED: 2, STALE: 0, NACKED: 0 },
      eds: { SYNCED: 1, STALE: 1, NACKED: 0 },
    });
    const registry = new Registry();
    let current = streams;
    registerSyncGauge(registry, () => current);
    const text = await registry.getSingleMetricAsString('mqtt_xds_streams_sync');
    expect(text).toContain('mqtt_xds_streams_sync{type="eds",state="STALE"} 1');
    expect(text).toContain('mqtt_xds_streams_sync{type="cds",state="NACKED"} 0');
    current = [];
    expect(await registry.getSingleMetricAsString('mqtt_xds_streams_sync')).not.toContain('type="eds"');
  });
});
