// Every type URL mqtt-xds serves, in the one place. Literal types let maps keyed by URL
// be checked by the compiler.
export const CLUSTER = 'type.googleapis.com/envoy.config.cluster.v3.Cluster';
export const ENDPOINT = 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment';
/** ECDS: the listener's network filters, so their settings change without touching the Listener. */
export const EXTENSION_CONFIG = 'type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig';
export const LISTENER = 'type.googleapis.com/envoy.config.listener.v3.Listener';
/** SDS: the MQTT listener's certificate, so a rotation never touches the Listener. Only to trusted streams (ads-server.ts). */
export const SECRET = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret';

export type TypeUrl = typeof CLUSTER | typeof ENDPOINT | typeof EXTENSION_CONFIG | typeof SECRET | typeof LISTENER;

/**
 * Make-before-break: clusters, then their endpoints, then the filter configs and the
 * certificates, then the listeners that use them all.
 */
export const PUSH_ORDER: readonly TypeUrl[] = [CLUSTER, ENDPOINT, EXTENSION_CONFIG, SECRET, LISTENER];

/** Types whose SotW responses carry the full state; the others carry what was asked for. */
export const WILDCARD_TYPES: ReadonlySet<TypeUrl> = new Set<TypeUrl>([CLUSTER, LISTENER]);

export const SHORT_NAME: Readonly<Record<TypeUrl, string>> = {
  [CLUSTER]: 'cds',
  [ENDPOINT]: 'eds',
  [EXTENSION_CONFIG]: 'ecds',
  [SECRET]: 'sds',
  [LISTENER]: 'lds',
};

export function isTypeUrl(s: string): s is TypeUrl {
  return s === CLUSTER || s === ENDPOINT || s === EXTENSION_CONFIG || s === SECRET || s === LISTENER;
}

/**
 * The one copy of a type URL that a decoded request spelt: each request decodes its own,
 * and a stream keeps the first ones as its keys for as long as it lives.
 */
export function canonicalTypeUrl(s: TypeUrl): TypeUrl {
  return s === CLUSTER ? CLUSTER : s === ENDPOINT ? ENDPOINT : s === EXTENSION_CONFIG ? EXTENSION_CONFIG : s === SECRET ? SECRET : LISTENER;
}

export function messageName(t: TypeUrl): string {
  return t.slice(t.indexOf('/') + 1);
}
