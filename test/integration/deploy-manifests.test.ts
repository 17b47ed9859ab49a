import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { REPO_ROOT } from '../support/repo-root';
import { startKube, type KubeEnv } from '../support/kube';
import { createMonitoringCrds, dryRun, refusedByDryRun } from '../support/kube-dry-run';

// deploy/ rendered by kustomize and sent to a real kube-apiserver as server-side dry-runs
// (server-side apply with dryRun=All): schema, defaulting, validation and admission all
// run, nothing is stored. kustomize is built by scripts/setup-kube.
const MANAGER = 'mqtt-xds-deploy-test';
const KUSTOMIZE = path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'mqtt-xds', 'bin', 'kustomize');

function render(dir: string): any[] {
  const out = execFileSync(KUSTOMIZE, ['build', path.join(REPO_ROOT, 'deploy', dir)], { encoding: 'utf8' });
  return parseAllDocuments(out).map((d) => d.toJS());
}

/** An operator's own overlay: `overlay` plus `components` (both under deploy/), in namespace mqtt, with its own `patches`. */
function renderWith(overlay: string, components: readonly string[], patches: readonly object[] = []): any[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mqtt-xds-overlay-'));
  const rel = (p: string): string => path.relative(dir, path.join(REPO_ROOT, 'deploy', p));
  fs.writeFileSync(
    path.join(dir, 'kustomization.yaml'),
    stringify({
      apiVersion: 'kustomize.config.k8s.io/v1beta1',
      kind: 'Kustomization',
      namespace: 'mqtt',
      resources: [rel(overlay)],
      components: components.map(rel),
      ...(patches.length > 0 ? { patches } : {}),
    }),
  );
  try {
    const out = execFileSync(KUSTOMIZE, ['build', dir], { encoding: 'utf8' });
    return parseAllDocuments(out).map((d) => d.toJS());
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('deploy/ manifests against a real kube-apiserver (server-side dry-run)', () => {
  let kube: KubeEnv;

  beforeAll(async () => {
    kube = await startKube();
    await createMonitoringCrds(kube);
    // Namespaced objects need their namespace to exist even for a dry-run.
    const ns = await kube.request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'mqtt' } });
    expect(ns.status).toBe(201);
  });

  afterAll(async () => {
    await kube?.stop();
  });

  it.each(['overlays/edge', 'overlays/sidecar', 'overlays/example', 'monitoring', 'examples/autoscaling'])(
    '%s is accepted as it is',
    async (dir) => {
      const objects = render(dir);
      expect(objects.length).toBeGreaterThan(0);
      const refused = await refusedByDryRun(kube, objects, MANAGER);
      expect(refused).toEqual([]);
    },
  );

  it('an overlay with components/listener-tls-secret is accepted as it is', async () => {
    const refused = await refusedByDryRun(kube, renderWith('overlays/edge', ['components/listener-tls-secret']), MANAGER);
    expect(refused).toEqual([]);
  });

  it('would refuse a manifest the API server does not accept (the check can fail)', async () => {
    const dep = render('overlays/edge').find((o) => o.kind === 'Deployment');
    dep.spec.template.spec.containers[0].imagePullPolicyy = 'Always';
    const res = await dryRun(kube, dep, MANAGER);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(JSON.stringify(res.body)).toMatch(/imagePullPolicyy/);
  });

  it('grants the control plane only what it needs', async () => {
    const objects = render('overlays/edge');
    const role = objects.find((o) => o.kind === 'Role');
    const rules: Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }> = role.rules;
    const verbsFor = (group: string, resource: string): string[] =>
      rules.filter((r) => r.apiGroups.includes(group) && r.resources.includes(resource)).flatMap((r) => r.verbs);
    expect(verbsFor('discovery.k8s.io', 'endpointslices').sort()).toEqual(['get', 'list', 'watch']);
    expect(verbsFor('', 'secrets')).toEqual([]);
    // Pods are read for the drain annotation, never written.
    expect(verbsFor('', 'pods').sort()).toEqual(['get', 'list', 'watch']);
    expect(verbsFor('', 'pods/eviction')).toEqual([]);
    expect(verbsFor('', 'events')).toContain('create');
    // ConfigMaps: read the policy; read and patch the drain record; both by name only, never create.
    const configMapRules = rules.filter((r) => r.resources.includes('configmaps')) as Array<{ resourceNames?: string[]; verbs: string[] }>;
    expect(configMapRules.map((r) => [r.resourceNames, [...r.verbs].sort()])).toEqual([
      [['mqtt-xds-policy'], ['get', 'list', 'watch']],
      [['mqtt-xds-drains'], ['get', 'list', 'patch', 'watch']],
    ]);
    expect(objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'mqtt-xds-drains')?.data).toBeUndefined();
    expect(verbsFor('coordination.k8s.io', 'leases')).toEqual(expect.arrayContaining(['get', 'create', 'update']));
    const dep = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'mqtt-xds');
    expect(dep.spec.replicas).toBe(2);
    const c = dep.spec.template.spec.containers[0];
    expect(c.securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    expect(c.readinessProbe.httpGet.path).toBe('/readyz');
    expect(c.livenessProbe.httpGet.path).toBe('/healthz');
    expect(c.resources.requests).toBeDefined();
    // The admin port listens on the pod IP, so its drain API needs the token from the Secret.
    expect(c.args).toContain('--admin-token-file=/var/run/secrets/mqtt-xds/admin-token/token');
    const tokenVolume = dep.spec.template.spec.volumes.find((v: any) => v.name === 'admin-token');
    expect(tokenVolume.secret.secretName).toBe('mqtt-xds-admin-token');
    const np = objects.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'mqtt-xds');
    expect(np.spec.podSelector.matchLabels).toEqual(dep.spec.selector.matchLabels);
    expect(np.spec.ingress.flatMap((r: any) => r.ports.map((p: any) => p.port)).sort()).toEqual([18000, 9090]);
  });

  it('components/listener-tls-secret lets the control plane read its one certificate Secret, by name, and no other', () => {
    const objects = renderWith('overlays/edge', ['components/listener-tls-secret']);
    const secretRules = objects
      .filter((o) => o.kind === 'Role')
      .flatMap((r) =>
        (r.rules as Array<{ resources: string[] }>)
          .filter((rule) => rule.resources.includes('secrets'))
          .map((rule) => [r.metadata.name, rule]),
      );
    expect(secretRules).toEqual([
      [
        'mqtt-xds-listener-tls',
        { apiGroups: [''], resources: ['secrets'], resourceNames: ['mqtt-listener-tls'], verbs: ['get', 'list', 'watch'] },
      ],
    ]);
    const binding = objects.find((o) => o.kind === 'RoleBinding' && o.metadata.name === 'mqtt-xds-listener-tls');
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'mqtt-xds-listener-tls' });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'mqtt-xds', namespace: 'mqtt' }]);
    // The flag names the Secret the Role grants, in the pod's own namespace (no namespace/ prefix).
    const dep = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'mqtt-xds');
    const args: string[] = dep.spec.template.spec.containers[0].args;
    expect(args.filter((a) => a.startsWith('--listener-tls-'))).toEqual(['--listener-tls-secret=mqtt-listener-tls']);
    expect(args).toContain('--discovery-kubernetes-namespace=$(POD_NAMESPACE)');
    expect(dep.spec.template.spec.serviceAccountName).toBe(binding.subjects[0].name);
  });

  it('an overlay with both certificate components is accepted as it is', async () => {
    const objects = renderWith('overlays/edge', ['components/listener-tls-secret', 'components/tenant-tls-secrets']);
    expect(await refusedByDryRun(kube, objects, MANAGER)).toEqual([]);
  });

  it("components/tenant-tls-secrets grants the tenants' Secrets by name only, and the overlay's own list replaces the example", () => {
    const secretRules = (objects: any[]): unknown[] =>
      objects
        .filter((o) => o.kind === 'Role')
        .flatMap((r) =>
          (r.rules as Array<{ resources: string[] }>)
            .filter((rule) => rule.resources.includes('secrets'))
            .map((rule) => [r.metadata.name, rule]),
        );
    const rule = (names: string[]): object => ({
      apiGroups: [''],
      resources: ['secrets'],
      resourceNames: names,
      verbs: ['get', 'list', 'watch'],
    });
    const objects = renderWith('overlays/edge', ['components/tenant-tls-secrets']);
    expect(secretRules(objects)).toEqual([['mqtt-xds-tenant-tls', rule(['acme-tls'])]]);
    const binding = objects.find((o) => o.kind === 'RoleBinding' && o.metadata.name === 'mqtt-xds-tenant-tls');
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'mqtt-xds-tenant-tls' });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'mqtt-xds', namespace: 'mqtt' }]);
    // The patch the component's kustomization.yaml shows an operator.
    const names = ['acme-tls', 'acme-device-ca', 'beta-tls'];
    const patched = renderWith(
      'overlays/edge',
      ['components/tenant-tls-secrets'],
      [
        {
          target: { kind: 'Role', name: 'mqtt-xds-tenant-tls' },
          patch: JSON.stringify([{ op: 'replace', path: '/rules/0/resourceNames', value: names }]),
        },
      ],
    );
    expect(secretRules(patched)).toEqual([['mqtt-xds-tenant-tls', rule(names)]]);
  });

  it('the example brokers send the same admin token in their drain hook', () => {
    const sts = render('overlays/example').find((o) => o.kind === 'StatefulSet');
    const c = sts.spec.template.spec.containers.find((x: any) => x.name === 'hivemq');
    const file = c.env.find((e: any) => e.name === 'DRAIN_TOKEN_FILE').value;
    const mount = c.volumeMounts.find((m: any) => m.name === 'admin-token');
    expect(file.startsWith(mount.mountPath + '/')).toBe(true);
    expect(sts.spec.template.spec.volumes.find((v: any) => v.name === 'admin-token').secret.secretName).toBe('mqtt-xds-admin-token');
  });

  it('the example brokers run the agent, serve their metrics from it, and share its token with the control plane', () => {
    const objects = render('overlays/example');
    const sts = objects.find((o) => o.kind === 'StatefulSet');
    const pod = sts.spec.template.spec;
    const volume = (name: string): any => pod.volumes.find((v: any) => v.name === name);
    const mountOf = (c: any, volumeName: string): string => c.volumeMounts.find((m: any) => m.name === volumeName)?.mountPath;
    const hivemq = pod.containers.find((c: any) => c.name === 'hivemq');
    const init = pod.initContainers.find((c: any) => c.name === 'mqtt-xds-agent');
    // The zip from the ConfigMap, unzipped where HiveMQ loads extensions from.
    expect(volume('agent-zip').configMap.name).toBe('mqtt-xds-hivemq-agent');
    expect(init.args[0]).toContain(`${mountOf(init, 'agent-zip')}/extension.zip`);
    expect(init.args[0]).toContain(`${mountOf(init, 'agent-extension')}/`);
    expect(mountOf(hivemq, 'agent-extension')).toBe('/opt/hivemq/extensions/mqtt-xds-agent');
    // One Secret, read by the agent and sent by the control plane.
    expect(volume('agent-token').secret.secretName).toBe('mqtt-xds-agent-token');
    const agentTokenFile = hivemq.env.find((e: any) => e.name === 'MQTT_XDS_AGENT_TOKEN_FILE').value;
    expect(agentTokenFile.startsWith(mountOf(hivemq, 'agent-token') + '/')).toBe(true);
    const dep = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'mqtt-xds');
    const plane = dep.spec.template.spec.containers[0];
    expect(plane.name).toBe('mqtt-xds');
    const flag = plane.args.find((a: string) => a.startsWith('--agent-token-file='));
    expect(flag).toBe(`--agent-token-file=${mountOf(plane, 'agent-token')}/token`);
    expect(dep.spec.template.spec.volumes.find((v: any) => v.name === 'agent-token').secret.secretName).toBe('mqtt-xds-agent-token');
    // What mqtt-xds scrapes ("metrics") and where it moves clients ("mqtt-xds-agent") are the agent's port.
    expect(hivemq.ports.find((p: any) => p.name === 'mqtt-xds-agent').containerPort).toBe(9401);
    const svc = objects.find((o) => o.kind === 'Service' && o.metadata.name === 'hivemq');
    const target = (name: string): string => svc.spec.ports.find((p: any) => p.name === name).targetPort;
    expect([target('metrics'), target('mqtt-xds-agent')]).toEqual(['mqtt-xds-agent', 'mqtt-xds-agent']);
  });
});
