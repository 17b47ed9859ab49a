// Every type URL mqtt-xds serves, in the one place. Literal types let maps keyed by URL
// be checked by the compiler.
export const CLUSTER = 'type.googleapis.com/envoy.config.cluster.v3.Cluster';
export const ENDPOINT = 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment';
export const LISTENER = 'type.googleapis.com/envoy.config.listener.v3.Listener';

export type TypeUrl = typeof CLUSTER | typeof ENDPOINT | typeof LISTENER;

/** Make-before-break: clusters, then their endpoints, then the listeners that use them. */
export const PUSH_ORDER: readonly TypeUrl[] = [CLUSTER, ENDPOINT, LISTENER];

/** Types whose SotW responses carry the full state; the others carry what was asked for. */
export const WILDCARD_TYPES: ReadonlySet<TypeUrl> = new Set<TypeUrl>([CLUSTER, LISTENER]);

export const SHORT_NAME: Readonly<Record<TypeUrl, string>> = {
  [CLUSTER]: 'cds',
  [ENDPOINT]: 'eds',
  [LISTENER]: 'lds',
};

export function isTypeUrl(s: string): s is TypeUrl {
  return s === CLUSTER || s === ENDPOINT || s === LISTENER;
}

export function messageName(t: TypeUrl): string {
  return t.slice(t.indexOf('/') + 1);
}
