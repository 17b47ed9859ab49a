// The `mqttFilter:` section of the policy: the MQTT Wasm filter (wasm/mqtt-filter) in front
// of tcp_proxy, its settings sent over ECDS. docs/mqtt-filter.md and docs/policy.md.
import { isMap } from 'yaml';
import { keyName } from '../util/yaml-doc';
import { childPath, flag, listOf, name, numberIn, oneOf, partial, report, section, type Fields, type Reader } from './policy-schema';

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
  /**
   * Sticky placement in metrics mode: every serving broker's weighted share is at least this
   * times its share of the connections held (0: no floor), so Envoy's bounded load (a cap of
   * 1.25 × the weighted share) does not push away ids a broker already holds; below 0.8 it
   * cannot. A broker cut for overload or pinned has none
   * (docs/mqtt-filter.md#weights-floored-at-the-connections-held).
   */
  readonly stickyHeldFloor: number;
  // PUBLISH inspection (docs/mqtt-filter.md#publish-inspection); the two below apply only with it on.
  /** Follow the client's packets after the CONNECT; off: the filter does nothing once the CONNECT has passed. */
  readonly inspectPublish: boolean;
  /** Largest PUBLISH payload (remaining length − variable header), in bytes; 0: no limit. A larger one closes the connection. */
  readonly maxPublishPayloadBytes: number;
  /** One allowed prefix: the one-entry form of topicPrefixes; empty: none. Not both in one section. */
  readonly topicPrefix: string;
  /**
   * Every PUBLISH topic and every SUBSCRIBE topic filter must start with one of these; empty
   * (and no topicPrefix): any topic. Another closes the connection.
   */
  readonly topicPrefixes: readonly string[];
}

export const DEFAULT_MQTT_FILTER: MqttFilterPolicy = {
  enabled: false,
  maxConnectBytes: 16_384,
  maxClientIdBytes: 256,
  firstPacketTimeoutMs: 10_000,
  placement: 'weighted',
  stickyWeightBand: 0.2,
  stickyHeldFloor: 0.9,
  inspectPublish: false,
  maxPublishPayloadBytes: 0,
  topicPrefix: '',
  topicPrefixes: [],
};

/** MQTT's largest remaining length: no payload is larger. */
export const MAX_PUBLISH_PAYLOAD_BYTES = 268_435_455;

/** The filter's own bound (wasm/mqtt-filter/assembly/filter/inspection-config.ts is 1024 UTF-8 bytes; 256 characters stay under it). */
const TOPIC_PREFIX = name(/^[^+#\0]{0,256}$/u, 'a topic prefix: at most 256 characters, without +, # or NUL');

/** The filter's bounds on topicPrefixes (MAX_PREFIXES, MAX_PREFIX_BYTES in inspection-config.ts). */
export const MAX_TOPIC_PREFIXES = 32;
export const MAX_TOPIC_PREFIX_BYTES = 1024;

const PREFIX_ENTRY = name(/^[^+#\0]+$/u, 'a topic prefix: not empty, without +, # or NUL');

/** One entry of topicPrefixes: as TOPIC_PREFIX, not empty, bounded in UTF-8 bytes (the filter's unit). */
const TOPIC_PREFIX_ENTRY: Reader<string> = (node, path, at, ctx) => {
  const v = PREFIX_ENTRY(node, path, at, ctx);
  if (v === undefined) return undefined;
  const bytes = Buffer.byteLength(v, 'utf8');
  if (bytes > MAX_TOPIC_PREFIX_BYTES) {
    report(
      ctx,
      'POLICY_VALUE_RANGE',
      path,
      at,
      `a topic prefix is at most ${MAX_TOPIC_PREFIX_BYTES} UTF-8 bytes; "${v.slice(0, 40)}…" is ${bytes}`,
    );
    return undefined;
  }
  return v;
};

/** The prefixes a chain allows: topicPrefixes, or topicPrefix as a one-entry list; none: no check. */
export function allowedTopicPrefixes(p: Pick<MqttFilterPolicy, 'topicPrefix' | 'topicPrefixes'>): readonly string[] {
  if (p.topicPrefixes.length > 0) return p.topicPrefixes;
  return p.topicPrefix === '' ? [] : [p.topicPrefix];
}

/** A section reader that also refuses topicPrefix and topicPrefixes written side by side. */
function onePrefixForm<T extends Partial<MqttFilterPolicy>>(reader: Reader<T>): Reader<T> {
  return (node, path, at, ctx) => {
    const v = reader(node, path, at, ctx);
    if (v === undefined) return undefined;
    if ((v.topicPrefix ?? '') !== '' && (v.topicPrefixes ?? []).length > 0) {
      // Point at the list's own line.
      const pair = isMap(node) ? node.items.find((p) => keyName(p) === 'topicPrefixes') : undefined;
      report(
        ctx,
        'POLICY_TOPIC_PREFIX_TWO_FORMS',
        childPath(path, 'topicPrefixes'),
        pair?.key ?? at,
        'write topicPrefix or topicPrefixes, not both (topicPrefix is the one-entry list)',
      );
      return undefined;
    }
    return v;
  };
}

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
  stickyHeldFloor: numberIn({ min: 0, max: 1 }),
  inspectPublish: flag,
  maxPublishPayloadBytes: numberIn({ min: 0, max: MAX_PUBLISH_PAYLOAD_BYTES, integer: true }),
  topicPrefix: TOPIC_PREFIX,
  topicPrefixes: listOf(TOPIC_PREFIX_ENTRY, { min: 0, max: MAX_TOPIC_PREFIXES }),
};

export const MQTT_FILTER: Reader<MqttFilterPolicy> = onePrefixForm(section(FIELDS, DEFAULT_MQTT_FILTER));

/** A tenant's own values, over the listener's `mqttFilter:`; only the keys written. */
export const TENANT_MQTT_FILTER: Reader<Partial<MqttFilterPolicy>> = onePrefixForm(partial<Partial<MqttFilterPolicy>>(FIELDS));

/**
 * The settings in force for a tenant: its own keys over the shared section. A tenant that writes
 * either prefix key replaces the shared prefixes in both forms.
 */
export function tenantMqttFilter(shared: MqttFilterPolicy, own: Partial<MqttFilterPolicy> | undefined): MqttFilterPolicy {
  if (own === undefined) return shared;
  const ownPrefixes = own.topicPrefix !== undefined || own.topicPrefixes !== undefined;
  return { ...shared, ...(ownPrefixes ? { topicPrefix: '', topicPrefixes: [] } : {}), ...own };
}
