// The `mqttFilter:` section of the policy: the MQTT Wasm filter (wasm/mqtt-filter) in front
// of tcp_proxy, its settings sent over ECDS. docs/mqtt-filter.md and docs/policy.md.
import { flag, name, numberIn, oneOf, partial, section, type Fields, type Reader } from './policy-schema';

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
  /**
   * Sticky placement in metrics mode: the weights a sticky cluster was given are kept while
   * each broker's computed weight stays within this fraction of them (0: every change goes
   * out), because each new weight set is a new Maglev table that moves ids. Membership,
   * health and overload cuts go out at once (docs/mqtt-filter.md#weights-held-in-sticky-placement).
   */
  readonly stickyWeightBand: number;
  // PUBLISH inspection (docs/mqtt-filter.md#publish-inspection); the two below apply only with it on.
  /** Follow the client's packets after the CONNECT; off: the filter does nothing once the CONNECT has passed. */
  readonly inspectPublish: boolean;
  /** Largest PUBLISH payload (remaining length − variable header), in bytes; 0: no limit. A larger one closes the connection. */
  readonly maxPublishPayloadBytes: number;
  /** Every PUBLISH topic must start with this; empty: any topic. Another closes the connection. */
  readonly topicPrefix: string;
}

export const DEFAULT_MQTT_FILTER: MqttFilterPolicy = {
  enabled: false,
  maxConnectBytes: 16_384,
  maxClientIdBytes: 256,
  firstPacketTimeoutMs: 10_000,
  placement: 'weighted',
  stickyWeightBand: 0.2,
  inspectPublish: false,
  maxPublishPayloadBytes: 0,
  topicPrefix: '',
};

/** MQTT's largest remaining length: no payload is larger. */
export const MAX_PUBLISH_PAYLOAD_BYTES = 268_435_455;

/** The filter's own bound (wasm/mqtt-filter/assembly/filter/inspection-config.ts is 1024 UTF-8 bytes; 256 characters stay under it). */
const TOPIC_PREFIX = name(/^[^+#\0]{0,256}$/u, 'a topic prefix: at most 256 characters, without +, # or NUL');

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
  stickyWeightBand: numberIn({ min: 0, max: 0.9 }),
  inspectPublish: flag,
  maxPublishPayloadBytes: numberIn({ min: 0, max: MAX_PUBLISH_PAYLOAD_BYTES, integer: true }),
  topicPrefix: TOPIC_PREFIX,
};

export const MQTT_FILTER: Reader<MqttFilterPolicy> = section(FIELDS, DEFAULT_MQTT_FILTER);

/** A tenant's own values, over the listener's `mqttFilter:`; only the keys written. */
export const TENANT_MQTT_FILTER: Reader<Partial<MqttFilterPolicy>> = partial<Partial<MqttFilterPolicy>>(FIELDS);

/** The settings in force for a tenant: its own keys over the shared section. */
export function tenantMqttFilter(shared: MqttFilterPolicy, own: Partial<MqttFilterPolicy> | undefined): MqttFilterPolicy {
  return own === undefined ? shared : { ...shared, ...own };
}
