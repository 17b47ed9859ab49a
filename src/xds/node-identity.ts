// Binds what an Envoy claims (its node id or cluster) to the certificate it presented,
// so one Envoy's credentials cannot read or stall another's configuration. Pure.

/** off: no binding; node-id / node-cluster: a SAN of the client certificate must name it. */
export type NodeIdentityRule = 'off' | 'node-id' | 'node-cluster';

export const NODE_IDENTITY_RULES: readonly NodeIdentityRule[] = ['off', 'node-id', 'node-cluster'];

/**
 * Why this node may not use this stream; undefined when it may. A SAN names the claim when
 * a DNS or URI entry equals it, or a URI's last path segment does
 * (`spiffe://mqtt/ns/edge/envoy-1` names `envoy-1`).
 */
export function nodeIdentityProblem(
  rule: NodeIdentityRule,
  node: { readonly id: string; readonly cluster: string },
  peerSubjectAltName: string | undefined,
): string | undefined {
  if (rule === 'off') return undefined;
  const claim = rule === 'node-id' ? node.id : node.cluster;
  const what = rule === 'node-id' ? 'node id' : 'node cluster';
  if (peerSubjectAltName === undefined) return `the ${what} "${claim}" must be named by the client certificate, but none was presented`;
  for (const entry of peerSubjectAltName.split(',').map((s) => s.trim())) {
    const colon = entry.indexOf(':');
    if (colon < 0) continue;
    const kind = entry.slice(0, colon);
    const value = entry.slice(colon + 1);
    if ((kind === 'DNS' || kind === 'URI') && value === claim) return undefined;
    if (kind === 'URI' && claim !== '' && value.endsWith(`/${claim}`)) return undefined;
  }
  return `the ${what} "${claim}" is not named by the client certificate (SAN ${peerSubjectAltName || 'empty'})`;
}
