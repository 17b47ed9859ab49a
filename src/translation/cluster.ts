import type { Cluster } from '../generated/envoy/config/cluster/v3/Cluster';
import type { ClusterModel } from './model';
import { durationMs } from './any';
import { buildMqttHealthCheck } from './health-check';
import { buildUpstreamProxyProtocol } from './proxy-protocol';

/**
 * Sticky placement's Maglev lookup table (a prime; Envoy's default), per worker. Maglev, not
 * RING_HASH: measured through Envoy 1.40 with 200 ids, a 4th broker moved 21.5% of the ids
 * under Maglev, all to the new broker, and 36–40% under ring hash, a quarter of them between
 * the old brokers (each host's points follow its share of the total weight, so they all
 * change with N). docs/mqtt-filter.md has the numbers.
 */
export const STICKY_MAGLEV_TABLE_SIZE = 65_537;

/**
 * Bounded load (hash_balance_factor, percent): an id whose broker holds more than 1.25 × its
 * weighted share of this Envoy's connections goes to its next choice in the table.
 */
export const STICKY_BALANCE_FACTOR = 125;

/**
 * The broker cluster: endpoints come over EDS on the same ADS stream. Circuit breakers are
 * explicit because Envoy's default of 1024 connections is far too low for MQTT, where every
 * client holds one connection for hours.
 */
export function buildCluster(m: ClusterModel): Cluster {
  return {
    name: m.name,
    type: 'EDS',
    eds_cluster_config: { eds_config: { ads: {}, resource_api_version: 'V3' } },
    connect_timeout: durationMs(m.connectTimeoutMs),
    lb_policy: m.lbPolicy,
    ...(m.lbPolicy === 'MAGLEV' ? { maglev_lb_config: { table_size: { value: STICKY_MAGLEV_TABLE_SIZE } } } : {}),
    circuit_breakers: {
      thresholds: [
        {
          priority: 'DEFAULT',
          max_connections: { value: m.maxConnections },
          // tcp_proxy counts a connection being established as pending, and one routed to a
          // broker at its per-host limit waits here; beyond this, new clients are closed at once.
          max_pending_requests: { value: m.maxPendingConnections ?? m.maxConnections },
          max_requests: { value: m.maxConnections },
          max_retries: { value: 3 },
        },
      ],
      per_host_thresholds: [{ priority: 'DEFAULT', max_connections: { value: m.perHostMaxConnections } }],
    },
    health_checks: [buildMqttHealthCheck(m.healthCheck)],
    // Envoy otherwise holds a health-check result that comes within 1 s of a weight push until
    // the second is up, and its workers go on sending new clients to a broker it has seen fail.
    common_lb_config: {
      update_merge_window: durationMs(m.updateMergeWindowMs),
      ...(m.lbPolicy === 'MAGLEV' ? { consistent_hashing_lb_config: { hash_balance_factor: { value: STICKY_BALANCE_FACTOR } } } : {}),
    },
    // A broker removed from discovery leaves at once instead of lingering until it fails
    // health checks; its established connections are untouched either way.
    ignore_health_on_host_removal: true,
    // Health checks go through it too and send a v2 LOCAL header (no addresses, no TLVs).
    ...(m.proxyProtocol ? { transport_socket: buildUpstreamProxyProtocol(m.proxyProtocol) } : {}),
  };
}
