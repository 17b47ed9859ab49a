import { CLUSTER, ENDPOINT, EXTENSION_CONFIG, LISTENER } from '../../../src/xds';
import * as snapshotModule from '../../../src/xds/snapshot';
import { SotwStream } from '../../../src/xds/sotw-stream';
import { harness, weightsIn } from './harness';
import { model } from '../translation/fixtures';

const EDS_NAMES = ['mqtt_brokers'];

/** Runs the startup handshake Envoy does: CDS, then EDS for the cluster, then LDS; all ACKed. */
function connected() {
  const h = harness();
  const s = new SotwStream(h.deps);
  const [cds] = s.onRequest(CLUSTER, { type_url: CLUSTER, node: { id: 'e1' } });
  s.onRequest(CLUSTER, { type_url: CLUSTER, version_info: cds.version, response_nonce: cds.nonce });
  const [eds] = s.onRequest(ENDPOINT, { type_url: ENDPOINT, resource_names: EDS_NAMES });
  s.onRequest(ENDPOINT, { type_url: ENDPOINT, resource_names: EDS_NAMES, version_info: eds.version, response_nonce: eds.nonce });
  const [lds] = s.onRequest(LISTENER, { type_url: LISTENER });
  s.onRequest(LISTENER, { type_url: LISTENER, version_info: lds.version, response_nonce: lds.nonce });
  return { h, s, cds, eds, lds };
}

