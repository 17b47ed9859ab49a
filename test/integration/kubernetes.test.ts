import type { ChildProcess } from 'node:child_process';
import { spawnChild } from '../support/children';
import * as path from 'node:path';
import { freePort, waitFor } from '../support';
import { startKube, type KubeEnv } from '../support/kube';
import { startXdsClient, type XdsClient } from '../support/xds-client';

// Kubernetes discovery against a real kube-apiserver and etcd. The API refuses loopback
// addresses in EndpointSlices, so the pods get documentation addresses (192.0.2.0/24)
// that nothing ever dials: a real xDS client reads what the control plane publishes, no
// Envoy health-checks them, and no metrics port is set, so nothing scrapes them either.
const CLI = path.join(__dirname, '..', '..', 'dist', 'src', 'cli.js');
const NS = 'mqtt';

interface Replica {
  proc: ChildProcess;
  xdsPort: number;
  adminPort: number;
  stderr: () => string;
}

describe('Kubernetes discovery, ConfigMap policy and leader election against a real kube-apiserver', () => {
  let kube: KubeEnv;
  let a: Replica;
  let b: Replica | undefined;
  let xds: XdsClient;

  const api = async (method: string, p: string, body?: unknown, contentType?: string): Promise<any> => {
    const res = await kube.request(method, p, body, contentType);
    if (res.status >= 300) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  const pod = (i: number, conditions: object = { ready: true, serving: true, terminating: false }) => ({
    addresses: [`192.0.2.${10 + i}`],
    conditions,
    targetRef: { kind: 'Pod', name: `hivemq-${i}`, namespace: NS },
  });
  const slice = (endpoints: object[]) => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'hivemq-abcde', namespace: NS, labels: { 'kubernetes.io/service-name': 'hivemq' } },
    addressType: 'IPv4',
    ports: [
      { name: 'mqtt', port: 1883, protocol: 'TCP' },
      { name: 'mqtt-tls', port: 8883, protocol: 'TCP' },
      { name: 'metrics', port: 9399, protocol: 'TCP' },
    ],
    endpoints,
  });
  const putSlice = async (endpoints: object[]): Promise<void> => {
    const current = await api('GET', `/apis/discovery.k8s.io/v1/namespaces/${NS}/endpointslices/hivemq-abcde`);
    await api('PUT', `/apis/discovery.k8s.io/v1/namespaces/${NS}/endpointslices/hivemq-abcde`, {
      ...slice(endpoints),
      metadata: { ...slice(endpoints).metadata, resourceVersion: current.metadata.resourceVersion },
    });
  };
  const putPolicy = async (text: string): Promise<void> => {
    const existing = await kube.request('GET', `/api/v1/namespaces/${NS}/configmaps/mqtt-xds-policy`);
    const body = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'mqtt-xds-policy', namespace: NS },
      data: { 'policy.yaml': text },
    };
    if (existing.status === 404) await api('POST', `/api/v1/namespaces/${NS}/configmaps`, body);
    else
      await api('PUT', `/api/v1/namespaces/${NS}/configmaps/mqtt-xds-policy`, {
        ...body,
        metadata: { ...body.metadata, resourceVersion: existing.body.metadata.resourceVersion },
      });
  };
  const status = async (r: Replica): Promise<any> => (await fetch(`http://127.0.0.1:${r.adminPort}/status`)).json();
  const metric = async (r: Replica, name: string): Promise<number | undefined> => {
    const text = await (await fetch(`http://127.0.0.1:${r.adminPort}/metrics`)).text();
    const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  };
  const names = (): string[] => xds.endpoints().map((e) => e.hostname);

  const readyz = async (r: Replica): Promise<{ status: number; text: string }> => {
    const res = await fetch(`http://127.0.0.1:${r.adminPort}/readyz`);
    return { status: res.status, text: await res.text() };
  };

  const startReplica = async (identity: string, opts: { waitReady?: boolean } = {}): Promise<Replica> => {
    const xdsPort = await freePort();
    const adminPort = await freePort();
    let err = '';
    const proc = spawnChild(
      process.execPath,
      [
        CLI,
        '--discovery-source',
        'kubernetes',
        '--discovery-kubernetes-kubeconfig',
        kube.kubeconfigPath,
        '--discovery-kubernetes-namespace',
        NS,
        '--discovery-kubernetes-service',
        'hivemq',
        '--discovery-kubernetes-metrics-port=',
        '--balancing-policy-config-map',
        'mqtt-xds-policy',
        '--leader-election-lease-name',
        'mqtt-xds-leader',
        '--leader-election-identity',
        identity,
        '--leader-election-lease-duration-ms',
        '3000',
        '--leader-election-renew-interval-ms',
        '500',
        '--xds-port',
        String(xdsPort),
        '--admin-port',
        String(adminPort),
        '--push-debounce-ms',
        '20',
        '--log-level',
        'info',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    proc.stderr?.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-6000)));
    const r: Replica = { proc, xdsPort, adminPort, stderr: () => err };
    if (opts.waitReady === false) return r;
    await waitReady(r, identity);
    return r;
  };
  const waitReady = async (r: Replica, identity: string): Promise<void> => {
    await waitFor(async () => (await readyz(r)).status === 200, {
      timeoutMs: 30_000,
      intervalMs: 200,
      what: `replica ${identity} to be ready (stderr: ${r.stderr()})`,
    });
  };
  const stopReplica = async (r: Replica | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    if (!r || r.proc.exitCode !== null) return;
    const exited = new Promise((res) => r.proc.once('exit', res));
    r.proc.kill(signal);
    await exited;
  };

  beforeAll(async () => {
    kube = await startKube();
    await api('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    await api('POST', `/api/v1/namespaces/${NS}/services`, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'hivemq', namespace: NS },
      spec: {
        clusterIP: 'None',
        selector: { app: 'hivemq' },
        ports: [
          { name: 'mqtt', port: 1883 },
          { name: 'mqtt-tls', port: 8883 },
          { name: 'metrics', port: 9399 },
        ],
      },
    });
    await api('POST', `/apis/discovery.k8s.io/v1/namespaces/${NS}/endpointslices`, slice([pod(0), pod(1), pod(2)]));
    // The policy ConfigMap does not exist yet: the replica must stay not ready and say why,
    // rather than publish with default weights; it becomes ready once the ConfigMap appears.
    a = await startReplica('replica-a', { waitReady: false });
    const missing = await waitFor(
      async () => {
        const r = await readyz(a).catch(() => undefined);
        return r && /POLICY_CONFIGMAP_MISSING/.test(r.text) ? r : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: 'readyz to name the missing policy ConfigMap' },
    );
    expect(missing.status).toBe(503);
    expect(missing.text).toContain(`configmap ${NS}/mqtt-xds-policy`);
    await putPolicy('{}\n');
    await waitReady(a, 'replica-a');
    xds = startXdsClient(`127.0.0.1:${a.xdsPort}`, 'k8s-test-envoy');
  });

  afterAll(async () => {
    xds?.close();
    await stopReplica(b, 'SIGKILL');
    await stopReplica(a, 'SIGKILL');
    await kube?.stop();
  });

  it('publishes the three ready pods, named after the pods, on the MQTT port', async () => {
    await waitFor(() => names().length === 3, { timeoutMs: 15_000, what: 'three endpoints' });
    expect(xds.endpoints()).toEqual([
      expect.objectContaining({ hostname: 'hivemq-0', address: '192.0.2.10', port: 1883, health: 'UNKNOWN' }),
      expect.objectContaining({ hostname: 'hivemq-1', address: '192.0.2.11', port: 1883 }),
      expect.objectContaining({ hostname: 'hivemq-2', address: '192.0.2.12', port: 1883 }),
    ]);
  });

  it('follows a scale-out from 3 to 4 pods', async () => {
    await putSlice([pod(0), pod(1), pod(2), pod(3)]);
    await waitFor(() => names().join() === 'hivemq-0,hivemq-1,hivemq-2,hivemq-3', { timeoutMs: 15_000, what: 'four endpoints' });
  });

  it('marks a terminating pod DRAINING', async () => {
    await putSlice([pod(0), pod(1, { ready: false, serving: true, terminating: true }), pod(2), pod(3)]);
    await waitFor(() => xds.endpoints().find((e) => e.hostname === 'hivemq-1')?.health === 'DRAINING', {
      timeoutMs: 15_000,
      what: 'hivemq-1 draining',
    });
  });

  it('applies a policy ConfigMap change and shows what is applied', async () => {
    await putPolicy('overrides:\n  hivemq-0: { weight: 7 }\n');
    await waitFor(() => xds.endpoints().find((e) => e.hostname === 'hivemq-0')?.weight === 7, {
      timeoutMs: 15_000,
      what: 'the pinned weight from the ConfigMap',
    });
    const s = await status(a);
    expect(s.balancing.policy.source).toBe(`configmap ${NS}/mqtt-xds-policy`);
    expect(s.balancing.policy.hash).toMatch(/^[0-9a-f]{16}$/);
    expect(new Date(s.balancing.policy.appliedAt).getTime()).toBeGreaterThan(Date.now() - 60_000);
  });

  it('keeps the old policy and raises an Event on the ConfigMap when it is malformed', async () => {
    await putPolicy('overrides:\n  hivemq-0: { weight: -3 }\n');
    const event = await waitFor(
      async () => {
        const list = await api('GET', `/api/v1/namespaces/${NS}/events?fieldSelector=involvedObject.name%3Dmqtt-xds-policy`);
        return list.items.find((e: any) => e.reason === 'InvalidPolicy');
      },
      { timeoutMs: 15_000, what: 'an InvalidPolicy Event' },
    );
    expect(event.type).toBe('Warning');
    expect(event.involvedObject.kind).toBe('ConfigMap');
    expect(event.message).toMatch(/overrides\.hivemq-0\.weight/);
    expect(xds.endpoints().find((e) => e.hostname === 'hivemq-0')?.weight).toBe(7);
    expect((await status(a)).balancing.policyProblems[0].path).toBe('overrides.hivemq-0.weight');
  });

  it('survives an API server restart mid-watch: no empty push, then a resync', async () => {
    const before = xds.edsHistory().length;
    await kube.stopApiServer();
    await waitFor(async () => (await metric(a, 'mqtt_xds_discovery_synced')) === 0, {
      timeoutMs: 30_000,
      what: 'the control plane to report discovery not synced',
    });
    const readyz = await fetch(`http://127.0.0.1:${a.adminPort}/readyz`);
    expect(readyz.status).toBe(200);
    expect(await readyz.text()).toMatch(/discovery not synced; serving the last known brokers/);
    expect(names()).toHaveLength(4);
    await kube.startApiServer();
    await waitFor(async () => (await metric(a, 'mqtt_xds_discovery_synced')) === 1, {
      timeoutMs: 60_000,
      what: 'discovery to resync',
    });
    await putSlice([pod(0), pod(1, { ready: false, serving: true, terminating: true }), pod(2), pod(3), pod(4)]);
    await waitFor(() => names().includes('hivemq-4'), { timeoutMs: 15_000, what: 'the change made after the restart' });
    expect(
      xds
        .edsHistory()
        .slice(before)
        .every((h) => h.count > 0),
    ).toBe(true);
  });

  it('elects one leader and hands over when it stops; replicas publish identical versions', async () => {
    await waitFor(async () => (await metric(a, 'mqtt_xds_leader')) === 1, { timeoutMs: 15_000, what: 'replica-a to lead' });
    // Slow start ramps by time since a replica first saw a broker; with it finished (here:
    // switched off) replicas that see the same pods and policy compute the same weights.
    await putPolicy('overrides:\n  hivemq-0: { weight: 7 }\nslowStart: { windowMs: 0 }\n');
    b = await startReplica('replica-b');
    await waitFor(async () => (await status(b!)).snapshot?.version === (await status(a)).snapshot?.version, {
      timeoutMs: 15_000,
      what: 'both replicas to publish the same snapshot version',
    });
    expect(await metric(b, 'mqtt_xds_leader')).toBe(0);
    await stopReplica(a);
    await waitFor(async () => (await metric(b!, 'mqtt_xds_leader')) === 1, { timeoutMs: 15_000, what: 'replica-b to take over' });
    const lease = await api('GET', `/apis/coordination.k8s.io/v1/namespaces/${NS}/leases/mqtt-xds-leader`);
    expect(lease.spec.holderIdentity).toBe('replica-b');
    expect(lease.spec.leaseTransitions).toBeGreaterThanOrEqual(1);
  });
});
