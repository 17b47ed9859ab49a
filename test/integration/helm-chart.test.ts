// The Helm chart (deploy/helm/mqtt-xds): `helm template` for the edge and sidecar layouts
// with the real helm (scripts/setup-packaging), the kinds and labels each gives, its
// equivalence with the Kustomize manifests, the control plane's arguments through the
// real config loader, and every object as a server-side dry run against a real
// kube-apiserver (test/support/kube.ts), with schema validation and admission.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfig } from '../../src/config';
import { defaultPolicy, parsePolicy } from '../../src/config/policy';
import { REPO_ROOT } from '../support/repo-root';
import { startKube, type KubeEnv } from '../support/kube';
import { createMonitoringCrds, dryRun as dryRunObject } from '../support/kube-dry-run';
import { CHART_DIR, packagingTool, run } from '../support/packaging';

const KUSTOMIZE = path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'mqtt-xds', 'bin', 'kustomize');
const NAMESPACE = 'mqtt';
const MONITORING = ['--set', 'serviceMonitor.enabled=true', '--set', 'podMonitor.enabled=true', '--set', 'prometheusRule.enabled=true'];
const RECOMMENDED = ['app.kubernetes.io/name', 'app.kubernetes.io/instance', 'app.kubernetes.io/version', 'app.kubernetes.io/managed-by'];

let helm: string;

async function template(args: readonly string[], release = 'mqtt-xds'): Promise<any[]> {
  const r = await run(helm, ['template', release, CHART_DIR, '--namespace', NAMESPACE, ...args]);
  if (r.code !== 0) throw new Error(`helm template ${args.join(' ')} failed: ${r.stderr}`);
  return parseAllDocuments(r.stdout)
    .map((d) => d.toJS())
    .filter((o) => o !== null);
}

const values = (layout: string): string[] => ['-f', path.join(CHART_DIR, `values-${layout}.yaml`)];
const kinds = (objects: any[]): string[] => objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();
const find = (objects: any[], kind: string, name: string): any => {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`no ${kind}/${name} in ${kinds(objects).join(', ')}`);
  return o;
};

function kustomize(dir: string): any[] {
  const out = execFileSync(KUSTOMIZE, ['build', path.join(REPO_ROOT, 'deploy', dir)], { encoding: 'utf8' });
  return parseAllDocuments(out).map((d) => d.toJS());
}

beforeAll(() => {
  helm = packagingTool('helm');
});

