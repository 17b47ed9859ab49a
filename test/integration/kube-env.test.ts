import fs from 'node:fs';
import https from 'node:https';
import { parse } from 'yaml';
import { startKube, type KubeEnv } from '../support/kube';

// The Kubernetes suites stand on this environment: if it cannot start (binaries missing:
// run scripts/setup-kube), this file fails rather than skips, so CI cannot go green
// without ever having talked to a real apiserver.
describe('real kube-apiserver test environment', () => {
  let kube: KubeEnv;
  const ns = 'kube-env-smoke';

  beforeAll(async () => {
    kube = await startKube();
  });

  afterAll(async () => {
    await kube?.stop();
  });

  const expectStatus = async (method: string, path: string, body: unknown, status: number): Promise<any> => {
    const res = await kube.request(method, path, body);
    if (res.status !== status) throw new Error(`${method} ${path}: expected ${status}, got ${res.status}: ${JSON.stringify(res.body)}`);
    return res.body;
  };

  it('serves the pinned version and authenticates the static token as a system:masters user', async () => {
    const version = await expectStatus('GET', '/version', undefined, 200);
    expect(version.gitVersion).toBe(kube.version);

    const review = await expectStatus(
      'POST',
      '/apis/authentication.k8s.io/v1/selfsubjectreviews',
      { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
      201,
    );
    expect(review.status.userInfo.username).toBe('admin');
    expect(review.status.userInfo.groups).toContain('system:masters');
  });

  it('refuses a request without the token, so the suites test what RBAC allows', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      https
        .get(`${kube.server}/api/v1/namespaces`, { ca: fs.readFileSync(kube.caFile) }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        })
        .on('error', reject);
    });
    expect(status).toBe(403);
  });

  it('writes a Namespace, Service, EndpointSlice and ConfigMap and reads them back', async () => {
    await expectStatus('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }, 201);
    await expectStatus(
      'POST',
      `/api/v1/namespaces/${ns}/services`,
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'hivemq' },
        spec: {
          clusterIP: 'None',
          selector: { app: 'hivemq' },
          ports: [
            { name: 'mqtt', port: 1883 },
            { name: 'metrics', port: 9399 },
          ],
        },
      },
      201,
    );
    await expectStatus(
      'POST',
      `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`,
      {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: {
          name: 'hivemq-abc',
          labels: { 'kubernetes.io/service-name': 'hivemq', 'endpointslice.kubernetes.io/managed-by': 'mqtt-xds-tests' },
        },
        addressType: 'IPv4',
        ports: [
          { name: 'mqtt', port: 1883, protocol: 'TCP' },
          { name: 'metrics', port: 9399, protocol: 'TCP' },
        ],
        endpoints: [
          {
            addresses: ['10.0.0.1'],
            conditions: { ready: true, serving: true, terminating: false },
            targetRef: { kind: 'Pod', namespace: ns, name: 'hivemq-0' },
          },
          {
            addresses: ['10.0.0.2'],
            conditions: { ready: false, serving: true, terminating: true },
            targetRef: { kind: 'Pod', namespace: ns, name: 'hivemq-1' },
          },
        ],
      },
      201,
    );
    await expectStatus(
      'POST',
      `/api/v1/namespaces/${ns}/configmaps`,
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'mqtt-xds' }, data: { 'policy.yaml': 'strategy: least-loaded\n' } },
      201,
    );

    await expectReadBack();
  });

  it('keeps the objects and its address across restartApiServer', async () => {
    const server = kube.server;
    await kube.restartApiServer();
    expect(kube.server).toBe(server);
    await expectReadBack();
  });

  it('writes a kubeconfig with the server, CA and token', () => {
    const config = parse(fs.readFileSync(kube.kubeconfigPath, 'utf8'));
    expect(config.clusters[0].cluster.server).toBe(kube.server);
    expect(fs.existsSync(config.clusters[0].cluster['certificate-authority'])).toBe(true);
    expect(config.users[0].user.token).toBe(kube.token);
  });

  async function expectReadBack(): Promise<void> {
    const service = await expectStatus('GET', `/api/v1/namespaces/${ns}/services/hivemq`, undefined, 200);
    expect(service.spec.ports.map((p: { name: string }) => p.name)).toEqual(['mqtt', 'metrics']);

    const slices = await expectStatus(
      'GET',
      `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dhivemq`,
      undefined,
      200,
    );
    expect(slices.items).toHaveLength(1);
    expect(slices.items[0].endpoints.map((e: any) => [e.targetRef.name, e.conditions.ready, e.conditions.terminating])).toEqual([
      ['hivemq-0', true, false],
      ['hivemq-1', false, true],
    ]);

    const configMap = await expectStatus('GET', `/api/v1/namespaces/${ns}/configmaps/mqtt-xds`, undefined, 200);
    expect(configMap.data['policy.yaml']).toBe('strategy: least-loaded\n');
  }
});
