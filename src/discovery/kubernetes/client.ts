import type * as k8s from '@kubernetes/client-node';

/**
 * @kubernetes/client-node is an ES module; Node ≥ 20.19 loads it with require(). It is
 * loaded on first use only, so the file-based default never pays for it, and the pure
 * parts of discovery stay testable without it.
 */
export function kubeClient(): typeof k8s {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('@kubernetes/client-node') as typeof k8s;
}

/** '' → in the cluster, the pod's service account; outside, $KUBECONFIG or ~/.kube/config. */
export function loadKubeConfig(kubeconfigPath: string): k8s.KubeConfig {
  const k = kubeClient();
  const kc = new k.KubeConfig();
  if (kubeconfigPath !== '') kc.loadFromFile(kubeconfigPath);
  else kc.loadFromDefault();
  return kc;
}

/** client-node's list calls throw ApiException (`code`), its watch an Error with `statusCode`. */
export function httpStatusOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { code?: unknown; statusCode?: unknown };
  if (typeof e.code === 'number') return e.code;
  if (typeof e.statusCode === 'number') return e.statusCode;
  return undefined;
}