describe('SotwStream', () => {
  it('answers the first request of each type with the full state and counts the ACKs', () => {
    const { h, cds, eds, lds } = connected();
    expect([cds.resourceNames, eds.resourceNames, lds.resourceNames]).toEqual([['mqtt_brokers'], ['mqtt_brokers'], ['mqtt']]);
    expect(h.events.filter((e) => e.event === 'acked').map((e) => e.typeUrl)).toEqual([CLUSTER, ENDPOINT, LISTENER]);
  });

  it('sends nothing more after an ACK when nothing changed', () => {
    const { s } = connected();
    expect(s.onSnapshot()).toEqual([]);
  });

  it('hashes a subscription once per snapshot however many streams share it, and skips types the snapshot did not change', () => {
    const h = harness();
    const streams = Array.from({ length: 50 }, () => new SotwStream(h.deps));
    for (const s of streams) {
      const [cds] = s.onRequest(CLUSTER, { type_url: CLUSTER, node: { id: 'e' } });
      s.onRequest(CLUSTER, { type_url: CLUSTER, version_info: cds.version, response_nonce: cds.nonce });
      const [eds] = s.onRequest(ENDPOINT, { type_url: ENDPOINT, resource_names: EDS_NAMES });
      s.onRequest(ENDPOINT, { type_url: ENDPOINT, resource_names: EDS_NAMES, version_info: eds.version, response_nonce: eds.nonce });
    }
    const hashes = jest.spyOn(snapshotModule, 'setVersion');
    try {
      h.publishWeights(3, 1, 1);
      const outs = streams.map((s) => s.onSnapshot(new Set([ENDPOINT])));
      expect(outs.every((o) => o.length === 1 && o[0].typeUrl === ENDPOINT)).toBe(true);
      // One hash of the EDS subscription for all 50 streams; CDS was not even selected.
      expect(hashes.mock.calls.map(([t]) => t)).toEqual([ENDPOINT]);
      // ACKs answer from the same memo: no more hashing.
      for (const [i, s] of streams.entries())
        s.onRequest(ENDPOINT, {
          type_url: ENDPOINT,
          resource_names: EDS_NAMES,
          version_info: outs[i][0].version,
          response_nonce: outs[i][0].nonce,
        });
      expect(hashes).toHaveBeenCalledTimes(1);
    } finally {
      hashes.mockRestore();
    }
  });

  it('pushes only EDS when a weight changes', () => {
    const { h, s } = connected();
    h.publishWeights(3, 1, 1);
    const out = s.onSnapshot();
    expect(out.map((r) => r.typeUrl)).toEqual([ENDPOINT]);
    expect(weightsIn('sotw', out[0])).toEqual([3, 1, 1]);
  });

  it('pushes CDS before EDS before LDS when all change', () => {
    const { h, s } = connected();
    const m = model();
    h.publish({
      ...m,
      cluster: { ...m.cluster, maxConnections: 5000 },
      listener: { ...m.listener, port: 2883 },
      plan: { endpoints: [m.plan.endpoints[0]] },
    });
    expect(s.onSnapshot().map((r) => r.typeUrl)).toEqual([CLUSTER, ENDPOINT, LISTENER]);
  });

  it('serves the listener filter configs over ECDS by name, and pushes only them when a limit changes', () => {
    const { h, s } = connected();
    const names = ['mqtt.connect_rate_limit', 'mqtt.tcp_proxy'];
    const [ecds] = s.onRequest(EXTENSION_CONFIG, { type_url: EXTENSION_CONFIG, resource_names: names });
    expect(ecds.resourceNames).toEqual(names);
    s.onRequest(EXTENSION_CONFIG, {
      type_url: EXTENSION_CONFIG,
      resource_names: names,
      version_info: ecds.version,
      response_nonce: ecds.nonce,
    });
    const m = model();
    h.publish({ ...m, listener: { ...m.listener, connectRate: { perSec: 100, burst: 100 } } });
    const out = s.onSnapshot();
    expect(out.map((r) => r.typeUrl)).toEqual([EXTENSION_CONFIG]);
    expect(out[0].resourceNames).toEqual(names);
  });

  it('answers the EDS request that follows a Cluster change even when endpoints are unchanged', () => {
    const { h, s, eds } = connected();
    const m = model();
    h.publish({ ...m, cluster: { ...m.cluster, maxConnections: 5000 } });
    const [cds] = s.onSnapshot();
    expect(cds.typeUrl).toBe(CLUSTER);
    s.onRequest(CLUSTER, { type_url: CLUSTER, version_info: cds.version, response_nonce: cds.nonce });
    // The re-created cluster asks for its endpoints again with the old nonce and version.
    const again = s.onRequest(ENDPOINT, {
      type_url: ENDPOINT,
      resource_names: EDS_NAMES,
      version_info: eds.version,
      response_nonce: eds.nonce,
    });
    expect(again).toHaveLength(1);
    expect(again[0].version).toBe(eds.version);
    // ...and only once.
    expect(
      s.onRequest(ENDPOINT, { type_url: ENDPOINT, resource_names: EDS_NAMES, version_info: eds.version, response_nonce: again[0].nonce }),
    ).toEqual([]);
  });

  it('ignores a request with a stale nonce', () => {
    const { h, s, eds } = connected();
    h.publishWeights(3, 1, 1);
    const [push] = s.onSnapshot();
    const out = s.onRequest(ENDPOINT, {
      type_url: ENDPOINT,
      resource_names: ['other'],
      version_info: eds.version,
      response_nonce: eds.nonce,
    });
    expect(out).toEqual([]);
    expect(h.events.at(-1)).toEqual({ event: 'stale', typeUrl: ENDPOINT, detail: eds.nonce });
    expect(s.status()[ENDPOINT]?.sentVersion).toBe(push.version);
  });

  it('keeps a NACKed node on its version and never resends the rejected one', () => {
    const { h, s, eds } = connected();
    h.publishWeights(3, 1, 1);
    const [bad] = s.onSnapshot();
    const nack = {
      type_url: ENDPOINT,
      resource_names: EDS_NAMES,
      version_info: eds.version,
      response_nonce: bad.nonce,
      error_detail: { code: 3, message: 'boom' },
    };
    expect(s.onRequest(ENDPOINT, nack)).toEqual([]);
    expect(h.events.filter((e) => e.event === 'nacked')).toEqual([{ event: 'nacked', typeUrl: ENDPOINT, detail: `${bad.version} boom` }]);
    // Envoy repeats its last good state: still no resend loop.
    expect(s.onRequest(ENDPOINT, { ...nack, error_detail: undefined, response_nonce: bad.nonce })).toEqual([]);
    expect(s.onSnapshot()).toEqual([]);
    // A new version goes out again.
    h.publishWeights(4, 1, 1);
    expect(s.onSnapshot().map((r) => r.typeUrl)).toEqual([ENDPOINT]);
  });

  it('remembers requested names that do not exist yet and sends them when they appear', () => {
    const h = harness();
    const s = new SotwStream(h.deps);
    expect(s.onRequest(ENDPOINT, { type_url: ENDPOINT, resource_names: ['later'] })).toEqual([]);
    const m = model();
    h.publish({ ...m, cluster: { ...m.cluster, name: 'later' }, listener: { ...m.listener, clusterName: 'later' } });
    const out = s.onSnapshot();
    expect(out.map((r) => r.resourceNames)).toEqual([['later']]);
  });

  it('gives a reconnecting Envoy with the current versions no response at all', () => {
    const { h, cds, eds, lds } = connected();
    const fresh = new SotwStream(h.deps);
    expect(fresh.onRequest(CLUSTER, { type_url: CLUSTER, version_info: cds.version })).toEqual([]);
    expect(fresh.onRequest(ENDPOINT, { type_url: ENDPOINT, resource_names: EDS_NAMES, version_info: eds.version })).toEqual([]);
    expect(fresh.onRequest(LISTENER, { type_url: LISTENER, version_info: lds.version })).toEqual([]);
    expect(h.events.filter((e) => e.event === 'pushed')).toHaveLength(3); // only the original stream's
  });

  it('holds subscriptions until the first snapshot exists', () => {
    const h = harness(null);
    const s = new SotwStream(h.deps);
    expect(s.onRequest(CLUSTER, { type_url: CLUSTER })).toEqual([]);
    h.publish(model());
    expect(s.onSnapshot().map((r) => r.typeUrl)).toEqual([CLUSTER]);
  });

  it('measures push-to-ACK latency', () => {
    const h = harness();
    const s = new SotwStream(h.deps);
    const [cds] = s.onRequest(CLUSTER, { type_url: CLUSTER });
    h.advance(42);
    s.onRequest(CLUSTER, { type_url: CLUSTER, version_info: cds.version, response_nonce: cds.nonce });
    expect(h.events.find((e) => e.event === 'acked')?.detail).toBe(`${cds.version} 42`);
  });
});
