// bench:filter's diagnostic variants: Envoy from a static bootstrap, no control plane, so the
// filter's cost can be told apart from tcp_proxy's upstream_connect_mode, which mqtt-xds
// switches to ON_DOWNSTREAM_DATA together with the filter. Not the product path (that is
// mqtt-xds over ECDS); the listener carries no rate limit, buffer limit or idle timeout.
import path from 'node:path';
import { REPO_ROOT } from '../../../src/util/repo-root';
import { startStaticEnvoy, type StaticEnvoy } from '../../support/envoy-static';
import type { StaticKind } from './variants';

const LISTENER = 'mqtt';
const EARLY_DATA_BYTES = 16_384;

/** `moduleFile`: the Wasm module to load; default .local/wasm's filter (or no-op module). */
export function staticBootstrap(kind: StaticKind, brokerPorts: readonly number[], moduleFile?: string): Record<string, unknown> {
  const file = moduleFile ?? path.join(REPO_ROOT, '.local', 'wasm', kind === 'noop' ? 'noop-filter.wasm' : 'mqtt-filter.wasm');
  const filter = {
    name: 'envoy.filters.network.wasm',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm',
      config: {
        name: 'mqtt_filter',
        root_id: 'mqtt_filter',
        configuration: {
          '@type': 'type.googleapis.com/google.protobuf.StringValue',
          value: JSON.stringify({
            maxConnectBytes: EARLY_DATA_BYTES,
            firstPacketTimeoutMs: 10_000,
            ...(kind === 'inspect' ? { inspectPublish: true } : {}),
          }),
        },
        vm_config: {
          runtime: 'envoy.wasm.runtime.v8',
          code: { local: { filename: file } },
        },
      },
    },
  };
  const tcpProxy = {
    name: 'envoy.filters.network.tcp_proxy',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
      stat_prefix: LISTENER,
      cluster: 'brokers',
      ...(kind === 'immediate' ? {} : { upstream_connect_mode: 'ON_DOWNSTREAM_DATA', max_early_data_bytes: EARLY_DATA_BYTES }),
    },
  };
  return {
    static_resources: {
      listeners: [
        {
          name: LISTENER,
          address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
          filter_chains: [{ filters: kind === 'immediate' || kind === 'early-data' ? [tcpProxy] : [filter, tcpProxy] }],
        },
      ],
      clusters: [
        {
          name: 'brokers',
          type: 'STATIC',
          connect_timeout: '2s',
          load_assignment: {
            cluster_name: 'brokers',
            endpoints: [
              {
                lb_endpoints: brokerPorts.map((port) => ({
                  endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } },
                })),
              },
            ],
          },
        },
      ],
    },
  };
}

export async function startStatic(
  kind: StaticKind,
  brokerPorts: readonly number[],
  moduleFile?: string,
): Promise<{ envoy: StaticEnvoy; port: number }> {
  const envoy = await startStaticEnvoy(staticBootstrap(kind, brokerPorts, moduleFile));
  return { envoy, port: await envoy.listenerPort(LISTENER) };
}
