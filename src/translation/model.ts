import type { WeightPlan } from '../domain';

/** A token bucket for new connections: `perSec` added each second, at most `burst` saved up. */
export interface ConnectRateModel {
  readonly perSec: number;
  readonly burst: number;
}

/**
 * Listener settings. Name, address and port change almost never, and a change drains the
 * listener. The rest reach Envoy as the listener's filter configs over ECDS, so they
 * change without touching the Listener, and apply to new connections only.
 */
export interface ListenerModel {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  /** The longest MQTT keep-alive the deployment supports; the idle timeout is 1.5× this. */
  readonly maxKeepAliveSec: number;
  readonly clusterName: string;
  /** New connections beyond this rate are closed at once; absent: no limit. */
  readonly connectRate?: ConnectRateModel;
  /** Envoy closes a client connection this old, so the client reconnects elsewhere; absent: never. */
  readonly maxConnectionDurationMs?: number;
  /** TLS termination with the certificate sent over SDS under `secretName`; absent: plaintext MQTT. */
  readonly tls?: ListenerTlsModel;
  /**
   * Values of the client connection the cluster's PROXY TLVs carry: copied into filter
   * state that the upstream connection shares (set_filter_state); absent or empty: none.
   */
  readonly tlvSources?: readonly DownstreamTlvSource[];
  /**
   * Open connections per Envoy beyond which new ones are closed (Envoy's connection_limit).
   * Tenant chains only: they carry the filter always, off while this is absent, so setting
   * a limit later is an ECDS update and never a drain.
   */
  readonly maxConnections?: number;
  /** The MQTT Wasm filter in front of tcp_proxy, its settings over ECDS; absent: no filter. */
  readonly mqttFilter?: MqttFilterModel;
}

/**
 * The MQTT Wasm filter (wasm/mqtt-filter) and its settings. The module travels inline in
 * the filter's ECDS config, so Envoy needs no file; validation refuses a set without it.
 */
export interface MqttFilterModel {
  readonly maxConnectBytes: number;
  readonly maxClientIdBytes: number;
  readonly firstPacketTimeoutMs: number;
  /** sticky: the filter sets the client id as the connection's hash key, and tcp_proxy hashes it. */
  readonly placement: 'weighted' | 'sticky';
  /** PUBLISH inspection: off, or its payload limit (0: none) and allowed topic prefixes (none: any topic; SUBSCRIBE filters too). */
  readonly inspectPublish: boolean;
  readonly maxPublishPayloadBytes: number;
  readonly topicPrefixes: readonly string[];
  /** A tenant chain's filter labels its counters with the tenant; absent on the default chain. */
  readonly tenant?: string;
  /** Sticky placement: moved ids and their salts, "<id hash>:<salt>,…" (translation/sticky-salts.ts); absent: none. */
  readonly saltedIds?: string;
  /** The compiled module, base64; absent: it could not be read (logged), and validateResources refuses the set. */
  readonly module?: { readonly base64: string; readonly sha256: string };
}

/**
 * An SNI tenant: a filter chain of its own on the MQTT listener, matched by server name,
 * with its own certificate, filters (named after it, over ECDS) and broker cluster.
 */
export interface TenantModel {
  readonly name: string;
  readonly serverNames: readonly string[];
  /** The chain's settings: name `<listener>.tenant.<tenant>`, the tenant's TLS, limits and cluster. */
  readonly listener: ListenerModel & { readonly tls: ListenerTlsModel };
  readonly cluster: ClusterModel;
  /** The weight plan's endpoints in the tenant's pool, with their weights. */
  readonly plan: WeightPlan;
}

/**
 * The listener names its certificate only: the certificate itself is a Secret resource, so
 * a rotation changes that resource and never the Listener (no drain).
 */
export interface ListenerTlsModel {
  readonly secretName: string;
  readonly minVersion: 'TLSv1_2' | 'TLSv1_3';
  /** mTLS: every client must present a certificate the CA in this Secret signed. */
  readonly clientCaSecretName?: string;
}

