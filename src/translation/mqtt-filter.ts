import type { Wasm } from '../generated/envoy/extensions/filters/network/wasm/v3/Wasm';
import type { ListenerModel, MqttFilterModel } from './model';
import { typed } from './any';

export const WASM_TYPE = 'envoy.extensions.filters.network.wasm.v3.Wasm';
const STRING_VALUE_TYPE = 'google.protobuf.StringValue';

/** ECDS resource name of a chain's MQTT filter (stats: extension_config_discovery.network_filter.<name>.*). */
export const mqttFilterName = (m: Pick<ListenerModel, 'name'>): string => `${m.name}.mqtt_filter`;

/**
 * The root id the module answers to and the VM id every chain shares. Envoy keys VMs by
 * id and code: all chains and every configuration run in one VM per worker, and a new
 * configuration with the same bytes creates a root context, not a VM.
 */
export const MQTT_FILTER_ROOT_ID = 'mqtt_filter';

/** The plugin configuration the module reads in proxy_on_configure (wasm/mqtt-filter/assembly/filter/config.ts). */
export function mqttFilterConfiguration(f: MqttFilterModel): string {
  return JSON.stringify({
    maxConnectBytes: f.maxConnectBytes,
    maxClientIdBytes: f.maxClientIdBytes,
    firstPacketTimeoutMs: f.firstPacketTimeoutMs,
    placement: f.placement,
    ...inspectionConfiguration(f),
    ...(f.saltedIds !== undefined && f.saltedIds !== '' ? { saltedIds: f.saltedIds } : {}),
  });
}

/** PUBLISH inspection's keys only while it is on, and the tenant label on a tenant's chain. */
function inspectionConfiguration(f: MqttFilterModel): Record<string, string | number | boolean> {
  return {
    ...(f.inspectPublish
      ? {
          inspectPublish: true,
          maxPublishPayloadBytes: f.maxPublishPayloadBytes,
          ...(f.topicPrefixes.length === 0 ? {} : { topicPrefixes: encodeTopicPrefixes(f.topicPrefixes) }),
        }
      : {}),
    ...(f.tenant === undefined ? {} : { tenant: f.tenant }),
  };
}

/**
 * The filter reads flat values only: the list is one string, entries joined by ",", a "," or
 * "\\" inside an entry escaped with "\\" (wasm/mqtt-filter/assembly/filter/inspection-config.ts).
 */
export function encodeTopicPrefixes(prefixes: readonly string[]): string {
  return prefixes.map((p) => p.replace(/[\\,]/gu, (c) => `\\${c}`)).join(',');
}

/**
 * The Wasm network filter with the module inline (local.inline_bytes). V8: the wheel's Envoy
 * has no other runtime (docs/mqtt-filter.md). fail_open false: a VM that failed closes the
 * connection rather than letting unchecked bytes through.
 */
export function buildMqttFilter(m: ListenerModel & { readonly mqttFilter: MqttFilterModel }): Wasm {
  const f = m.mqttFilter;
  return {
    config: {
      name: mqttFilterName(m),
      root_id: MQTT_FILTER_ROOT_ID,
      configuration: typed(STRING_VALUE_TYPE, { value: mqttFilterConfiguration(f) }),
      vm_config: {
        vm_id: MQTT_FILTER_ROOT_ID,
        runtime: 'envoy.wasm.runtime.v8',
        code: { local: { inline_bytes: f.module?.base64 ?? '' } },
      },
      fail_open: false,
    },
  };
}
