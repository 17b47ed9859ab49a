// Envoy bootstraps that put the MQTT Wasm filter (wasm/mqtt-filter, docs/mqtt-filter.md) in
// front of a broker, for the integration tests; mqtt-xds will send the same filter over ECDS.
import fs from 'node:fs';
import YAML from 'yaml';
import { bootstrapPath } from './envoy-bootstrap';
import { filterWasmPath } from './wasm-modules';

// The wheel's Envoy registers only the V8 and null runtimes (measured: wasmtime and WAMR answer
// "Envoy was compiled without support for it"); docs/mqtt-filter.md.
const RUNTIME = 'envoy.wasm.runtime.v8';

export interface MqttFilterBootstrapOptions {
  /** The listener's name (it binds 127.0.0.1, a port Envoy picks: StaticEnvoy.listenerPort). */
  listener: string;
  /** The one broker, on 127.0.0.1, that tcp_proxy sends accepted connections to (cluster "broker"). */
  brokerPort: number;
  /** The filter's plugin configuration (docs/mqtt-filter.md). */
  filterConfig: Record<string, number | string | boolean>;
}

/** The stats_config of the checked-in bootstrap: the tests read the counters' labels through the shipped tag regexes. */
export function shippedStatsConfig(): Record<string, unknown> {
  const doc = YAML.parse(fs.readFileSync(bootstrapPath('sotw'), 'utf8'));
  if (!doc?.stats_config) throw new Error(`${bootstrapPath('sotw')}: no stats_config`);
  return doc.stats_config;
}

/** A static bootstrap: one listener with the MQTT Wasm filter, then tcp_proxy to one broker. */
export function mqttFilterBootstrap(o: MqttFilterBootstrapOptions): Record<string, unknown> {
  return {
    // The counters' dotted tags become Prometheus labels.
    stats_config: shippedStatsConfig(),
    static_resources: {
      listeners: [
        {
          name: o.listener,
          address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
          filter_chains: [
            {
              filters: [
                {
                  name: 'envoy.filters.network.wasm',
                  typed_config: {
                    '@type': 'type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm',
                    config: {
                      name: 'mqtt_filter',
                      root_id: 'mqtt_filter',
                      configuration: { '@type': 'type.googleapis.com/google.protobuf.StringValue', value: JSON.stringify(o.filterConfig) },
                      vm_config: { runtime: RUNTIME, code: { local: { filename: filterWasmPath() } } },
                    },
                  },
                },
                {
                  name: 'envoy.filters.network.tcp_proxy',
                  typed_config: {
                    '@type': 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
                    stat_prefix: o.listener,
                    cluster: 'broker',
                    // Envoy 1.40: no upstream connection until data passes the filter, so a refused
                    // peer never costs the broker a connection (and placement can read the CONNECT).
                    upstream_connect_mode: 'ON_DOWNSTREAM_DATA',
                    max_early_data_bytes: 4096,
                  },
                },
              ],
            },
          ],
        },
      ],
      clusters: [
        {
          name: 'broker',
          type: 'STATIC',
          connect_timeout: '2s',
          load_assignment: {
            cluster_name: 'broker',
            endpoints: [
              { lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: o.brokerPort } } } }] },
            ],
          },
        },
      ],
    },
  };
}
