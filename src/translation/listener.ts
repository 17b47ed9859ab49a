import type { Filter } from '../generated/envoy/config/listener/v3/Filter';
import type { Listener } from '../generated/envoy/config/listener/v3/Listener';
import type { ListenerModel } from './model';
import { connectRateLimitName, LOCAL_RATE_LIMIT_TYPE, TCP_PROXY_TYPE, tcpProxyName } from './network-filters';
import { durationMs, TYPE_PREFIX } from './any';

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
 * The MQTT listener. It depends only on name, address and port, never on brokers, weights
 * or limits: any change inside a filter chain drains every connection on it, closing them
 * after Envoy's drain time. The filters' settings come over ECDS instead
 * (network-filters.ts), so changing them leaves these bytes identical.
 */
export function buildListener(m: ListenerModel): Listener {
  return {
    name: m.name,
    address: { socket_address: { address: m.address, port_value: m.port, protocol: 'TCP' } },
    // listener.<name>.* instead of listener.<address>_<port>.*: stable across address changes.
    stat_prefix: m.name,
    filter_chains: [
      {
        filters: [discoveredFilter(connectRateLimitName(m), LOCAL_RATE_LIMIT_TYPE), discoveredFilter(tcpProxyName(m), TCP_PROXY_TYPE)],
      },
    ],
    // Envoy's default buffer is 1 MiB per connection; with 100k mostly idle MQTT clients
    // that is memory nobody needs, and flow control still carries larger messages.
    per_connection_buffer_limit_bytes: { value: 32768 },
  };
}
