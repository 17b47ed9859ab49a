import { brokersFromSlices, type SliceLike } from '../../../src/discovery/kubernetes/endpoint-slices';
import { podDrains, slimPod, type PodLike } from '../../../src/discovery/kubernetes/pod-drains';

const KEY = 'mqtt-xds.io/drain';
const pod = (name: string, annotations?: Record<string, string>): PodLike => ({
  metadata: { name, namespace: 'mqtt', ...(annotations ? { annotations } : {}) },
});
const endpoint = (
  name: string,
  ip: string,
  conditions: { ready?: boolean; serving?: boolean; terminating?: boolean } = { ready: true },
) => ({
  addresses: [ip],
  conditions,
  targetRef: { kind: 'Pod', name, namespace: 'mqtt' },
});
const slice = (endpoints: SliceLike['endpoints']): SliceLike => ({
  metadata: { name: 's1', namespace: 'mqtt' },
  addressType: 'IPv4',
  ports: [{ name: 'mqtt', port: 1883 }],
  endpoints,
});
const mapping = { mqttPort: 'mqtt', metricsPath: '/metrics' };

describe('podDrains', () => {
  it('drains the pods annotated "true", whatever the case and surrounding spaces', () => {
    const out = podDrains([pod('hivemq-2', { [KEY]: 'true' }), pod('hivemq-0', { [KEY]: ' TRUE ' }), pod('hivemq-1')], KEY);
    expect([...out.pods]).toEqual([
      ['hivemq-0', 'pod annotation mqtt-xds.io/drain'],
      ['hivemq-2', 'pod annotation mqtt-xds.io/drain'],
    ]);
    expect(out.problems).toEqual([]);
  });

  it('ends the drain with "false", an empty value or no annotation', () => {
    const out = podDrains([pod('a', { [KEY]: 'false' }), pod('b', { [KEY]: '' }), pod('c', { other: 'true' })], KEY);
    expect(out.pods.size).toBe(0);
    expect(out.problems).toEqual([]);
  });

  it('ignores and reports a value that is neither true nor false, so a typo moves no clients', () => {
    const out = podDrains([pod('hivemq-0', { [KEY]: 'yes' })], KEY);
    expect(out.pods.size).toBe(0);
    expect(out.problems).toEqual([
      {
        code: 'K8S_DRAIN_ANNOTATION',
        path: 'pods/mqtt/hivemq-0',
        message: 'annotation mqtt-xds.io/drain="yes" is neither "true" nor "false"; ignored',
      },
    ]);
  });

  it('reads the configured annotation key only', () => {
    const out = podDrains([pod('a', { [KEY]: 'true' }), pod('b', { 'example.com/drain': 'true' })], 'example.com/drain');
    expect([...out.pods.keys()]).toEqual(['b']);
  });
});

describe('slimPod', () => {
  it('keeps identity, resourceVersion and the drain annotation, and nothing else', () => {
    const full = {
      metadata: {
        name: 'hivemq-0',
        namespace: 'mqtt',
        uid: 'u1',
        resourceVersion: '42',
        labels: { app: 'hivemq' },
        annotations: { [KEY]: 'true', 'kubectl.kubernetes.io/last-applied-configuration': '{"big":"json"}' },
      },
      spec: { containers: [{ name: 'hivemq', image: 'hivemq/hivemq-ce' }] },
      status: { phase: 'Running' },
    } as PodLike;
    expect(slimPod(full, KEY)).toEqual({
      metadata: { name: 'hivemq-0', namespace: 'mqtt', uid: 'u1', resourceVersion: '42', annotations: { [KEY]: 'true' } },
    });
    expect(slimPod(pod('p', { other: 'x' }), KEY)).toEqual({ metadata: { name: 'p', namespace: 'mqtt' } });
  });
});

describe('brokersFromSlices with drained pods', () => {
  const drains = (names: string[]) =>
    podDrains(
      names.map((n) => pod(n, { [KEY]: 'true' })),
      KEY,
    ).pods;

  it('publishes an annotated ready pod as draining, naming the annotation as the reason', () => {
    const out = brokersFromSlices(
      [slice([endpoint('hivemq-0', '10.0.0.1'), endpoint('hivemq-1', '10.0.0.2')])],
      mapping,
      drains(['hivemq-1']),
    );
    expect(out.brokers).toEqual([
      { name: 'hivemq-0', address: '10.0.0.1', port: 1883 },
      { name: 'hivemq-1', address: '10.0.0.2', port: 1883, draining: true, drainReason: 'pod annotation mqtt-xds.io/drain' },
    ]);
  });

  it('serves the pod again once the annotation is gone', () => {
    const out = brokersFromSlices([slice([endpoint('hivemq-1', '10.0.0.2')])], mapping, drains([]));
    expect(out.brokers).toEqual([{ name: 'hivemq-1', address: '10.0.0.2', port: 1883 }]);
  });

  it('tells a terminating pod from an annotated one, and names both reasons when both apply', () => {
    const terminating = { ready: false, serving: true, terminating: true };
    const out = brokersFromSlices(
      [slice([endpoint('hivemq-0', '10.0.0.1', terminating), endpoint('hivemq-1', '10.0.0.2', terminating)])],
      mapping,
      drains(['hivemq-1']),
    );
    expect(out.brokers.map((b) => [b.name, b.drainReason])).toEqual([
      ['hivemq-0', 'pod terminating'],
      ['hivemq-1', 'pod terminating; pod annotation mqtt-xds.io/drain'],
    ]);
  });

  it('adds no broker for an annotated pod the slices do not list, nor for one that is not ready', () => {
    const out = brokersFromSlices(
      [slice([endpoint('hivemq-0', '10.0.0.1'), endpoint('starting', '10.0.0.3', { ready: false, serving: false })])],
      mapping,
      drains(['other-pod', 'starting']),
    );
    expect(out.brokers).toEqual([{ name: 'hivemq-0', address: '10.0.0.1', port: 1883 }]);
  });

  it('never matches an endpoint without a pod reference by its address-derived name', () => {
    const noRef = { addresses: ['10.0.0.9'], conditions: { ready: true } };
    const out = brokersFromSlices([slice([noRef])], mapping, drains(['10-0-0-9']));
    expect(out.brokers).toEqual([{ name: '10-0-0-9', address: '10.0.0.9', port: 1883 }]);
  });
});