describe('helm template', () => {
  it('renders the edge layout: control plane, Envoy edge, Secrets, policies, budgets and monitoring', async () => {
    expect(kinds(await template([...values('edge'), ...MONITORING]))).toEqual([
      'ConfigMap/mqtt-xds-drains',
      'ConfigMap/mqtt-xds-envoy-bootstrap',
      'ConfigMap/mqtt-xds-policy',
      'Deployment/mqtt-xds',
      'Deployment/mqtt-xds-envoy',
      'NetworkPolicy/mqtt-xds',
      'PodDisruptionBudget/mqtt-xds',
      'PodDisruptionBudget/mqtt-xds-envoy',
      'PodMonitor/mqtt-xds-envoy',
      'PrometheusRule/mqtt-xds',
      'Role/mqtt-xds',
      'RoleBinding/mqtt-xds',
      'Secret/mqtt-xds-admin-token',
      'Service/mqtt-xds-envoy',
      'Service/mqtt-xds-metrics',
      'Service/mqtt-xds-xds',
      'ServiceAccount/mqtt-xds',
      'ServiceMonitor/mqtt-xds',
    ]);
  });

  it('renders the sidecar layout: no edge, the sidecar bootstrap, and the example client with its sidecar', async () => {
    const objects = await template(values('sidecar'));
    expect(kinds(objects)).toEqual([
      'ConfigMap/mqtt-xds-drains',
      'ConfigMap/mqtt-xds-envoy-sidecar-bootstrap',
      'ConfigMap/mqtt-xds-policy',
      'Deployment/mqtt-xds',
      'Deployment/mqtt-xds-client-example',
      'NetworkPolicy/mqtt-xds',
      'NetworkPolicy/mqtt-xds-client-example',
      'PodDisruptionBudget/mqtt-xds',
      'Role/mqtt-xds',
      'RoleBinding/mqtt-xds',
      'Secret/mqtt-xds-admin-token',
      'Service/mqtt-xds-metrics',
      'Service/mqtt-xds-xds',
      'ServiceAccount/mqtt-xds',
    ]);
    const pod = find(objects, 'Deployment', 'mqtt-xds-client-example').spec.template;
    expect(pod.metadata.labels['mqtt-xds/envoy']).toBe('sidecar');
    const envoy = pod.spec.initContainers.find((c: any) => c.name === 'envoy');
    expect(envoy.restartPolicy).toBe('Always');
    expect(pod.spec.volumes.find((v: any) => v.name === 'mqtt-envoy-bootstrap').configMap.name).toBe('mqtt-xds-envoy-sidecar-bootstrap');
  });

  it('gives every object the Kubernetes recommended labels', async () => {
    for (const layout of ['edge', 'sidecar']) {
      for (const o of await template([...values(layout), ...MONITORING])) {
        const labels = o.metadata.labels ?? {};
        const missing = RECOMMENDED.filter((l) => !labels[l]);
        expect(`${o.kind}/${o.metadata.name}: ${missing.join(' ')}`).toBe(`${o.kind}/${o.metadata.name}: `);
        expect(labels['app.kubernetes.io/instance']).toBe('mqtt-xds');
        expect(labels['app.kubernetes.io/version']).toBe(parse(fs.readFileSync(path.join(CHART_DIR, 'Chart.yaml'), 'utf8')).appVersion);
      }
    }
  });

  it('starts the control plane with arguments the real config loader accepts', async () => {
    for (const layout of ['edge', 'sidecar']) {
      const dep = find(await template(values(layout)), 'Deployment', 'mqtt-xds');
      const c = dep.spec.template.spec.containers[0];
      expect(c.image).toBe('ghcr.io/mqtt-xds/mqtt-xds:0.1.0');
      // What the kubelet substitutes from the env's fieldRefs.
      const argv = (c.args as string[]).map((a) => a.replace('$(POD_NAMESPACE)', NAMESPACE).replace('$(POD_NAME)', 'mqtt-xds-7d9f-abcde'));
      const loaded = loadConfig({ argv, env: {}, cwd: '/app' });
      expect(loaded.ok ? [] : loaded.problems.map((p) => `${p.code} ${p.message}`)).toEqual([]);
    }
  });

  it('keeps names consistent under another release name: the Role, the flags, the Services and the bootstrap', async () => {
    const objects = await template([...values('edge'), ...MONITORING], 'blue');
    const args: string[] = find(objects, 'Deployment', 'blue-mqtt-xds').spec.template.spec.containers[0].args;
    const flag = (name: string): string => args.find((a) => a.startsWith(`--${name}=`))!.split('=')[1];
    const named = (find(objects, 'Role', 'blue-mqtt-xds').rules as Array<{ resourceNames?: string[] }>).flatMap(
      (r) => r.resourceNames ?? [],
    );
    expect(named.sort()).toEqual(
      [flag('balancing-policy-config-map'), flag('discovery-kubernetes-drains-config-map'), flag('leader-election-lease-name')].sort(),
    );
    for (const name of named.filter((n) => !n.endsWith('-leader'))) expect(find(objects, 'ConfigMap', name)).toBeDefined();
    const bootstrap = parse(find(objects, 'ConfigMap', 'blue-mqtt-xds-envoy-bootstrap').data['bootstrap.yaml']);
    const xds = bootstrap.static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address;
    expect(xds).toEqual({ address: `blue-mqtt-xds-xds.${NAMESPACE}.svc`, port_value: 18000 });
    expect(find(objects, 'Service', 'blue-mqtt-xds-xds')).toBeDefined();
    const rule = find(objects, 'PrometheusRule', 'blue-mqtt-xds');
    expect(JSON.stringify(rule.spec)).toContain('up{job=\\"blue-mqtt-xds-metrics\\"}');
    expect(find(objects, 'Service', 'blue-mqtt-xds-metrics')).toBeDefined();
    const binding = find(objects, 'RoleBinding', 'blue-mqtt-xds');
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'blue-mqtt-xds', namespace: NAMESPACE }]);
  });

  it('renders the policy values as a document the real policy parser accepts', async () => {
    const doc = (objects: any[]): string => find(objects, 'ConfigMap', 'mqtt-xds-policy').data['policy.yaml'];
    const dflt = parsePolicy(doc(await template([])), 'chart');
    expect(dflt.ok && dflt.value).toEqual(defaultPolicy());
    const tuned = parsePolicy(doc(await template(['--set', 'policy.weightScale=500', '--set', 'policy.drain.deadlineMs=120000'])), 'chart');
    expect(tuned.ok ? [tuned.value.weightScale, tuned.value.drain.deadlineMs] : tuned.problems).toEqual([500, 120000]);
  });

  it('uses an existing token Secret instead of generating one, and mounts the agent token when asked', async () => {
    const objects = await template([
      '--set',
      'adminToken.existingSecret=ops-admin',
      '--set',
      'agentToken.enabled=true',
      '--set',
      'agentToken.existingSecret=hivemq-agent',
      '--set',
      'agentToken.key=agent',
    ]);
    expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
    const pod = find(objects, 'Deployment', 'mqtt-xds').spec.template.spec;
    const vol = (n: string): any => pod.volumes.find((v: any) => v.name === n).secret;
    expect(vol('admin-token')).toMatchObject({ secretName: 'ops-admin', items: [{ key: 'token', path: 'token' }] });
    expect(vol('agent-token')).toMatchObject({ secretName: 'hivemq-agent', items: [{ key: 'agent', path: 'token' }] });
    expect(pod.containers[0].args).toContain('--agent-token-file=/var/run/secrets/mqtt-xds/agent-token/token');
  });

  it('generates a random token of 48 characters when no Secret is given', async () => {
    const secret = find(await template([]), 'Secret', 'mqtt-xds-admin-token');
    expect(Buffer.from(secret.data.token, 'base64').toString()).toMatch(/^[A-Za-z0-9]{48}$/);
  });

  it('refuses an unknown layout and a misspelt value, naming them', async () => {
    const bad = await run(helm, ['template', 'mqtt-xds', CHART_DIR, '--set', 'layout=mesh']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/layout/);
    const typo = await run(helm, ['template', 'mqtt-xds', CHART_DIR, '--set', 'replicas=3']);
    expect(typo.code).not.toBe(0);
    expect(typo.stderr).toMatch(/replicas/);
  });
});

