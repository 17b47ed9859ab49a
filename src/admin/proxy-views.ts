// GET /proxy-status and GET /config-dump: which Envoy holds what, and what one Envoy is
// sent. Read-only, like /status; both are bounded, and the dump carries no private key.
import { MAX_NODE_ID_BYTES, PUSH_ORDER, classify, dumpResource, messageName, SHORT_NAME, STALE_AFTER_MS } from '../xds';
import type { DumpedResource, NodeConfig, StreamSync, TypeUrl, TypeView } from '../xds';
import { productVersion } from '../util/version';

/** Envoys listed by one /proxy-status answer; the rest are counted in `omitted`. */
export const MAX_PROXIES = 1000;

export interface ProxyViewSources {
  /** The streams sorted by node id then stream, the first `limit` computed; `total` counts every match. */
  sync(filter: { readonly nodeId?: string; readonly limit: number }): { readonly streams: readonly StreamSync[]; readonly total: number };
  /** Every connected node id, sorted. */
  nodeIds(): readonly string[];
  configOf(nodeId: string): NodeConfig | undefined;
  snapshotVersion(): string | undefined;
  publishedAtMs(): number | undefined;
  nowMs(): number;
}

export interface ViewReply {
  readonly status: number;
  readonly body: unknown;
}

export interface ProxyRow {
  readonly node: string;
  readonly cluster: string;
  readonly kind: 'sotw' | 'delta';
  readonly stream: number;
  readonly peer: string;
  readonly connectedAt: string;
  /** By type, as CDS, EDS, ECDS, SDS, LDS. */
  readonly types: Readonly<Record<string, TypeView>>;
}

export interface ProxyStatusBody {
  readonly version: string;
  readonly snapshot: string | undefined;
  readonly staleAfterMs: number;
  readonly proxies: readonly ProxyRow[];
  readonly omitted?: number;
}

/** Every connected Envoy (one row per ADS stream), `?node=ID` for one. */
export function proxyStatus(src: ProxyViewSources, query: URLSearchParams, staleAfterMs = STALE_AFTER_MS): ViewReply {
  const node = query.get('node');
  if (node !== null && Buffer.byteLength(node) > MAX_NODE_ID_BYTES)
    return { status: 400, body: { error: `node is longer than ${MAX_NODE_ID_BYTES} bytes` } };
  const now = src.nowMs();
  const published = src.publishedAtMs();
  const { streams, total } = src.sync({ ...(node === null ? {} : { nodeId: node }), limit: MAX_PROXIES });
  const rows = streams.map((s) => ({
    node: s.nodeId,
    cluster: s.cluster,
    kind: s.kind,
    stream: s.id,
    peer: s.peer,
    connectedAt: s.openedAt,
    types: Object.fromEntries(
      PUSH_ORDER.filter((t) => s.types[t] !== undefined).map((t) => [typeLabel(t), classify(s.types[t]!, now, published, staleAfterMs)]),
    ),
  }));
  const body: ProxyStatusBody = {
    version: productVersion(),
    snapshot: src.snapshotVersion(),
    staleAfterMs,
    proxies: rows,
    ...(total > rows.length ? { omitted: total - rows.length } : {}),
  };
  return { status: 200, body };
}

/** CDS, EDS, ECDS, SDS, LDS. */
export function typeLabel(t: TypeUrl): string {
  return SHORT_NAME[t].toUpperCase();
}

export interface ConfigDumpBody {
  readonly node: string;
  readonly cluster: string;
  readonly snapshot: string | undefined;
  readonly streams: NodeConfig['streams'];
  /** By message type (Cluster, ClusterLoadAssignment, TypedExtensionConfig, Secret, Listener), in push order. */
  readonly resources: Readonly<Record<string, readonly DumpedResource[]>>;
}

/** What the Envoy `?node=ID` is sent now, decoded, private keys and tokens redacted. */
export function configDump(src: ProxyViewSources, query: URLSearchParams): ViewReply {
  const node = query.get('node');
  if (node === null || node === '')
    return { status: 400, body: { error: `name the Envoy: /config-dump?node=<node id>; ${connected(src)}` } };
  if (Buffer.byteLength(node) > MAX_NODE_ID_BYTES)
    return { status: 400, body: { error: `node is longer than ${MAX_NODE_ID_BYTES} bytes` } };
  const config = src.configOf(node);
  if (!config) return { status: 404, body: { error: `no Envoy with node id "${node}" is connected; ${connected(src)}` } };
  const resources: Record<string, DumpedResource[]> = {};
  for (const t of PUSH_ORDER) {
    const list = config.resources[t];
    if (list) resources[messageName(t).slice(messageName(t).lastIndexOf('.') + 1)] = list.map(dumpResource);
  }
  const body: ConfigDumpBody = {
    node: config.nodeId,
    cluster: config.cluster,
    snapshot: src.snapshotVersion(),
    streams: config.streams,
    resources,
  };
  return { status: 200, body };
}

/** `connected: a, b` (at most 20 names), or that none is. */
function connected(src: ProxyViewSources): string {
  const ids = src.nodeIds();
  if (ids.length === 0) return 'no Envoy is connected';
  const shown = ids.slice(0, 20).map((id) => JSON.stringify(id));
  return `connected: ${shown.join(', ')}${ids.length > 20 ? ` and ${ids.length - 20} more` : ''} (see /proxy-status)`;
}

/** The two views over one set of sources, as the admin server serves them. */
export function proxyViews(src: ProxyViewSources): {
  proxyStatus(q: URLSearchParams): ViewReply;
  configDump(q: URLSearchParams): ViewReply;
} {
  return { proxyStatus: (q) => proxyStatus(src, q), configDump: (q) => configDump(src, q) };
}
