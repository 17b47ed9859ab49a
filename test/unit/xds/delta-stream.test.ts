import { CLUSTER, ENDPOINT, EXTENSION_CONFIG, LISTENER } from '../../../src/xds';
import { DeltaStream } from '../../../src/xds/delta-stream';
import { harness, weightsIn } from './harness';
import { model } from '../translation/fixtures';

function connected() {
  const h = harness();
  const s = new DeltaStream(h.deps);
  const [cds] = s.onRequest(CLUSTER, { type_url: CLUSTER, node: { id: 'e1' } });
  s.onRequest(CLUSTER, { type_url: CLUSTER, response_nonce: cds.nonce });
  const [eds] = s.onRequest(ENDPOINT, { type_url: ENDPOINT, resource_names_subscribe: ['mqtt_brokers'] });
  s.onRequest(ENDPOINT, { type_url: ENDPOINT, response_nonce: eds.nonce });
  const [lds] = s.onRequest(LISTENER, { type_url: LISTENER });
  s.onRequest(LISTENER, { type_url: LISTENER, response_nonce: lds.nonce });
  return { h, s, cds, eds, lds };
}

describe('DeltaStream', () => {
  it('sends every resource once on a fresh stream and counts the ACKs', () => {
    const { h, cds, eds, lds } = connected();
    expect([cds.resourceNames, eds.resourceNames, lds.resourceNames]).toEqual([['mqtt_brokers'], ['mqtt_brokers'], ['mqtt']]);
    expect(h.events.filter((e) => e.event === 'acked')).toHaveLength(3);
  });

  it('sends only the changed ClusterLoadAssignment when a weight changes', () => {
    const { h, s } = connected();
    h.publishWeights(1, 1, 9);
    const out = s.onSnapshot();
    expect(out.map((r) => r.typeUrl)).toEqual([ENDPOINT]);
    expect(weightsIn('delta', out[0])).toEqual([1, 1, 9]);
  });

  it('sends only the changed filter config over ECDS when the connection rate changes', () => {
    const { h, s } = connected();
    const [ecds] = s.onRequest(EXTENSION_CONFIG, {
      type_url: EXTENSION_CONFIG,
      resource_names_subscribe: ['mqtt.connect_rate_limit', 'mqtt.tcp_proxy'],
    });
    expect(ecds.resourceNames).toEqual(['mqtt.connect_rate_limit', 'mqtt.tcp_proxy']);
    s.onRequest(EXTENSION_CONFIG, { type_url: EXTENSION_CONFIG, response_nonce: ecds.nonce });
    const m = model();
    h.publish({ ...m, listener: { ...m.listener, connectRate: { perSec: 100, burst: 100 } } });
    const out = s.onSnapshot();
    expect(out.map((r) => [r.typeUrl, r.resourceNames])).toEqual([[EXTENSION_CONFIG, ['mqtt.connect_rate_limit']]]);
  });

  it('honours initial_resource_versions: a reconnect with current versions gets nothing', () => {
    const { h } = connected();
    const snap = h.cache.snapshot()!;
    const versions = (t: typeof CLUSTER | typeof ENDPOINT | typeof LISTENER) =>
      Object.fromEntries([...snap.resources[t].values()].map((r) => [r.name, r.version]));
    const s = new DeltaStream(h.deps);
    expect(s.onRequest(CLUSTER, { type_url: CLUSTER, initial_resource_versions: versions(CLUSTER) })).toEqual([]);
    expect(
      s.onRequest(ENDPOINT, {
        type_url: ENDPOINT,
        resource_names_subscribe: ['mqtt_brokers'],
        initial_resource_versions: versions(ENDPOINT),
      }),
    ).toEqual([]);
    expect(s.onRequest(LISTENER, { type_url: LISTENER, initial_resource_versions: versions(LISTENER) })).toEqual([]);
  });

  it('on reconnect sends what changed and removes what the client holds but no longer exists', () => {
    const h = harness();
    const s = new DeltaStream(h.deps);
    const out = s.onRequest(LISTENER, { type_url: LISTENER, initial_resource_versions: { mqtt: 'old', gone: 'v1' } });
    expect(out).toHaveLength(1);
    expect(out[0].resourceNames).toEqual(['mqtt']);
    expect(out[0].removedNames).toEqual(['gone']);
  });

  it('uses removed_resources when a cluster disappears', () => {
    const { h, s } = connected();
    const m = model();
    h.publish({ ...m, cluster: { ...m.cluster, name: 'next' }, listener: { ...m.listener, clusterName: 'next' } });
    const [cds] = s.onSnapshot();
    expect(cds.typeUrl).toBe(CLUSTER);
    expect(cds.resourceNames).toEqual(['next']);
    expect(cds.removedNames).toEqual(['mqtt_brokers']);
  });

  it("re-sends a Cluster's endpoints right after the Cluster changes", () => {
    const { h, s, eds } = connected();
    const m = model();
    h.publish({ ...m, cluster: { ...m.cluster, connectTimeoutMs: 1000 } });
    // As the server's fan-out calls it: told that only the Cluster type changed.
    const out = s.onSnapshot(new Set([CLUSTER]));
    expect(out.map((r) => r.typeUrl)).toEqual([CLUSTER, ENDPOINT]);
    expect(out[1].resourceNames).toEqual(['mqtt_brokers']);
    expect(out[1].bytes.includes(eds.bytes.subarray(eds.bytes.length - 40))).toBe(true);
  });

  it('keeps the client on its version after a NACK and does not resend the rejected one', () => {
    const { h, s } = connected();
    h.publishWeights(5, 1, 1);
    const [bad] = s.onSnapshot();
    expect(s.onRequest(ENDPOINT, { type_url: ENDPOINT, response_nonce: bad.nonce, error_detail: { message: 'nope' } })).toEqual([]);
    expect(h.events.filter((e) => e.event === 'nacked').map((e) => e.detail)).toEqual([`${bad.version} nope`]);
    expect(s.onSnapshot()).toEqual([]);
    expect(s.onRequest(ENDPOINT, { type_url: ENDPOINT })).toEqual([]);
    h.publishWeights(6, 1, 1);
    expect(s.onSnapshot().map((r) => r.typeUrl)).toEqual([ENDPOINT]);
  });

  it('sends a subscribed name when it appears, and forgets unsubscribed names', () => {
    const h = harness();
    const s = new DeltaStream(h.deps);
    expect(s.onRequest(ENDPOINT, { type_url: ENDPOINT, resource_names_subscribe: ['later'] })).toEqual([]);
    const m = model();
    h.publish({ ...m, cluster: { ...m.cluster, name: 'later' }, listener: { ...m.listener, clusterName: 'later' } });
    const [out] = s.onSnapshot();
    expect(out.resourceNames).toEqual(['later']);
    s.onRequest(ENDPOINT, { type_url: ENDPOINT, response_nonce: out.nonce, resource_names_unsubscribe: ['later'] });
    h.publishWeights(2, 2, 2);
    h.publish({
      ...m,
      cluster: { ...m.cluster, name: 'later', connectTimeoutMs: 1234 },
      listener: { ...m.listener, clusterName: 'later' },
    });
    expect(s.onSnapshot()).toEqual([]);
  });

  it('ignores an unknown nonce without acting on it', () => {
    const { h, s } = connected();
    expect(s.onRequest(ENDPOINT, { type_url: ENDPOINT, response_nonce: 'bogus', error_detail: { message: 'x' } })).toEqual([]);
    expect(h.events.at(-1)?.event).toBe('stale');
  });
});
