import { brokersFromSlices, parsePortRef, type SliceLike } from '../../../src/discovery/kubernetes/endpoint-slices';

const ports = [
  { name: 'mqtt', port: 1883, protocol: 'TCP' },
  { name: 'mqtt-tls', port: 8883, protocol: 'TCP' },
  { name: 'metrics', port: 9399, protocol: 'TCP' },
];

function slice(name: string, endpoints: SliceLike['endpoints'], extra: Partial<SliceLike> = {}): SliceLike {
  return { metadata: { name, namespace: 'mqtt' }, addressType: 'IPv4', ports, endpoints, ...extra };
}
const pod = (name: string, ip: string, conditions: { ready?: boolean; serving?: boolean; terminating?: boolean } = { ready: true }) => ({
  addresses: [ip],
  conditions,
  targetRef: { kind: 'Pod', name, namespace: 'mqtt' },
});
const mapping = { mqttPort: 'mqtt', metricsPort: 'metrics', metricsPath: '/metrics' };

describe('brokersFromSlices', () => {
  it('maps ready pods to serving brokers named after the pod, with their metrics URL', () => {
    const out = brokersFromSlices([slice('s1', [pod('hivemq-1', '10.0.0.2'), pod('hivemq-0', '10.0.0.1')])], mapping);
    expect(out.problems).toEqual([]);
    expect(out.brokers).toEqual([
      { name: 'hivemq-0', address: '10.0.0.1', port: 1883, metricsUrl: 'http://10.0.0.1:9399/metrics' },
      { name: 'hivemq-1', address: '10.0.0.2', port: 1883, metricsUrl: 'http://10.0.0.2:9399/metrics' },
    ]);
  });

  it("labels each broker with its slice's Service and its zone, for tenants' pools", () => {
    const out = brokersFromSlices(
      [
        slice('s1', [{ ...pod('hivemq-0', '10.0.0.1'), zone: 'eu-1a' }, pod('hivemq-1', '10.0.0.2')], {
          metadata: { name: 's1', namespace: 'mqtt', labels: { 'kubernetes.io/service-name': 'hivemq-gold' } },
        }),
      ],
      mapping,
    );
    expect(out.brokers.map((b) => b.labels)).toEqual([
      { 'kubernetes.io/service-name': 'hivemq-gold', 'topology.kubernetes.io/zone': 'eu-1a' },
      { 'kubernetes.io/service-name': 'hivemq-gold' },
    ]);
  });

  it('marks a serving but terminating pod as draining', () => {
    const out = brokersFromSlices(
      [slice('s1', [pod('hivemq-0', '10.0.0.1', { ready: false, serving: true, terminating: true })])],
      mapping,
    );
    expect(out.brokers).toEqual([expect.objectContaining({ name: 'hivemq-0', draining: true })]);
  });

  it('leaves out pods that are neither ready nor draining', () => {
    const out = brokersFromSlices(
      [
        slice('s1', [
          pod('starting', '10.0.0.1', { ready: false, serving: false, terminating: false }),
          pod('gone', '10.0.0.2', { ready: false, serving: false, terminating: true }),
        ]),
      ],
      mapping,
    );
    expect(out.brokers).toEqual([]);
  });

  it('chooses ports by name or by number', () => {
    const byNumber = brokersFromSlices([slice('s1', [pod('p', '10.0.0.1')])], { mqttPort: 8883, metricsPath: '/metrics' });
    expect(byNumber.brokers[0]).toEqual({ name: 'p', address: '10.0.0.1', port: 8883 });
    const tls = brokersFromSlices([slice('s1', [pod('p', '10.0.0.1')])], { ...mapping, mqttPort: 'mqtt-tls' });
    expect(tls.brokers[0].port).toBe(8883);
    expect(parsePortRef('1883')).toBe(1883);
    expect(parsePortRef('mqtt')).toBe('mqtt');
  });

  it('names a slice without the MQTT port and still uses the others', () => {
    const out = brokersFromSlices(
      [slice('bad', [pod('a', '10.0.0.1')], { ports: [{ name: 'http', port: 80 }] }), slice('good', [pod('b', '10.0.0.2')])],
      mapping,
    );
    expect(out.brokers.map((b) => b.name)).toEqual(['b']);
    expect(out.problems).toEqual([
      expect.objectContaining({ code: 'K8S_NO_MQTT_PORT', path: 'endpointslices/mqtt/bad', message: expect.stringMatching(/http=80/) }),
    ]);
  });

  it('counts a pod listed in two slices once, preferring its ready entry', () => {
    const out = brokersFromSlices(
      [
        slice('a', [pod('hivemq-0', '10.0.0.1', { ready: false, serving: true, terminating: true })]),
        slice('b', [pod('hivemq-0', '10.0.0.1')]),
      ],
      mapping,
    );
    expect(out.brokers).toEqual([expect.not.objectContaining({ draining: true })]);
  });

  it('gives each broker its agent URL when the slice has the agent port', () => {
    const withAgent = [...ports, { name: 'mqtt-xds-agent', port: 9401, protocol: 'TCP' }];
    const out = brokersFromSlices([slice('s1', [pod('hivemq-0', '10.0.0.1')], { ports: withAgent })], {
      ...mapping,
      agentPort: 'mqtt-xds-agent',
    });
    expect(out.problems).toEqual([]);
    expect(out.brokers).toEqual([
      {
        name: 'hivemq-0',
        address: '10.0.0.1',
        port: 1883,
        metricsUrl: 'http://10.0.0.1:9399/metrics',
        agentUrl: 'http://10.0.0.1:9401',
      },
    ]);
    const byNumber = brokersFromSlices([slice('s1', [pod('p', '10.0.0.1')], { ports: withAgent })], { ...mapping, agentPort: 9401 });
    expect(byNumber.brokers[0].agentUrl).toBe('http://10.0.0.1:9401');
  });

  it('gives each broker its WebSocket port when the slice has it, and none otherwise', () => {
    const withWs = [...ports, { name: 'mqtt-ws', port: 8000, protocol: 'TCP' }];
    const m = { ...mapping, websocketPort: 'mqtt-ws' };
    expect(brokersFromSlices([slice('s1', [pod('hivemq-0', '10.0.0.1')], { ports: withWs })], m).brokers[0].websocketPort).toBe(8000);
    const without = brokersFromSlices([slice('s1', [pod('hivemq-0', '10.0.0.1')], { ports })], m);
    expect(without.problems).toEqual([]);
    expect(without.brokers[0]).not.toHaveProperty('websocketPort');
  });

  it('uses https for a port whose appProtocol is https (an agent serving TLS)', () => {
    const tlsPorts = [
      { name: 'mqtt', port: 1883, protocol: 'TCP' },
      { name: 'metrics', port: 9399, protocol: 'TCP' },
      { name: 'mqtt-xds-agent', port: 9401, protocol: 'TCP', appProtocol: 'https' },
    ];
    const out = brokersFromSlices([slice('s1', [pod('hivemq-0', '10.0.0.1')], { ports: tlsPorts })], {
      ...mapping,
      agentPort: 'mqtt-xds-agent',
    });
    expect(out.brokers[0]).toEqual(
      expect.objectContaining({ agentUrl: 'https://10.0.0.1:9401', metricsUrl: 'http://10.0.0.1:9399/metrics' }),
    );
    const metricsOnAgent = brokersFromSlices([slice('s1', [pod('hivemq-0', '10.0.0.1')], { ports: tlsPorts })], {
      ...mapping,
      metricsPort: 'mqtt-xds-agent',
      agentPort: 'mqtt-xds-agent',
    });
    expect(metricsOnAgent.brokers[0].metricsUrl).toBe('https://10.0.0.1:9401/metrics');
  });

  it('leaves out the agent URL, without a problem, when the slice lacks the agent port', () => {
    const out = brokersFromSlices([slice('s1', [pod('p', '10.0.0.1')])], { ...mapping, agentPort: 'mqtt-xds-agent' });
    expect(out.problems).toEqual([]);
    expect(out.brokers).toEqual([{ name: 'p', address: '10.0.0.1', port: 1883, metricsUrl: 'http://10.0.0.1:9399/metrics' }]);
  });

  it('reads no agent port when none is configured', () => {
    const withAgent = [...ports, { name: 'mqtt-xds-agent', port: 9401, protocol: 'TCP' }];
    const out = brokersFromSlices([slice('s1', [pod('p', '10.0.0.1')], { ports: withAgent })], mapping);
    expect(out.brokers[0].agentUrl).toBeUndefined();
  });

  it('brackets IPv6 addresses in metrics URLs and skips FQDN slices', () => {
    const v6 = brokersFromSlices([slice('v6', [pod('p', 'fd00::5')], { addressType: 'IPv6' })], mapping);
    expect(v6.brokers[0].metricsUrl).toBe('http://[fd00::5]:9399/metrics');
    const v6Agent = brokersFromSlices(
      [slice('v6', [pod('p', 'fd00::5')], { addressType: 'IPv6', ports: [...ports, { name: 'mqtt-xds-agent', port: 9401 }] })],
      { ...mapping, agentPort: 'mqtt-xds-agent' },
    );
    expect(v6Agent.brokers[0].agentUrl).toBe('http://[fd00::5]:9401');
    const fqdn = brokersFromSlices([slice('f', [pod('p', 'broker.example')], { addressType: 'FQDN' })], mapping);
    expect(fqdn.brokers).toEqual([]);
    expect(fqdn.problems[0].code).toBe('K8S_ADDRESS_TYPE');
  });
});
