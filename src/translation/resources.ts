import type { Cluster } from '../generated/envoy/config/cluster/v3/Cluster';
import type { TypedExtensionConfig } from '../generated/envoy/config/core/v3/TypedExtensionConfig';
import type { ClusterLoadAssignment } from '../generated/envoy/config/endpoint/v3/ClusterLoadAssignment';
import type { Listener } from '../generated/envoy/config/listener/v3/Listener';
import type { ProxyModel } from './model';
import { buildCluster } from './cluster';
import { buildClusterLoadAssignment } from './endpoint';
import { buildListener } from './listener';
import { buildListenerFilterConfigs } from './network-filters';

/** One complete proxy configuration, as plain objects, before serialisation. */
export interface ResourceSet {
  readonly clusters: readonly Cluster[];
  readonly endpoints: readonly ClusterLoadAssignment[];
  /** ECDS: the listeners' network filter configs, by the names the listeners give them. */
  readonly extensionConfigs: readonly TypedExtensionConfig[];
  readonly listeners: readonly Listener[];
}

export function buildResources(model: ProxyModel): ResourceSet {
  return {
    clusters: [buildCluster(model.cluster)],
    endpoints: [buildClusterLoadAssignment(model.cluster.name, model.plan)],
    extensionConfigs: buildListenerFilterConfigs(model.listener),
    listeners: [buildListener(model.listener)],
  };
}
