// The load reporting service's messages: LoadStatsRequest as far as it is read, its bounds,
// and the one LoadStatsResponse each stream gets. Pure; what it yields has no Envoy types.
import * as protobuf from 'protobufjs';
import { endpointKey, type EndpointLoad } from '../domain';
import { decodeMessage, encodeMessage, messageType } from './codec';
import type { NodeInfo } from './messages';

/** The Node of a LoadStatsRequest: what the handler needs of it. */
export interface LrsNode extends NodeInfo {
  client_features?: string[];
}

/** A 64-bit integer as protobufjs decodes it: a number, or a Long when the long package is installed. */
type Int64 = number | string | { toNumber(): number };

interface Duration {
  seconds?: Int64;
  nanos?: number;
}

/** Absent counts are 0. */
interface EndpointStats {
  address?: { socket_address?: { address?: string; port_value?: number } };
  total_requests_in_progress?: Int64;
  total_issued_requests?: Int64;
}

interface ClusterStats {
  cluster_name?: string;
  upstream_locality_stats?: Array<{ upstream_endpoint_stats?: EndpointStats[] }>;
  load_report_interval?: Duration;
}

/**
 * A LoadStatsRequest with its node left encoded: Envoy repeats its whole node in every
 * report, with the list of every extension compiled in (516 in 1.40, 61 KB of a 61 KB
 * report). Decoding it took 260 µs a report; skipping it leaves 3 µs.
 */
export interface LoadStatsRequest {
  readonly nodeBytes?: Uint8Array;
  readonly cluster_stats: ClusterStats[];
}

const NODE_FIELD = 1;
const CLUSTER_STATS_FIELD = 2;
const LENGTH_DELIMITED = 2;

/** Decodes the cluster stats and slices out the node; throws on bytes that are no LoadStatsRequest. */
export function decodeLoadStatsRequest(b: Uint8Array): LoadStatsRequest {
  const clusterStats = messageType('envoy.config.endpoint.v3.ClusterStats');
  const r = protobuf.Reader.create(b);
  const out: { nodeBytes?: Uint8Array; cluster_stats: ClusterStats[] } = { cluster_stats: [] };
  while (r.pos < r.len) {
    const tag = r.uint32();
    const field = tag >>> 3;
    const wire = tag & 7;
    if ((field === NODE_FIELD || field === CLUSTER_STATS_FIELD) && wire !== LENGTH_DELIMITED) {
      throw new Error(`field ${field} has wire type ${wire}, not length-delimited`);
    }
    if (field === NODE_FIELD) out.nodeBytes = r.bytes();
    else if (field === CLUSTER_STATS_FIELD) out.cluster_stats.push(clusterStats.decode(r, r.uint32()) as ClusterStats);
    else r.skipType(wire);
  }
  return out;
}

/** The node of a stream's first request; throws on bytes that are no Node. */
export const decodeLrsNode = (bytes: Uint8Array): LrsNode => decodeMessage<LrsNode>('envoy.config.core.v3.Node', bytes);

/** The capability Envoy advertises in node.client_features when it honours send_all_clusters. */
export const SEND_ALL_CLUSTERS_FEATURE = 'envoy.lrs.supports_send_all_clusters';

/** What an Envoy may put in one report. Ours has four clusters, one locality each. */
export interface ReportLimits {
  readonly maxClusters: number;
  readonly maxLocalities: number;
  /** Endpoints over all clusters and localities of the report. */
  readonly maxEndpoints: number;
}

export const REPORT_LIMITS: ReportLimits = { maxClusters: 256, maxLocalities: 256, maxEndpoints: 8_192 };

export type LrsRejectReason =
  | 'undecodable'
  | 'no_node'
  | 'node_refused'
  | 'too_many_streams'
  | 'too_many_clusters'
  | 'too_many_localities'
  | 'too_many_endpoints'
  | 'refused_by_view';

/** The MQTT cluster's part of a report; absent when the report does not carry the cluster. */
export interface ClusterReport {
  /** undefined when Envoy sent no interval (never seen: it measures each one). */
  readonly intervalMs: number | undefined;
  readonly endpoints: readonly EndpointLoad[];
}

export type Extracted =
  | { readonly ok: true; readonly cluster: ClusterReport | undefined }
  | { readonly ok: false; readonly reason: LrsRejectReason; readonly details: string };

/**
 * Whether a cluster of that name sends clients to the brokers: the MQTT cluster itself, a
 * tenant's pool (`<name>.<tenant>`), the WebSocket cluster (`<name>_ws`) and its tenants'
 * pools. A broker's page counts the connections of all of them.
 */
