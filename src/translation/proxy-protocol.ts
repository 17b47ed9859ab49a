import type { TransportSocket } from '../generated/envoy/config/core/v3/TransportSocket';
import type { TlvEntry } from '../generated/envoy/config/core/v3/TlvEntry';
import type { FilterStateValue } from '../generated/envoy/extensions/filters/common/set_filter_state/v3/FilterStateValue';
import type { Filter } from '../generated/envoy/config/listener/v3/Filter';
import type { ProxyProtocolUpstreamTransport } from '../generated/envoy/extensions/transport_sockets/proxy_protocol/v3/ProxyProtocolUpstreamTransport';
import type { Config as SetFilterState } from '../generated/envoy/extensions/filters/network/set_filter_state/v3/Config';
import type { DownstreamTlvSource, ListenerModel, ProxyProtocolModel, ProxyTlvModel } from './model';
import { typed } from './any';

// The PROXY protocol towards the brokers (docs/proxy-protocol.md). Envoy formats a TLV on
// the upstream connection, where %DOWNSTREAM_*% and %REQUESTED_SERVER_NAME% describe
// Envoy's own link to the broker (checked with Envoy 1.40: the "remote address" was the
// broker's). Values of the client's connection therefore travel through filter state: the
// chain's set_filter_state filter stores them, shared with the upstream connection, and
// the TLV reads them back with %FILTER_STATE(key:PLAIN)%.

export const UPSTREAM_PROXY_PROTOCOL_TYPE = 'envoy.extensions.transport_sockets.proxy_protocol.v3.ProxyProtocolUpstreamTransport';
export const RAW_BUFFER_TYPE = 'envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer';
export const SET_FILTER_STATE_TYPE = 'envoy.extensions.filters.network.set_filter_state.v3.Config';

/** The filter-state key a downstream value is stored under. */
export const tlvFilterStateKey = (source: DownstreamTlvSource): string => `mqtt_xds.tlv.${source.toLowerCase()}`;

/** Known once the TLS handshake is done; the SNI is known from the ClientHello, before. */
export const needsHandshake = (source: DownstreamTlvSource): boolean => source !== 'REQUESTED_SERVER_NAME';

function buildTlv(t: ProxyTlvModel): TlvEntry {
  if ('value' in t) return { type: t.type, value: Buffer.from(t.value, 'utf8') };
  return {
    type: t.type,
    // An empty value drops the TLV (checked with Envoy 1.40) instead of sending "-".
    format_string: {
      omit_empty_values: true,
      text_format_source: { inline_string: `%FILTER_STATE(${tlvFilterStateKey(t.source)}:PLAIN)%` },
    },
  };
}

/** The broker cluster's transport socket: the PROXY header, then the client's bytes unchanged. */
export function buildUpstreamProxyProtocol(m: ProxyProtocolModel): TransportSocket {
  const transport: ProxyProtocolUpstreamTransport = {
    config: { version: m.version, ...(m.version === 'V2' && m.tlvs.length > 0 ? { added_tlvs: m.tlvs.map(buildTlv) } : {}) },
    transport_socket: { name: 'envoy.transport_sockets.raw_buffer', typed_config: typed(RAW_BUFFER_TYPE, {}) },
  };
  return { name: 'envoy.transport_sockets.upstream_proxy_protocol', typed_config: typed(UPSTREAM_PROXY_PROTOCOL_TYPE, transport) };
}

/**
 * The chain's filter that stores the client's values for the TLVs; undefined when the
 * TLVs need none. The SNI is stored on the new connection; certificate values once the
 * handshake is done, which is why tcp_proxy then waits for it (buildTcpProxy).
 */
export function buildTlvFilterState(m: ListenerModel): Filter | undefined {
  const sources = m.tlvSources ?? [];
  if (sources.length === 0) return undefined;
  const value = (source: DownstreamTlvSource): FilterStateValue => ({
    object_key: tlvFilterStateKey(source),
    factory_key: 'envoy.string',
    format_string: { text_format_source: { inline_string: `%${source}%` } },
    shared_with_upstream: 'ONCE',
    skip_if_empty: true,
    read_only: true,
  });
  const early = sources.filter((s) => !needsHandshake(s));
  const late = m.tls ? sources.filter(needsHandshake) : [];
  const config: SetFilterState = {
    ...(early.length > 0 ? { on_new_connection: early.map(value) } : {}),
    ...(late.length > 0 ? { on_downstream_tls_handshake: late.map(value) } : {}),
  };
  return { name: 'envoy.filters.network.set_filter_state', typed_config: typed(SET_FILTER_STATE_TYPE, config) };
}