describe('the chart against the Kustomize manifests (release mqtt-xds, namespace mqtt)', () => {
  let edge: any[];
  let kEdge: any[];

  beforeAll(async () => {
    edge = await template([...values('edge'), ...MONITORING]);
    kEdge = kustomize('overlays/edge');
  });

  it('grants the same Role', () => {
    expect(find(edge, 'Role', 'mqtt-xds').rules).toEqual(find(kEdge, 'Role', 'mqtt-xds').rules);
  });

  it('passes the same arguments, naming the drains ConfigMap the Kustomize base leaves at its default', () => {
    const args = (objects: any[]): string[] => find(objects, 'Deployment', 'mqtt-xds').spec.template.spec.containers[0].args;
    expect(args(edge).filter((a) => !a.startsWith('--discovery-kubernetes-drains-config-map='))).toEqual(args(kEdge));
    expect(args(edge)).toContain('--discovery-kubernetes-drains-config-map=mqtt-xds-drains');
  });

  it('runs the control plane and the Envoys with the same pod security, probes and resources', () => {
    for (const [helmName, kName] of [
      ['mqtt-xds', 'mqtt-xds'],
      ['mqtt-xds-envoy', 'mqtt-envoy'],
    ]) {
      const h = find(edge, 'Deployment', helmName).spec.template.spec;
      const k = find(kEdge, 'Deployment', kName).spec.template.spec;
      expect(h.securityContext).toEqual(k.securityContext);
      const pick = (c: any): object => ({
        securityContext: c.securityContext,
        readinessProbe: c.readinessProbe,
        livenessProbe: c.livenessProbe,
        resources: c.resources,
        ports: c.ports,
        lifecycle: c.lifecycle,
      });
      expect(pick(h.containers[0])).toEqual(pick(k.containers[0]));
    }
  });

  it('admits the same traffic with its NetworkPolicy', () => {
    expect(find(edge, 'NetworkPolicy', 'mqtt-xds').spec.ingress).toEqual(find(kEdge, 'NetworkPolicy', 'mqtt-xds').spec.ingress);
  });

  it('ships the same alerts', () => {
    expect(find(edge, 'PrometheusRule', 'mqtt-xds').spec).toEqual(find(kustomize('monitoring'), 'PrometheusRule', 'mqtt-xds').spec);
  });

  it('gives the Envoys the same bootstraps', async () => {
    const bootstrap = (cm: any): any => parse(cm.data['bootstrap.yaml']);
    const kEdgeBootstrap = bootstrap(kEdge.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('mqtt-envoy-bootstrap')));
    // The Kustomize edge names the xDS Service by its short name (same namespace); the chart fully.
    kEdgeBootstrap.static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address =
      'mqtt-xds-xds.mqtt.svc';
    expect(bootstrap(find(edge, 'ConfigMap', 'mqtt-xds-envoy-bootstrap'))).toEqual(kEdgeBootstrap);
    const sidecar = await template(values('sidecar'));
    const kSidecar = kustomize('overlays/sidecar');
    expect(bootstrap(find(sidecar, 'ConfigMap', 'mqtt-xds-envoy-sidecar-bootstrap'))).toEqual(
      bootstrap(kSidecar.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('mqtt-envoy-sidecar-bootstrap'))),
    );
    const envoy = (objects: any[], name: string): any =>
      find(objects, 'Deployment', name).spec.template.spec.initContainers.find((c: any) => c.name === 'envoy');
    const { volumeMounts: _h, ...h } = envoy(sidecar, 'mqtt-xds-client-example');
    const { volumeMounts: _k, ...k } = envoy(kSidecar, 'mqtt-client-example');
    expect(h).toEqual(k);
  });
});

