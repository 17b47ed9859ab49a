import type { ChildProcess } from 'node:child_process';
import { spawnChild } from '../support/children';
import fs from 'node:fs';
import os from 'node:os';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { serviceAccountKubeconfig, startKube, type KubeEnv } from '../support/kube';
import { freePort } from '../support/ports';
import { REPO_ROOT } from '../support/repo-root';
import { waitFor } from '../support/wait';
import { startXdsClient, type XdsClient } from '../support/xds-client';

// Operator drains through a pod annotation, against a real kube-apiserver. Each replica
// runs as a ServiceAccount bound to the Role of deploy/base/rbac.yaml, so the test also
// shows that the shipped RBAC grants what the pod watch needs, and what happens when a
// cluster's RBAC lacks the pods rule. Pods get documentation addresses (192.0.2.0/24)
// that nothing dials: a real xDS client reads what the control plane publishes.
const CLI = path.join(REPO_ROOT, 'dist', 'src', 'cli.js');
const NS = 'drain-test';
const ANNOTATION = 'mqtt-xds.io/drain';

interface Replica {
  proc: ChildProcess;
  adminPort: number;
  xds: XdsClient;
  stderr: () => string;
  /** Log lines with this code seen so far (the whole run, not a tail). */
  count: (code: string) => number;
}