/** A certificate and its key, as PEM, served over SDS; or, for mTLS, a CA bundle alone. */
export type CertificateModel =
  | {
      readonly name: string;
      /** Leaf first, then intermediates. */
      readonly certificateChain: string;
      readonly privateKey: string;
    }
  | {
      readonly name: string;
      readonly trustedCa: string;
      /** A client certificate must carry one of these; absent or empty: any the CA signed. */
      readonly subjectAltNames?: readonly SanMatch[];
    };

export interface SanMatch {
  readonly type: 'DNS' | 'URI' | 'EMAIL' | 'IP_ADDRESS';
  readonly value: string;
  /** true: the SAN starts with value; false: equals it. */
  readonly prefix: boolean;
}

export interface HealthCheckModel {
  /** mqtt (default): an MQTT CONNECT must get a CONNACK; tcp: the port must accept (a WebSocket port). */
  readonly kind?: 'mqtt' | 'tcp';
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly unhealthyThreshold: number;
  readonly healthyThreshold: number;
}

/** Values of the client's connection a TLV can carry (src/config/proxy-protocol.ts names them after Envoy's operators). */
export type DownstreamTlvSource =
  | 'REQUESTED_SERVER_NAME'
  | 'DOWNSTREAM_PEER_SUBJECT'
  | 'DOWNSTREAM_PEER_URI_SAN'
  | 'DOWNSTREAM_PEER_DNS_SAN'
  | 'DOWNSTREAM_PEER_FINGERPRINT_256';

export type ProxyTlvModel =
  { readonly type: number; readonly value: string } | { readonly type: number; readonly source: DownstreamTlvSource };

/** The PROXY protocol header Envoy writes to each broker before the client's bytes. */
export interface ProxyProtocolModel {
  readonly version: 'V1' | 'V2';
  /** V2 only. */
  readonly tlvs: readonly ProxyTlvModel[];
}

export interface ClusterModel {
  readonly name: string;
  readonly connectTimeoutMs: number;
  readonly maxConnections: number;
  readonly perHostMaxConnections: number;
  /**
   * Connections waiting for a broker connection: those being set up, and those routed to a
   * broker at its per-host limit. Beyond it a new client is closed at once. Absent:
   * maxConnections (clients wait for a full broker rather than being refused).
   */
  readonly maxPendingConnections?: number;
  /** Envoy's common_lb_config.update_merge_window; 0 applies health and weight changes at once. */
  readonly updateMergeWindowMs: number;
  readonly healthCheck: HealthCheckModel;
  /**
   * All honour endpoint weights; LEAST_REQUEST also looks at this Envoy's active connections.
   * MAGLEV: sticky placement, the client id (set by the MQTT filter) as the hash key.
   */
  readonly lbPolicy: 'ROUND_ROBIN' | 'LEAST_REQUEST' | 'MAGLEV';
  /** Absent: no PROXY header. */
  readonly proxyProtocol?: ProxyProtocolModel;
}

/** Everything translation needs for one proxy configuration. */
export interface ProxyModel {
  readonly listener: ListenerModel;
  readonly cluster: ClusterModel;
  readonly plan: WeightPlan;
  /** The certificates the listeners name; empty without TLS. */
  readonly certificates?: readonly CertificateModel[];
  /** SNI tenants, in name order; absent or empty: none. */
  readonly tenants?: readonly TenantModel[];
  /** With tenants: false leaves out the default chain, so a client naming no tenant is closed. */
  readonly defaultChain?: boolean;
  /**
   * MQTT over WebSockets: its own listener and cluster, the same brokers on their websocket
   * ports, and the same SNI tenants (chains named `<ws listener>.tenant.<tenant>`, clusters
   * whose plans are sent to the brokers' websocket ports); `defaultChain` holds for it too.
   */
  readonly websocket?: {
    readonly listener: ListenerModel;
    readonly cluster: ClusterModel;
    /** Its own weights; absent: `plan`'s (which a sticky MQTT cluster may hold, publishing/model.ts). */
    readonly plan?: WeightPlan;
    readonly tenants?: readonly TenantModel[];
  };
}
