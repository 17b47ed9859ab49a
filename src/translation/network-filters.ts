import type { TypedExtensionConfig } from '../generated/envoy/config/core/v3/TypedExtensionConfig';
import type { ConnectionLimit } from '../generated/envoy/extensions/filters/network/connection_limit/v3/ConnectionLimit';
import type { LocalRateLimit } from '../generated/envoy/extensions/filters/network/local_ratelimit/v3/LocalRateLimit';
import type { TcpProxy } from '../generated/envoy/extensions/filters/network/tcp_proxy/v3/TcpProxy';
import type { TokenBucket } from '../generated/envoy/type/v3/TokenBucket';
import type { ConnectRateModel, ListenerModel } from './model';
import { durationMs, typed } from './any';
import { needsHandshake } from './proxy-protocol';
import { buildMqttFilter, mqttFilterName, WASM_TYPE } from './mqtt-filter';

/**
 * While tcp_proxy waits for the client's TLS handshake before connecting to a broker, it
 * holds at most this much of the client's first bytes (the CONNECT); a quarter of the
 * listener's per-connection buffer.
 */
export const EARLY_DATA_BYTES = 8192;

// The MQTT listener's network filters, served over ECDS (TypedExtensionConfig resources).
// The Listener only names them, so changing a rate, a duration or a timeout never changes
// the Listener: no drain, and established connections keep the filters they started with.

export const LOCAL_RATE_LIMIT_TYPE = 'envoy.extensions.filters.network.local_ratelimit.v3.LocalRateLimit';
export const TCP_PROXY_TYPE = 'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';
export const CONNECTION_LIMIT_TYPE = 'envoy.extensions.filters.network.connection_limit.v3.ConnectionLimit';

/** ECDS resource names; Envoy's stats use them too (extension_config_discovery.network_filter.<name>.*). */
export const connectRateLimitName = (m: Pick<ListenerModel, 'name'>): string => `${m.name}.connect_rate_limit`;
export const tcpProxyName = (m: Pick<ListenerModel, 'name'>): string => `${m.name}.tcp_proxy`;
export const connectionLimitName = (m: Pick<ListenerModel, 'name'>): string => `${m.name}.connection_limit`;

/** Runtime key that switches a tenant's connection limit on or off in a running Envoy. */
export const connectionLimitRuntimeKey = (m: Pick<ListenerModel, 'name'>): string => `mqtt_xds.${m.name}.connection_limit_enabled`;

/** Runtime key that switches the connection-rate limit on or off in a running Envoy (admin /runtime_modify). */
export const connectRateRuntimeKey = (m: Pick<ListenerModel, 'name'>): string => `mqtt_xds.${m.name}.connect_rate_limit_enabled`;

/** Envoy closes a TCP proxy connection idle this long; 1.5× keep-alive leaves room for one lost PINGREQ. */
export function idleTimeoutMs(maxKeepAliveSec: number): number {
  return Math.ceil(maxKeepAliveSec * 1.5) * 1000;
}

/**
 * How long tcp_proxy waits before it opens the broker connection. With the MQTT filter:
 * until data passes it, that is, after a valid CONNECT, so a refused peer costs the broker
 * nothing; the CONNECT (and what was pipelined after it) is held meanwhile. Else until the
 * TLS handshake when a TLV needs the client certificate.
 */
function upstreamConnect(m: ListenerModel): Pick<TcpProxy, 'upstream_connect_mode' | 'max_early_data_bytes'> {
  if (m.mqttFilter) {
    return {
      upstream_connect_mode: 'ON_DOWNSTREAM_DATA',
      max_early_data_bytes: { value: Math.max(EARLY_DATA_BYTES, m.mqttFilter.maxConnectBytes) },
    };
  }
  // A TLV from the client certificate is known only after the handshake, and the
  // upstream connection copies the filter state when it is created.
  if (m.tls && (m.tlvSources ?? []).some(needsHandshake)) {
    return { upstream_connect_mode: 'ON_DOWNSTREAM_TLS_HANDSHAKE', max_early_data_bytes: { value: EARLY_DATA_BYTES } };
  }
  return {};
}

/**
 * The filter-state object the MQTT filter creates with the client id in sticky placement
 * (wasm/mqtt-filter/assembly/filter/placement.ts): set_envoy_filter_state names objects after
 * their factory, and this factory's strings are Hashable, which tcp_proxy's hash needs.
 */