describe('draining a broker with a pod annotation, against a real kube-apiserver', () => {
  let kube: KubeEnv;
  let dir: string;
  let a: Replica | undefined;
  let b: Replica | undefined;
  let c: Replica | undefined;
  let shippedKubeconfig = '';

  const api = async (method: string, p: string, body?: unknown, contentType?: string): Promise<any> => {
    const res = await kube.request(method, p, body, contentType);
    if (res.status >= 300) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  const annotate = (pod: string, value: string | null): Promise<unknown> =>
    api(
      'PATCH',
      `/api/v1/namespaces/${NS}/pods/${pod}`,
      { metadata: { annotations: { [ANNOTATION]: value } } },
      'application/merge-patch+json',
    );
  const health = (r: Replica, name: string): string | undefined => r.xds.endpoints().find((e) => e.hostname === name)?.health;
  const metric = async (r: Replica, name: string): Promise<number | undefined> => {
    const text = await (await fetch(`http://127.0.0.1:${r.adminPort}/metrics`)).text();
    const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  };
  const drainStatus = async (r: Replica, name: string): Promise<any> =>
    (await fetch(`http://127.0.0.1:${r.adminPort}/drain/${name}`)).json();

  /** The Role shipped in deploy/base/rbac.yaml, optionally without its pods rule or its drain-record rule. */
  const shippedRole = (name: string, withPods: boolean, withDrainRecord = true): any => {
    const text = fs.readFileSync(path.join(REPO_ROOT, 'deploy', 'base', 'rbac.yaml'), 'utf8');
    const role = parseAllDocuments(text)
      .map((d) => d.toJS())
      .find((o) => o.kind === 'Role');
    const rules = role.rules.filter(
      (r: any) => (withPods || !r.resources.includes('pods')) && (withDrainRecord || !(r.resourceNames ?? []).includes('mqtt-xds-drains')),
    );
    return { ...role, metadata: { ...role.metadata, name, namespace: NS }, rules };
  };

  /** A ServiceAccount bound to `role`, and a kubeconfig that authenticates as it. */
  const serviceAccount = async (name: string, role: any): Promise<string> =>
    (await serviceAccountKubeconfig(kube, { namespace: NS, name, roles: [role], dir })).kubeconfig;

  const startReplica = async (kubeconfig: string): Promise<Replica> => {
    const xdsPort = await freePort();
    const adminPort = await freePort();
    let tail = '';
    let partial = '';
    const codes = new Map<string, number>();
    const proc = spawnChild(
      process.execPath,
      [
        CLI,
        '--discovery-source',
        'kubernetes',
        '--discovery-kubernetes-kubeconfig',
        kubeconfig,
        '--discovery-kubernetes-namespace',
        NS,
        '--discovery-kubernetes-service',
        'hivemq',
        '--discovery-kubernetes-metrics-port=',
        '--xds-port',
        String(xdsPort),
        '--admin-port',
        String(adminPort),
        '--push-debounce-ms',
        '20',
        '--rebalance-tick-ms',
        '200',
        '--log-level',
        'info',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    proc.stderr?.on('data', (d: Buffer) => {
      tail = (tail + d.toString()).slice(-8000);
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        const code = /"code":"([A-Z0-9_]+)"/.exec(line)?.[1];
        if (code) codes.set(code, (codes.get(code) ?? 0) + 1);
      }
    });
    await waitFor(async () => (await fetch(`http://127.0.0.1:${adminPort}/readyz`)).status === 200, {
      timeoutMs: 30_000,
      intervalMs: 200,
      what: `the replica to be ready (stderr: ${tail})`,
    });
    const xds = startXdsClient(`127.0.0.1:${xdsPort}`, `drain-test-envoy-${adminPort}`);
    return { proc, adminPort, xds, stderr: () => tail, count: (code) => codes.get(code) ?? 0 };
  };
  const stopReplica = async (r: Replica | undefined): Promise<void> => {
    r?.xds.close();
    if (!r || r.proc.exitCode !== null) return;
    const exited = new Promise((res) => r.proc.once('exit', res));
    r.proc.kill('SIGKILL');
    await exited;
  };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mqtt-xds-drain-'));
    kube = await startKube();
    await api('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    for (let i = 0; i < 3; i++) {
      await api('POST', `/api/v1/namespaces/${NS}/pods`, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `hivemq-${i}`, labels: { app: 'hivemq' } },
        spec: { containers: [{ name: 'hivemq', image: 'hivemq/hivemq-ce' }] },
      });
    }
    // A pod no slice lists: its annotation must change nothing.
    await api('POST', `/api/v1/namespaces/${NS}/pods`, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'unrelated', annotations: { [ANNOTATION]: 'true' } },
      spec: { containers: [{ name: 'app', image: 'busybox' }] },
    });
    await api('POST', `/apis/discovery.k8s.io/v1/namespaces/${NS}/endpointslices`, {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: 'hivemq-xyz12',
        labels: { 'kubernetes.io/service-name': 'hivemq', 'endpointslice.kubernetes.io/managed-by': 'mqtt-xds-test' },
      },
      addressType: 'IPv4',
      ports: [{ name: 'mqtt', port: 1883, protocol: 'TCP' }],
      endpoints: [0, 1, 2].map((i) => ({
        addresses: [`192.0.2.${20 + i}`],
        conditions: { ready: true, serving: true, terminating: false },
        targetRef: { kind: 'Pod', name: `hivemq-${i}`, namespace: NS },
      })),
    });
    // The drain record, as deploy/base ships it.
    const record = parseAllDocuments(fs.readFileSync(path.join(REPO_ROOT, 'deploy', 'base', 'drains.yaml'), 'utf8'))[0].toJS();
    await api('POST', `/api/v1/namespaces/${NS}/configmaps`, record);
    shippedKubeconfig = await serviceAccount('mqtt-xds', shippedRole('mqtt-xds', true));
    a = await startReplica(shippedKubeconfig);
  });

  afterAll(async () => {
    await stopReplica(c);
    await stopReplica(b);
    await stopReplica(a);
    await kube?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('serves every broker while no broker pod is annotated, with the pod watch synced', async () => {
    await waitFor(() => a!.xds.endpoints().length === 3, { timeoutMs: 15_000, what: 'three endpoints' });
    expect(a!.xds.endpoints().map((e) => [e.hostname, e.health])).toEqual([
      ['hivemq-0', 'UNKNOWN'],
      ['hivemq-1', 'UNKNOWN'],
      ['hivemq-2', 'UNKNOWN'],
    ]);
    expect(await metric(a!, 'mqtt_xds_discovery_pods_synced')).toBe(1);
    expect(a!.count('K8S_PODS_FORBIDDEN')).toBe(0);
  });

  it('publishes an annotated pod as DRAINING, and GET /drain shows a drain from discovery', async () => {
    await annotate('hivemq-1', 'true');
    await waitFor(() => health(a!, 'hivemq-1') === 'DRAINING', { timeoutMs: 15_000, what: 'hivemq-1 DRAINING over xDS' });
    expect(health(a!, 'hivemq-0')).toBe('UNKNOWN');
    expect(health(a!, 'hivemq-2')).toBe('UNKNOWN');
    const s = await waitFor(
      async () => {
        const body = await drainStatus(a!, 'hivemq-1');
        return body.state === 'draining' ? body : false;
      },
      { timeoutMs: 10_000, what: 'GET /drain/hivemq-1 to report the drain' },
    );
    expect(s).toMatchObject({ broker: 'hivemq-1', state: 'draining', drained: false, origin: 'discovery' });
    expect((await drainStatus(a!, 'hivemq-0')).state).toBe('not-draining');
  });

  it('serves the pod again when the annotation says "false"', async () => {
    await annotate('hivemq-1', 'false');
    await waitFor(() => health(a!, 'hivemq-1') === 'UNKNOWN', { timeoutMs: 15_000, what: 'hivemq-1 serving again' });
    await waitFor(async () => (await drainStatus(a!, 'hivemq-1')).state === 'not-draining', {
      timeoutMs: 10_000,
      what: 'the drain to end',
    });
  });

  it('serves the pod again when the annotation is removed', async () => {
    await annotate('hivemq-2', 'true');
    await waitFor(() => health(a!, 'hivemq-2') === 'DRAINING', { timeoutMs: 15_000, what: 'hivemq-2 DRAINING' });
    await annotate('hivemq-2', null);
    await waitFor(() => health(a!, 'hivemq-2') === 'UNKNOWN', { timeoutMs: 15_000, what: 'hivemq-2 serving again' });
    const pod = await api('GET', `/api/v1/namespaces/${NS}/pods/hivemq-2`);
    expect(pod.metadata.annotations?.[ANNOTATION]).toBeUndefined();
    await waitFor(async () => (await drainStatus(a!, 'hivemq-2')).state === 'not-draining', {
      timeoutMs: 10_000,
      what: 'the drain to end',
    });
  });

  it('ignores a value other than true or false, and says so in the log', async () => {
    await annotate('hivemq-0', 'yes');
    await waitFor(() => /drain annotation ignored.*hivemq-0/.test(a!.stderr()), {
      timeoutMs: 15_000,
      what: 'the log to name the bad annotation',
    });
    expect(a!.xds.endpoints().map((e) => e.health)).toEqual(['UNKNOWN', 'UNKNOWN', 'UNKNOWN']);
    await annotate('hivemq-0', null);
  });

  describe('when RBAC does not let the control plane read pods', () => {
    it('keeps serving from the EndpointSlices, logs one error naming the permission, and reports it', async () => {
      await annotate('hivemq-1', 'true');
      await waitFor(() => health(a!, 'hivemq-1') === 'DRAINING', {
        timeoutMs: 15_000,
        what: 'hivemq-1 DRAINING on the replica that may read pods',
      });
      b = await startReplica(await serviceAccount('no-pods', shippedRole('no-pods', false)));
      await waitFor(() => b!.xds.endpoints().length === 3, { timeoutMs: 15_000, what: 'three endpoints without pod access' });
      // The annotation is invisible to this replica: every broker stays serving.
      expect(b.xds.endpoints().map((e) => [e.hostname, e.health])).toEqual([
        ['hivemq-0', 'UNKNOWN'],
        ['hivemq-1', 'UNKNOWN'],
        ['hivemq-2', 'UNKNOWN'],
      ]);
      expect(await metric(b, 'mqtt_xds_discovery_synced')).toBe(1);
      expect(await metric(b, 'mqtt_xds_discovery_pods_synced')).toBe(0);
      expect(b.count('K8S_PODS_FORBIDDEN')).toBe(1);
      const line = b
        .stderr()
        .split('\n')
        .find((l) => l.includes('K8S_PODS_FORBIDDEN'))!;
      expect(JSON.parse(line)).toMatchObject({ level: 'error', missing: 'pods: get, list, watch', namespace: NS });
      expect(JSON.parse(line).msg).toMatch(
        /forbidden to list and watch pods in namespace drain-test: grant the service account get, list and watch on pods/,
      );

      // A change to the slices still comes through.
      const current = await api('GET', `/apis/discovery.k8s.io/v1/namespaces/${NS}/endpointslices/hivemq-xyz12`);
      await api('PUT', `/apis/discovery.k8s.io/v1/namespaces/${NS}/endpointslices/hivemq-xyz12`, {
        ...current,
        endpoints: [
          ...current.endpoints,
          { addresses: ['192.0.2.23'], conditions: { ready: true }, targetRef: { kind: 'Pod', name: 'hivemq-3', namespace: NS } },
        ],
      });
      await waitFor(() => b!.xds.endpoints().length === 4, {
        timeoutMs: 15_000,
        what: 'the fourth broker on the replica without pod access',
      });
      // Retries went on meanwhile (every 0.5 s, doubling), without another error line.
      expect(b.count('K8S_PODS_FORBIDDEN')).toBe(1);
    });

    it('picks the drain up once the permission is granted', async () => {
      await api('PUT', `/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/roles/no-pods`, shippedRole('no-pods', true));
      // The watch retries with backoff (at most 30 s apart).
      await waitFor(async () => (await metric(b!, 'mqtt_xds_discovery_pods_synced')) === 1, {
        timeoutMs: 60_000,
        intervalMs: 500,
        what: 'the pod watch to recover',
      });
      await waitFor(() => health(b!, 'hivemq-1') === 'DRAINING', { timeoutMs: 15_000, what: 'hivemq-1 DRAINING after the grant' });
      expect(b!.stderr()).toMatch(/pod watch recovered/);
      expect(b!.count('K8S_PODS_FORBIDDEN')).toBe(1);
    });
  });
  describe('drains through the admin API, with two replicas', () => {
    const adminDrain = async (r: Replica, method: 'POST' | 'DELETE', name: string): Promise<{ status: number; body: any }> => {
      const res = await fetch(`http://127.0.0.1:${r.adminPort}/drain/${name}`, { method });
      return { status: res.status, body: await res.json() };
    };
    const recorded = async (): Promise<Record<string, string>> =>
      (await api('GET', `/api/v1/namespaces/${NS}/configmaps/mqtt-xds-drains`)).data ?? {};

    it('a drain asked of one replica is DRAINING on the other too, and a cancel on the other ends it on both', async () => {
      await annotate('hivemq-1', null);
      for (const r of [a!, b!])
        await waitFor(() => health(r, 'hivemq-1') === 'UNKNOWN', { timeoutMs: 15_000, what: 'hivemq-1 serving on both replicas' });
      const asked = await adminDrain(a!, 'POST', 'hivemq-0');
      expect(asked).toMatchObject({ status: 202, body: { broker: 'hivemq-0', created: true } });
      await waitFor(() => health(b!, 'hivemq-0') === 'DRAINING', {
        timeoutMs: 15_000,
        what: 'hivemq-0 DRAINING on the replica that was not asked',
      });
      expect(health(a!, 'hivemq-0')).toBe('DRAINING');
      expect(await drainStatus(b!, 'hivemq-0')).toMatchObject({ broker: 'hivemq-0', state: 'draining', origin: 'api' });
      expect(JSON.parse((await recorded())['hivemq-0'])).toEqual({ requestedAt: expect.any(String), by: expect.any(String) });

      expect(await adminDrain(b!, 'DELETE', 'hivemq-0')).toMatchObject({ status: 200, body: { cancelled: true } });
      for (const r of [a!, b!])
        await waitFor(() => health(r, 'hivemq-0') === 'UNKNOWN', { timeoutMs: 15_000, what: 'hivemq-0 serving again on both' });
      expect(await recorded()).toEqual({});
    });

    it('a replica that starts later publishes a recorded drain', async () => {
      expect((await adminDrain(b!, 'POST', 'hivemq-2')).status).toBe(202);
      await stopReplica(a);
      a = await startReplica(shippedKubeconfig);
      await waitFor(() => a!.xds.endpoints().length === 4, { timeoutMs: 15_000, what: 'the restarted replica to publish the brokers' });
      await waitFor(() => health(a!, 'hivemq-2') === 'DRAINING', { timeoutMs: 15_000, what: 'hivemq-2 DRAINING on the restarted replica' });
      expect((await adminDrain(a, 'DELETE', 'hivemq-2')).body).toMatchObject({ cancelled: true });
      await waitFor(() => health(b!, 'hivemq-2') === 'UNKNOWN', { timeoutMs: 15_000, what: 'hivemq-2 serving again' });
    });

    it('refuses a drain it cannot record, names the ConfigMap and the permission, and applies nothing', async () => {
      c = await startReplica(await serviceAccount('no-drains', shippedRole('no-drains', true, false)));
      await waitFor(() => c!.xds.endpoints().length === 4, {
        timeoutMs: 15_000,
        what: 'four endpoints on the replica without the drain record',
      });
      const refused = await adminDrain(c, 'POST', 'hivemq-3');
      expect(refused.status).toBe(503);
      expect(refused.body).toMatchObject({ broker: 'hivemq-3', code: 'K8S_DRAINS_FORBIDDEN' });
      expect(refused.body.error).toMatch(/configmap drain-test\/mqtt-xds-drains.*get, list, watch and patch/);
      expect(c.stderr()).toMatch(/forbidden to watch configmap drain-test\/mqtt-xds-drains/);
      expect(await recorded()).toEqual({});
      expect(health(c, 'hivemq-3')).toBe('UNKNOWN');
      expect((await drainStatus(c, 'hivemq-3')).state).toBe('not-draining');
    });
  });
});
