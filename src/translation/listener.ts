import type { Listener } from '../generated/envoy/config/listener/v3/Listener';
import type { TcpProxy } from '../generated/envoy/extensions/filters/network/tcp_proxy/v3/TcpProxy';
import type { ListenerModel } from './model';
import { durationMs, typed } from './any';

/** Envoy closes a TCP proxy connection idle this long; 1.5× keep-alive leaves room for one lost PINGREQ. */
export function idleTimeoutMs(maxKeepAliveSec: number): number {
  return Math.ceil(maxKeepAliveSec * 1.5) * 1000;
}

export function buildTcpProxy(m: ListenerModel): TcpProxy {
  return {
    stat_prefix: 'mqtt',
    cluster: m.clusterName,
    idle_timeout: durationMs(idleTimeoutMs(m.maxKeepAliveSec)),
  };
}

/**
 * The MQTT listener. It depends only on listener settings, never on brokers or weights:
 * any change inside a filter chain drains every connection on it, so membership and
 * weight changes must leave these bytes identical.
 */
export function buildListener(m: ListenerModel): Listener {
  return {
    name: m.name,
    address: { socket_address: { address: m.address, port_value: m.port, protocol: 'TCP' } },
    filter_chains: [
      {
        filters: [
          {
            name: 'envoy.filters.network.tcp_proxy',
            typed_config: typed('envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy', buildTcpProxy(m)),
          },
        ],
      },
    ],
    // Envoy's default buffer is 1 MiB per connection; with 100k mostly idle MQTT clients
    // that is memory nobody needs, and flow control still carries larger messages.
    per_connection_buffer_limit_bytes: { value: 32768 },
  };
}
