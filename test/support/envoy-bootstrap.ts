import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { REPO_ROOT } from './repo-root';

export type XdsMode = 'sotw' | 'delta';

export interface BootstrapOverrides {
  xdsPort: number;
  nodeId: string;
  /** 0 lets Envoy pick; read the real port back through --admin-address-path. */
  adminPort: number;
  /** The overload manager's global cap on downstream connections; absent keeps the file's. */
  maxDownstreamConnections?: number;
  /** TLS (mTLS with a client certificate) to the control plane instead of plaintext. */
  xdsTls?: XdsClientTls;
  /** Default true: report load over LRS (cluster_manager.load_stats_config), as the file does. */
  loadStats?: boolean;
}

export interface XdsClientTls {
  /** CA that signed the control plane's certificate. */
  readonly caFile: string;
  /** The name the control plane's certificate must carry. */
  readonly serverName: string;
  readonly certFile?: string;
  readonly keyFile?: string;
}

export const GLOBAL_CONNECTIONS_MONITOR = 'envoy.resource_monitors.global_downstream_max_connections';

export { REPO_ROOT };
export const XDS_CLUSTER = 'xds_cluster';

export function bootstrapPath(mode: XdsMode): string {
  return path.join(REPO_ROOT, 'envoy', `bootstrap-${mode}.yaml`);
}

/**
 * The checked-in bootstrap for `mode`, with the node id, admin port and control-plane
 * port replaced, the global connection cap if one is given, and LRS off if asked. Returns a plain object: write it out as JSON, never YAML, because
 * Envoy's YAML 1.1 parser would turn a node id such as "n" or "yes" into a boolean.
 */
export function renderBootstrap(mode: XdsMode, overrides: BootstrapOverrides): Record<string, any> {
  const file = bootstrapPath(mode);
  const doc = YAML.parse(fs.readFileSync(file, 'utf8'));
  const fail = (what: string): never => {
    throw new Error(`${file}: ${what}; test/support/envoy-bootstrap.ts expects it there`);
  };

  if (!doc?.node) fail('no node section');
  doc.node.id = overrides.nodeId;

  const adminSocket = doc.admin?.address?.socket_address ?? fail('no admin.address.socket_address');
  adminSocket.port_value = overrides.adminPort;

  const clusters: any[] = doc.static_resources?.clusters ?? [];
  const xds = clusters.find((c) => c?.name === XDS_CLUSTER) ?? fail(`no static cluster ${XDS_CLUSTER}`);
  const sockets = (xds.load_assignment?.endpoints ?? [])
    .flatMap((e: any) => e?.lb_endpoints ?? [])
    .map((lb: any) => lb?.endpoint?.address?.socket_address)
    .filter(Boolean);
  if (sockets.length === 0) fail(`${XDS_CLUSTER} has no endpoint socket_address`);
  for (const socket of sockets) socket.port_value = overrides.xdsPort;

  if (overrides.xdsTls) {
    const t = overrides.xdsTls;
    xds.transport_socket = {
      name: 'envoy.transport_sockets.tls',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
        sni: t.serverName,
        common_tls_context: {
          alpn_protocols: ['h2'],
          ...(t.certFile && t.keyFile
            ? { tls_certificates: [{ certificate_chain: { filename: t.certFile }, private_key: { filename: t.keyFile } }] }
            : {}),
          validation_context: {
            trusted_ca: { filename: t.caFile },
            match_typed_subject_alt_names: [{ san_type: 'DNS', matcher: { exact: t.serverName } }],
          },
        },
      },
    };
  }

  const lrs = doc.cluster_manager?.load_stats_config ?? fail('no cluster_manager.load_stats_config');
  const lrsCluster = lrs.grpc_services?.[0]?.envoy_grpc?.cluster_name;
  if (lrsCluster !== XDS_CLUSTER) fail(`load_stats_config reports to ${String(lrsCluster)}, not ${XDS_CLUSTER}`);
  if (overrides.loadStats === false) delete doc.cluster_manager;

  if (overrides.maxDownstreamConnections !== undefined) {
    const monitors: any[] = doc.overload_manager?.resource_monitors ?? [];
    const monitor =
      monitors.find((m) => m?.name === GLOBAL_CONNECTIONS_MONITOR) ?? fail(`no overload_manager monitor ${GLOBAL_CONNECTIONS_MONITOR}`);
    monitor.typed_config.max_active_downstream_connections = overrides.maxDownstreamConnections;
  }

  return doc;
}