describe('the chart against a real kube-apiserver (server-side dry run)', () => {
  let kube: KubeEnv;

  beforeAll(async () => {
    kube = await startKube();
    await createMonitoringCrds(kube);
    const ns = await kube.request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
    expect(ns.status).toBe(201);
  });

  afterAll(async () => {
    await kube?.stop();
  });

  const dryRun = (o: any): Promise<{ status: number; body: any }> => dryRunObject(kube, o, 'mqtt-xds-helm-test', NAMESPACE);

  it.each([
    ['edge', [...MONITORING]],
    ['sidecar', [...MONITORING]],
    [
      'edge',
      [
        '--set',
        'listenerTls.secretName=mqtt-listener-tls',
        '--set',
        'tenantTls.secretNames={acme-tls}',
        '--set',
        'agentToken.enabled=true',
      ],
    ],
  ])('the %s layout (%j) is accepted as rendered', async (layout, extra) => {
    const objects = await template([...values(layout), ...extra]);
    const refused: string[] = [];
    for (const o of objects) {
      const res = await dryRun(o);
      if (res.status >= 300) refused.push(`${o.kind}/${o.metadata.name}: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
    }
    expect(refused).toEqual([]);
  });

  it('would refuse an object the API server does not accept (the check can fail)', async () => {
    const dep = find(await template(values('edge')), 'Deployment', 'mqtt-xds-envoy');
    dep.spec.template.spec.containers[0].readinessProbe.periodSecond = 5;
    const res = await dryRun(dep);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(JSON.stringify(res.body)).toMatch(/periodSecond/);
  });
});