export function servesBrokers(cluster: string, mqttCluster: string): boolean {
  const ws = `${mqttCluster}_ws`;
  return cluster === mqttCluster || cluster === ws || cluster.startsWith(`${mqttCluster}.`) || cluster.startsWith(`${ws}.`);
}

/**
 * The endpoints of the clusters that serve the brokers (servesBrokers), summed per cluster
 * and address:port (a broker in two localities or priorities is one broker), after checking
 * the report's size. The sizes are checked on the lists as decoded, before anything is
 * walked or kept. The interval is the MQTT cluster's, or the first such cluster's.
 */
export function extractClusterReport(req: LoadStatsRequest, clusterName: string, limits: ReportLimits = REPORT_LIMITS): Extracted {
  const clusters = req.cluster_stats;
  if (clusters.length > limits.maxClusters) {
    return {
      ok: false,
      reason: 'too_many_clusters',
      details: `report of ${clusters.length} clusters, over the limit of ${limits.maxClusters}`,
    };
  }
  let endpoints = 0;
  for (const c of clusters) {
    const localities = c.upstream_locality_stats ?? [];
    if (localities.length > limits.maxLocalities) {
      return {
        ok: false,
        reason: 'too_many_localities',
        details: `cluster of ${localities.length} localities, over the limit of ${limits.maxLocalities}`,
      };
    }
    for (const l of localities) endpoints += l.upstream_endpoint_stats?.length ?? 0;
  }
  if (endpoints > limits.maxEndpoints) {
    return {
      ok: false,
      reason: 'too_many_endpoints',
      details: `report of ${endpoints} endpoints, over the limit of ${limits.maxEndpoints}`,
    };
  }
  // Loops, not flatMap chains: every Envoy sends one of these per interval.
  let ours: ClusterStats | undefined;
  const sums = new Map<string, { endpoint: string; cluster: string; inProgress: number; issued: number }>();
  for (const c of clusters) {
    const name = c.cluster_name ?? '';
    if (!servesBrokers(name, clusterName)) continue;
    if (name === clusterName || !ours) ours = c;
    for (const l of c.upstream_locality_stats ?? []) {
      for (const e of l.upstream_endpoint_stats ?? []) {
        const socket = e.address?.socket_address;
        // A pipe or internal address is no broker of ours: EDS gives brokers IP and port.
        if (!socket?.address || !socket.port_value) continue;
        const endpoint = endpointKey(socket.address, socket.port_value);
        const key = `${name}\n${endpoint}`;
        let sum = sums.get(key);
        if (!sum) sums.set(key, (sum = { endpoint, cluster: name, inProgress: 0, issued: 0 }));
        sum.inProgress += count(e.total_requests_in_progress);
        sum.issued += count(e.total_issued_requests);
      }
    }
  }
  if (!ours) return { ok: true, cluster: undefined };
  return { ok: true, cluster: { intervalMs: durationMs(ours.load_report_interval), endpoints: [...sums.values()] } };
}

/** A uint64 as decoded; a value past 2^53 loses precision, which no connection count reaches. */
function count(v: Int64 | undefined | null): number {
  const n = typeof v === 'object' && v !== null ? v.toNumber() : Number(v ?? 0);
  return Number.isFinite(n) && n > 0 ? n : 0;
}

function durationMs(d: Duration | undefined | null): number | undefined {
  if (!d) return undefined;
  const ms = count(d.seconds) * 1000 + (d.nanos ?? 0) / 1e6;
  return Number.isFinite(ms) && ms > 0 ? ms : undefined;
}

export interface ResponseShape {
  /** Envoy advertised SEND_ALL_CLUSTERS_FEATURE: ask for every cluster, else name ours. */
  readonly sendAll: boolean;
  readonly clusterName: string;
  readonly intervalMs: number;
}

/**
 * The LoadStatsResponse that starts reporting: every interval, per endpoint
 * (report_endpoint_granularity), so Envoy sends upstream_endpoint_stats.
 */
export function encodeLoadStatsResponse(shape: ResponseShape): Buffer {
  const seconds = Math.floor(shape.intervalMs / 1000);
  return encodeMessage('envoy.service.load_stats.v3.LoadStatsResponse', {
    ...(shape.sendAll ? { send_all_clusters: true } : { clusters: [shape.clusterName] }),
    load_reporting_interval: { seconds, nanos: (shape.intervalMs - seconds * 1000) * 1e6 },
    report_endpoint_granularity: true,
  });
}
