import type { TransportSocket } from '../generated/envoy/config/core/v3/TransportSocket';
import type { Filter } from '../generated/envoy/config/listener/v3/Filter';
import type { Listener } from '../generated/envoy/config/listener/v3/Listener';
import type { DownstreamTlsContext } from '../generated/envoy/extensions/transport_sockets/tls/v3/DownstreamTlsContext';
import type { FilterChain } from '../generated/envoy/config/listener/v3/FilterChain';
import type { ListenerModel, ListenerTlsModel, TenantModel } from './model';
import {
  CONNECTION_LIMIT_TYPE,
  connectionLimitName,
  connectRateLimitName,
  LOCAL_RATE_LIMIT_TYPE,
  TCP_PROXY_TYPE,
  tcpProxyName,
} from './network-filters';
import { durationMs, typed, TYPE_PREFIX } from './any';
import { buildTlvFilterState } from './proxy-protocol';
import { mqttFilterName, WASM_TYPE } from './mqtt-filter';

export const DOWNSTREAM_TLS_TYPE = 'envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';
export const TLS_INSPECTOR_TYPE = 'envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector';

/**
 * TLS 1.2 or 1.3 (never older), with the certificate from SDS on the ADS stream. No initial
 * fetch timeout: the listener warms until the certificate arrives instead of starting
 * without one.
 */
export function buildDownstreamTls(m: ListenerTlsModel): TransportSocket {
  const sds = (name: string) => ({
    name,
    sds_config: { ads: {}, resource_api_version: 'V3' as const, initial_fetch_timeout: durationMs(0) },
  });
  const context: DownstreamTlsContext = {
    common_tls_context: {
      tls_params: { tls_minimum_protocol_version: m.minVersion, tls_maximum_protocol_version: 'TLSv1_3' },
      tls_certificate_sds_secret_configs: [sds(m.secretName)],
      ...(m.clientCaSecretName === undefined ? {} : { validation_context_sds_secret_config: sds(m.clientCaSecretName) }),
    },
    // mTLS: a client without a certificate the CA signed fails the handshake.
    ...(m.clientCaSecretName === undefined ? {} : { require_client_certificate: { value: true } }),
  };
  return { name: 'envoy.transport_sockets.tls', typed_config: typed(DOWNSTREAM_TLS_TYPE, context) };
}

/** A network filter whose config comes over ECDS on the ADS stream, by name. */
function discoveredFilter(name: string, typeName: string): Filter {
  return {
    name,
    // No default_config and no initial fetch timeout: the listener stays warming until the
    // config arrives. With Envoy's default 15 s it would start without the filter and close
    // every client it accepts.
    config_discovery: {
      config_source: { ads: {}, resource_api_version: 'V3', initial_fetch_timeout: durationMs(0) },
      type_urls: [TYPE_PREFIX + typeName],
    },
  };
}

/**
 * The MQTT listener. It depends only on name, address, port, TLS secret names and the
 * tenants' names and server names, never on brokers, weights or limits: any change inside
 * a filter chain drains every connection on it, closing them after Envoy's drain time. The
 * filters' settings come over ECDS instead (network-filters.ts), so changing them leaves
 * these bytes identical.
 *
 * Tenants add one chain each, matched by SNI, beside the default chain (which has no match
 * and so takes every client naming no tenant). Envoy updates a listener whose filter chains
 * alone changed in place: only an added, removed or changed chain is touched, so one
 * tenant's change drains no other tenant. That holds only while everything else stays, the
 * listener filters included: with TLS the TLS inspector is always there, tenants or not.
 */
export function buildListener(m: ListenerModel, tenants: readonly TenantModel[] = [], defaultChain = true): Listener {
  const inspect = m.tls !== undefined || tenants.length > 0;
  const chains: FilterChain[] = [...(defaultChain || tenants.length === 0 ? [buildDefaultChain(m)] : []), ...tenants.map(buildTenantChain)];
  return {
    name: m.name,
    address: { socket_address: { address: m.address, port_value: m.port, protocol: 'TCP' } },
    // listener.<name>.* instead of listener.<address>_<port>.*: stable across address changes.
    stat_prefix: m.name,
    // Reads the ClientHello's SNI, which the tenants' chains match on.
    ...(inspect
      ? { listener_filters: [{ name: 'envoy.filters.listener.tls_inspector', typed_config: typed(TLS_INSPECTOR_TYPE, {}) }] }
      : {}),
    filter_chains: chains,
    // Envoy's default buffer is 1 MiB per connection; with 100k mostly idle MQTT clients
    // that is memory nobody needs, and flow control still carries larger messages.
    per_connection_buffer_limit_bytes: { value: 32768 },
  };
}

function buildDefaultChain(m: ListenerModel): FilterChain {
  return {
    filters: [
      discoveredFilter(connectRateLimitName(m), LOCAL_RATE_LIMIT_TYPE),
      ...mqttFilters(m),
      ...tlvFilters(m),
      discoveredFilter(tcpProxyName(m), TCP_PROXY_TYPE),
    ],
    ...(m.tls ? { transport_socket: buildDownstreamTls(m.tls) } : {}),
  };
}

/** One tenant's chain: its server names, its certificate, and its own filters by name. */
export function buildTenantChain(t: TenantModel): FilterChain {
  const m = t.listener;
  return {
    name: m.name,
    filter_chain_match: { server_names: [...t.serverNames], transport_protocol: 'tls' },
    filters: [
      discoveredFilter(connectionLimitName(m), CONNECTION_LIMIT_TYPE),
      discoveredFilter(connectRateLimitName(m), LOCAL_RATE_LIMIT_TYPE),
      ...mqttFilters(m),
      ...tlvFilters(m),
      discoveredFilter(tcpProxyName(m), TCP_PROXY_TYPE),
    ],
    transport_socket: buildDownstreamTls(m.tls),
  };
}

/**
 * The MQTT filter, by name over ECDS. Only whether it is on is in the Listener: switching it
 * on or off changes the chain (a drain of that chain), while its settings are ECDS updates.
 */
function mqttFilters(m: ListenerModel): Filter[] {
  return m.mqttFilter ? [discoveredFilter(mqttFilterName(m), WASM_TYPE)] : [];
}

/**
 * The filter that keeps the client's values for the brokers' PROXY TLVs, inline: it
 * follows a setting read at start only, and the sources never change while running.
 */
function tlvFilters(m: ListenerModel): Filter[] {
  const filter = buildTlvFilterState(m);
  return filter ? [filter] : [];
}
