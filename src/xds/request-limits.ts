// Bounds on what one Envoy may ask of the ADS server: names per request and their length,
// the node id's size, the claim its certificate must name, and names subscribed overall.
import * as grpc from '@grpc/grpc-js';
import type { DeltaDiscoveryRequest, DiscoveryRequest, NodeInfo } from './messages';
import { nodeIdentityProblem, type NodeIdentityRule } from './node-identity';
import { isTypeUrl } from './type-urls';

/** Bounds on one request, besides the byte limit gRPC enforces. */
const MAX_NAMES_PER_REQUEST = 10_000;
const MAX_NAME_LENGTH = 1_024;
/** Envoy node ids are host or pod names; a longer one is refused rather than stored and labelled. */
export const MAX_NODE_ID_BYTES = 256;
/** Names subscribed by one stream, and by all streams together (issue: 600,000 names made /status 56 MB). */
export const MAX_NAMES_PER_STREAM = 10_000;
export const MAX_NAMES_TOTAL = 200_000;

/** Why a request is refused: a type we do not serve, or too many or too long names. */
export function requestProblem(req: DiscoveryRequest & DeltaDiscoveryRequest): string | undefined {
  const t = req.type_url ?? '';
  if (!isTypeUrl(t))
    return `unsupported type_url "${t.slice(0, 200)}"; this server serves Cluster, ClusterLoadAssignment, TypedExtensionConfig and Listener`;
  // List by list rather than gathered into one array: every request passes here.
  const lists = [req.resource_names, req.resource_names_subscribe, req.resource_names_unsubscribe];
  if (req.initial_resource_versions) lists.push(Object.keys(req.initial_resource_versions));
  const count = lists.reduce((n, names) => n + (names?.length ?? 0), 0);
  if (count > MAX_NAMES_PER_REQUEST) return `too many resource names (${count} > ${MAX_NAMES_PER_REQUEST})`;
  if (lists.some((names) => names?.some((n) => n.length > MAX_NAME_LENGTH)))
    return `resource name longer than ${MAX_NAME_LENGTH} characters`;
  return undefined;
}

/**
 * Why this node may not open a stream: an oversized id, or a claim its certificate (SAN
 * `peerSubjectAltName`, read only when the rule needs it) does not name.
 */
export function nodeRefusal(
  node: NodeInfo,
  rule: NodeIdentityRule,
  peerSubjectAltName: () => string | undefined,
): { code: grpc.status; details: string } | undefined {
  const id = node.id ?? '';
  if (Buffer.byteLength(id) > MAX_NODE_ID_BYTES) {
    return { code: grpc.status.INVALID_ARGUMENT, details: `node id longer than ${MAX_NODE_ID_BYTES} bytes` };
  }
  if (rule === 'off') return undefined;
  const problem = nodeIdentityProblem(rule, { id, cluster: node.cluster ?? '' }, peerSubjectAltName());
  return problem === undefined ? undefined : { code: grpc.status.PERMISSION_DENIED, details: problem };
}

/** Why a stream's subscriptions are over a bound: its own names, or all streams' together. */
export function subscriptionProblem(streamNames: number, totalNames: number, perStream: number, total: number): string | undefined {
  if (streamNames > perStream) return `this stream subscribes to ${streamNames} resource names, over the limit of ${perStream}`;
  if (totalNames > total) return `all streams together subscribe to ${totalNames} resource names, over the limit of ${total}`;
  return undefined;
}
