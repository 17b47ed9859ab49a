// The `mqttFilter:` section of the policy: the MQTT Wasm filter (wasm/mqtt-filter) in front
// of tcp_proxy, its settings sent over ECDS. docs/mqtt-filter.md and docs/policy.md.
import { flag, numberIn, oneOf, partial, section, type Fields, type Reader } from './policy-schema';

export interface MqttFilterPolicy {
  /** Reads every new connection's first packet as an MQTT CONNECT; anything else is closed. */
  readonly enabled: boolean;
  /** Largest CONNECT, fixed header included, in bytes. */
  readonly maxConnectBytes: number;
  /** Longest client id, in UTF-8 bytes. */
  readonly maxClientIdBytes: number;
  /** A connection without a complete CONNECT after this long is closed; 0: no deadline. */
  readonly firstPacketTimeoutMs: number;
  /**
   * weighted: tcp_proxy's cluster picks each connection by the weights alone. sticky: the
   * client id is the hash key of a Maglev cluster, so an id comes back to the same broker
   * while the set is stable; changing it is a Cluster update (docs/mqtt-filter.md).
   */
  readonly placement: 'weighted' | 'sticky';
}

export const DEFAULT_MQTT_FILTER: MqttFilterPolicy = {
  enabled: false,
  maxConnectBytes: 16_384,
  maxClientIdBytes: 256,
  firstPacketTimeoutMs: 10_000,
  placement: 'weighted',
};

/**
 * The filter holds a CONNECT in the connection's read buffer until it is complete, and
 * Envoy stops reading a connection whose buffer is full (the listener's
 * per_connection_buffer_limit_bytes, 32 KiB): a larger CONNECT could never complete.
 */
export const MAX_CONNECT_BYTES = 32_768;

/**
 * The most salted ids the filter reads (MAX_SALTED_IDS in wasm/mqtt-filter/assembly/filter/salts.ts):
 * about 22 bytes each in every sticky chain's ECDS config (docs/mqtt-filter.md).
 */
export const MAX_STICKY_SALTS = 10_000;

const FIELDS: Fields<MqttFilterPolicy> = {
  enabled: flag,
  // 14: the smallest CONNECT (MQTT 3.1.1, empty client id) is 14 bytes.
  maxConnectBytes: numberIn({ min: 14, max: MAX_CONNECT_BYTES, integer: true }),
  maxClientIdBytes: numberIn({ min: 1, max: 65_535, integer: true }),
  firstPacketTimeoutMs: numberIn({ min: 0, max: 3_600_000, integer: true }),
  placement: oneOf(['weighted', 'sticky'] as const),
};

export const MQTT_FILTER: Reader<MqttFilterPolicy> = section(FIELDS, DEFAULT_MQTT_FILTER);

/** A tenant's own values, over the listener's `mqttFilter:`; only the keys written. */
export const TENANT_MQTT_FILTER: Reader<Partial<MqttFilterPolicy>> = partial<Partial<MqttFilterPolicy>>(FIELDS);

/** The settings in force for a tenant: its own keys over the shared section. */
export function tenantMqttFilter(shared: MqttFilterPolicy, own: Partial<MqttFilterPolicy> | undefined): MqttFilterPolicy {
  return own === undefined ? shared : { ...shared, ...own };
}
