import type { Cluster } from '../generated/envoy/config/cluster/v3/Cluster';
import type { TypedExtensionConfig } from '../generated/envoy/config/core/v3/TypedExtensionConfig';
import type { ClusterLoadAssignment } from '../generated/envoy/config/endpoint/v3/ClusterLoadAssignment';
import type { Listener } from '../generated/envoy/config/listener/v3/Listener';
import type { Secret } from '../generated/envoy/extensions/transport_sockets/tls/v3/Secret';
import type { ProxyModel } from './model';
import { buildCluster } from './cluster';
import { buildClusterLoadAssignment, buildWebsocketLoadAssignment } from './endpoint';
import { buildListener } from './listener';
import { buildListenerFilterConfigs, buildTenantFilterConfigs } from './network-filters';
import { buildSecret } from './secret';

/** One complete proxy configuration, as plain objects, before serialisation. */
export interface ResourceSet {
  readonly clusters: readonly Cluster[];
  readonly endpoints: readonly ClusterLoadAssignment[];
  /** ECDS: the listeners' network filter configs, by the names the listeners give them. */
  readonly extensionConfigs: readonly TypedExtensionConfig[];
  /** SDS: the certificates the listeners name. */
  readonly secrets: readonly Secret[];
  readonly listeners: readonly Listener[];
}

export function buildResources(model: ProxyModel): ResourceSet {
  const ws = model.websocket;
  const tenants = model.tenants ?? [];
  // Refusing names no tenant has, the default chain is gone, and with it its filter configs.
  const withDefault = (model.defaultChain ?? true) || tenants.length === 0;
  const wsTenants = ws?.tenants ?? [];
  const wsDefault = (model.defaultChain ?? true) || wsTenants.length === 0;
  return {
    clusters: [
      buildCluster(model.cluster),
      ...tenants.map((t) => buildCluster(t.cluster)),
      ...(ws ? [buildCluster(ws.cluster), ...wsTenants.map((t) => buildCluster(t.cluster))] : []),
    ],
    endpoints: [
      buildClusterLoadAssignment(model.cluster.name, model.plan),
      ...tenants.map((t) => buildClusterLoadAssignment(t.cluster.name, t.plan)),
      ...(ws
        ? [
            buildWebsocketLoadAssignment(ws.cluster.name, ws.plan ?? model.plan),
            ...wsTenants.map((t) => buildWebsocketLoadAssignment(t.cluster.name, t.plan)),
          ]
        : []),
    ],
    extensionConfigs: [
      ...(withDefault ? buildListenerFilterConfigs(model.listener) : []),
      ...tenants.flatMap((t) => buildTenantFilterConfigs(t.listener)),
      ...(ws && wsDefault ? buildListenerFilterConfigs(ws.listener) : []),
      ...wsTenants.flatMap((t) => buildTenantFilterConfigs(t.listener)),
    ],
    secrets: (model.certificates ?? []).map(buildSecret),
    listeners: [buildListener(model.listener, tenants, withDefault), ...(ws ? [buildListener(ws.listener, wsTenants, wsDefault)] : [])],
  };
}
