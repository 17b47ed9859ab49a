import type { ClusterLoadAssignment } from '../generated/envoy/config/endpoint/v3/ClusterLoadAssignment';
import type { LbEndpoint } from '../generated/envoy/config/endpoint/v3/LbEndpoint';
import type { PlannedEndpoint, WeightPlan } from '../domain';

export function buildLbEndpoint(e: PlannedEndpoint): LbEndpoint {
  return {
    endpoint: {
      address: { socket_address: { address: e.address, port_value: e.port, protocol: 'TCP' } },
      hostname: e.name,
    },
    // UNKNOWN lets the active MQTT health check decide; DRAINING stops new connections
    // while established ones stay.
    health_status: e.health === 'draining' ? 'DRAINING' : 'UNKNOWN',
    load_balancing_weight: { value: e.weight },
  };
}

/** One locality holding every broker; weights are per broker. */
export function buildClusterLoadAssignment(clusterName: string, plan: WeightPlan): ClusterLoadAssignment {
  return {
    cluster_name: clusterName,
    endpoints: [{ lb_endpoints: plan.endpoints.map(buildLbEndpoint) }],
  };
}

/** The same brokers, weights and drains on their WebSocket ports; brokers without one are left out. */
export function buildWebsocketLoadAssignment(clusterName: string, plan: WeightPlan): ClusterLoadAssignment {
  const endpoints = plan.endpoints.flatMap((e) => (e.websocketPort === undefined ? [] : [{ ...e, port: e.websocketPort }]));
  return buildClusterLoadAssignment(clusterName, { endpoints });
}