export const STICKY_HASH_KEY = 'envoy.hashable_string';

export function buildTcpProxy(m: ListenerModel): TcpProxy {
  return {
    stat_prefix: m.name,
    cluster: m.clusterName,
    // Without the object (an empty client id) tcp_proxy gives Maglev no hash, and it picks at random by weight.
    ...(m.mqttFilter?.placement === 'sticky' ? { hash_policy: [{ filter_state: { key: STICKY_HASH_KEY } }] } : {}),
    idle_timeout: durationMs(idleTimeoutMs(m.maxKeepAliveSec)),
    ...(m.maxConnectionDurationMs === undefined ? {} : { max_downstream_connection_duration: durationMs(m.maxConnectionDurationMs) }),
    ...upstreamConnect(m),
  };
}

// Envoy refuses fill intervals under 50 ms; shorter intervals spread the tokens more evenly.
const FILL_INTERVALS_MS = [50, 100, 200, 250, 500] as const;
const UINT32_MAX = 0xffff_ffff;

/**
 * perSec as tokens per fill interval: the shortest interval that gives a whole number of
 * tokens not above the burst, else whole seconds. Never more tokens than perSec per second.
 */
export function tokenBucket(rate: ConnectRateModel): TokenBucket {
  for (const ms of FILL_INTERVALS_MS) {
    const tokens = (rate.perSec * ms) / 1000;
    if (Number.isInteger(tokens) && tokens >= 1 && tokens <= rate.burst) {
      return { max_tokens: rate.burst, tokens_per_fill: { value: tokens }, fill_interval: durationMs(ms) };
    }
  }
  return { max_tokens: rate.burst, tokens_per_fill: { value: rate.perSec }, fill_interval: durationMs(1000) };
}

/**
 * Token bucket over new connections: a connection without a token is closed at once,
 * before tcp_proxy picks a broker (stat local_rate_limit.<listener>.rate_limited). Without a
 * rate the filter stays in the chain, switched off through its runtime flag with a
 * bucket that never empties, so turning it on later is an ECDS update, not a drain.
 */
export function buildConnectRateLimit(m: ListenerModel): LocalRateLimit {
  const rate = m.connectRate;
  return {
    stat_prefix: m.name,
    token_bucket: rate
      ? tokenBucket(rate)
      : { max_tokens: UINT32_MAX, tokens_per_fill: { value: UINT32_MAX }, fill_interval: durationMs(FILL_INTERVALS_MS[0]) },
    runtime_enabled: { default_value: { value: rate !== undefined }, runtime_key: connectRateRuntimeKey(m) },
  };
}

/**
 * At most maxConnections open on this chain per Envoy; a connection past it is closed at
 * once (stat connection_limit.<chain>.limited_connections). Without a limit the filter is
 * switched off by its runtime flag, so adding one later changes no filter chain.
 */
export function buildConnectionLimit(m: ListenerModel): ConnectionLimit {
  return {
    stat_prefix: m.name,
    max_connections: { value: m.maxConnections ?? UINT32_MAX },
    runtime_enabled: { default_value: { value: m.maxConnections !== undefined }, runtime_key: connectionLimitRuntimeKey(m) },
  };
}

/** A tenant chain's filter configs: its connection limit, then the listener's two. */
export function buildTenantFilterConfigs(m: ListenerModel): TypedExtensionConfig[] {
  return [
    { name: connectionLimitName(m), typed_config: typed(CONNECTION_LIMIT_TYPE, buildConnectionLimit(m)) },
    ...buildListenerFilterConfigs(m),
  ];
}

/**
 * The filter configs the listener names, in chain order: the rate limit must see a
 * connection before tcp_proxy does, and the MQTT filter (if on) between them reads only
 * connections the limit let in.
 */
export function buildListenerFilterConfigs(m: ListenerModel): TypedExtensionConfig[] {
  const f = m.mqttFilter;
  return [
    { name: connectRateLimitName(m), typed_config: typed(LOCAL_RATE_LIMIT_TYPE, buildConnectRateLimit(m)) },
    ...(f ? [{ name: mqttFilterName(m), typed_config: typed(WASM_TYPE, buildMqttFilter({ ...m, mqttFilter: f })) }] : []),
    { name: tcpProxyName(m), typed_config: typed(TCP_PROXY_TYPE, buildTcpProxy(m)) },
  ];
}
