// Manifests checked against a real kube-apiserver: server-side apply with dryRun=All and
// strict field validation, so schema, defaulting, validation and admission all run and
// nothing is stored. Shared by the kustomize (deploy-manifests) and Helm (helm-chart) suites.
import type { KubeEnv } from './kube';

/** REST collection of each kind deploy/ and the chart render. */
const RESOURCES: Record<string, string> = {
  'v1/Namespace': 'namespaces',
  'v1/ServiceAccount': 'serviceaccounts',
  'v1/ConfigMap': 'configmaps',
  'v1/Secret': 'secrets',
  'v1/Service': 'services',
  'apps/v1/Deployment': 'deployments',
  'apps/v1/StatefulSet': 'statefulsets',
  'policy/v1/PodDisruptionBudget': 'poddisruptionbudgets',
  'rbac.authorization.k8s.io/v1/Role': 'roles',
  'rbac.authorization.k8s.io/v1/RoleBinding': 'rolebindings',
  'networking.k8s.io/v1/NetworkPolicy': 'networkpolicies',
  'monitoring.coreos.com/v1/ServiceMonitor': 'servicemonitors',
  'monitoring.coreos.com/v1/PodMonitor': 'podmonitors',
  'monitoring.coreos.com/v1/PrometheusRule': 'prometheusrules',
  'autoscaling/v2/HorizontalPodAutoscaler': 'horizontalpodautoscalers',
};

/** The object's REST path; namespaced objects without a namespace go to `namespace`. */
export function objectPath(o: any, namespace = 'default'): string {
  const key = `${o.apiVersion}/${o.kind}`;
  const plural = RESOURCES[key];
  if (!plural) throw new Error(`no REST mapping for ${key}; add it to RESOURCES in test/support/kube-dry-run.ts`);
  const prefix = o.apiVersion.includes('/') ? `/apis/${o.apiVersion}` : `/api/${o.apiVersion}`;
  const ns = o.kind === 'Namespace' ? '' : `/namespaces/${o.metadata.namespace ?? namespace}`;
  return `${prefix}${ns}/${plural}/${o.metadata.name}`;
}

/** Our own minimal CRDs for the Prometheus Operator kinds, so their objects can be checked. */
export async function createMonitoringCrds(kube: KubeEnv): Promise<void> {
  for (const [kind, plural] of [
    ['ServiceMonitor', 'servicemonitors'],
    ['PodMonitor', 'podmonitors'],
    ['PrometheusRule', 'prometheusrules'],
  ]) {
    const res = await kube.request('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: `${plural}.monitoring.coreos.com` },
      spec: {
        group: 'monitoring.coreos.com',
        scope: 'Namespaced',
        names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
          },
        ],
      },
    });
    if (res.status !== 201) throw new Error(`CRD ${plural}: HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
  }
}

/** A server-side dry run of one object; retried while a CRD just created is not served yet. */
export async function dryRun(kube: KubeEnv, o: any, manager: string, namespace = 'default'): Promise<{ status: number; body: any }> {
  const url = `${objectPath(o, namespace)}?dryRun=All&fieldManager=${manager}&fieldValidation=Strict`;
  let res = await kube.request('PATCH', url, JSON.stringify(o), 'application/apply-patch+yaml');
  for (let i = 0; res.status === 404 && i < 20; i++) {
    await new Promise((r) => setTimeout(r, 250));
    res = await kube.request('PATCH', url, JSON.stringify(o), 'application/apply-patch+yaml');
  }
  return res;
}

/** Every object's dry run; the refused ones, described. */
export async function refusedByDryRun(kube: KubeEnv, objects: readonly any[], manager: string, namespace = 'default'): Promise<string[]> {
  const refused: string[] = [];
  for (const o of objects) {
    const res = await dryRun(kube, o, manager, namespace);
    if (res.status >= 300) refused.push(`${o.kind}/${o.metadata.name}: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
  }
  return refused;
}
