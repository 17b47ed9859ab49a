// The shape of a loaded configuration: every setting of the process, with its unit in the
// name. The table in settings.ts fills it; SettingKey ties each row to one leaf.
import type { LogLevel } from '../util/log';

export type { LogLevel };

export interface Config {
  readonly logLevel: LogLevel;
  readonly xds: {
    readonly host: string;
    readonly port: number;
    readonly maxRequestBytes: number;
    /** 'loopback-only': plaintext xDS only on a loopback host; 'allow': plaintext anywhere (chosen explicitly). */
    readonly plaintext: 'loopback-only' | 'allow';
    readonly tls: {
      /** PEM server certificate chain; with keyFile, xDS is served over TLS. */
      readonly certFile: string;
      readonly keyFile: string;
      /** PEM CA bundle: Envoys must present a certificate it signed (mTLS). */
      readonly clientCaFile: string;
      /** With mTLS: the node claim a client certificate's SAN must name. */
      readonly nodeIdentity: 'off' | 'node-id' | 'node-cluster';
    };
  };
  readonly admin: {
    readonly host: string;
    readonly port: number;
    /** File holding the bearer token that drain requests (POST/DELETE /drain/...) need; '' = none. */
    readonly tokenFile: string;
    /** Who reads the views: `token` = a peer off this machine needs the token; `open` = anyone (admin-api.md). */
    readonly viewAccess: 'token' | 'open';
    /** The status page's live feed, GET /ui/events (docs/status-page.md). */
    readonly ui: {
      /** Concurrent feed clients; the next one gets 503. */
      readonly maxClients: number;
      /** How often the view is sampled; a change is pushed at most this often. */
      readonly intervalMs: number;
      /** Each feed connection is closed after this long; the browser reconnects. */
      readonly maxLifetimeMs: number;
    };
  };
  readonly agent: {
    /** File holding the bearer token for the brokers' agents (docs/agent-api.md); '' = none. */
    readonly tokenFile: string;
    /** HTTPS to the agents (and to https metrics URLs); every file '' = the system CAs, no client certificate. */
    readonly tls: {
      /** PEM CA bundle the agents' certificates must chain to; '' = the system CAs. */
      readonly caFile: string;
      /** PEM client certificate and key presented to agents that require mTLS; both or neither. */
      readonly certFile: string;
      readonly keyFile: string;
      /** The name every agent certificate must carry, instead of the URL's host; '' = the URL's host. */
      readonly serverName: string;
    };
  };
  /** How often the rebalancer plans and moves clients, in milliseconds. */
  readonly rebalanceTickMs: number;
  readonly discovery: {
    readonly source: 'file' | 'kubernetes';
    readonly brokersFile: string;
    readonly brokersFileSettleMs: number;
    readonly kubernetes: {
      /** '' = in-cluster service account, else $KUBECONFIG or ~/.kube/config. */
      readonly kubeconfig: string;
      readonly namespace: string;
      /** The Service whose EndpointSlices list the brokers ('' when labelSelector is used). */
      readonly service: string;
      /** Selects EndpointSlices directly, instead of by service. */
      readonly labelSelector: string;
      /** Port name (e.g. mqtt) or number of the MQTT port in the slices. */
      readonly mqttPort: string;
      /** Port name or number of the Prometheus metrics port; '' for none. */
      readonly metricsPort: string;
      readonly metricsPath: string;
      /** Port name or number of the broker agent (docs/agent-api.md); '' for none. */
      readonly agentPort: string;
      readonly websocketPort: string;
      /** Pod annotation that drains a broker when "true"; '' watches no pods. */
      readonly drainAnnotation: string;
      /** Narrows that pod watch; '' watches every pod of the namespace. */
      readonly podLabelSelector: string;
      /** ConfigMap in the broker namespace where admin-API drains are recorded for every replica; '' keeps each on the replica that took it. */
      readonly drainsConfigMap: string;
    };
  };
  readonly listener: {
    readonly name: string;
    readonly address: string;
    readonly port: number;
    readonly maxKeepAliveSec: number;
    /** A second listener for MQTT over WebSockets, to each broker's websocketPort; 0 = none. */
    readonly websocketPort: number;
    /** The compiled MQTT Wasm filter mqtt-xds sends inline over ECDS; '' = the one scripts/setup builds. */
    readonly mqttFilter: { readonly wasmFile: string };
    /** TLS termination in Envoy, the certificate sent over SDS; certFile and secret '' = plaintext MQTT. */
    readonly tls: {
      readonly certFile: string;
      readonly keyFile: string;
      /** mTLS: clients must present a certificate this CA bundle signed; '' = no client certificates. */
      readonly clientCaFile: string;
      /** The listener's and every tenant's chain must verify against this bundle before it is served; '' = not checked. */
      readonly issuerCaFile: string;
      /** With clientCaFile: `TYPE:value` entries (a trailing * = prefix); a client certificate must carry one. '' = any. */
      readonly clientSubjectAltNames: string;
      /** `[namespace/]name` of a kubernetes.io/tls Secret, instead of certFile/keyFile; '' = none. */
      readonly secret: string;
      /** With secret: `[namespace/]name` of a Secret whose ca.crt is the client CA (mTLS); '' = none. */
      readonly clientCaSecret: string;
      readonly minVersion: '1.2' | '1.3';
    };
  };
  readonly cluster: {
    readonly name: string;
    readonly connectTimeoutMs: number;
    readonly maxConnections: number;
    readonly perHostMaxConnections: number;
    /** How long Envoy may hold health-check and weight changes to apply them in one go; 0 = at once. */
    readonly updateMergeWindowMs: number;
    readonly healthCheck: {
      readonly intervalMs: number;
      readonly timeoutMs: number;
      readonly unhealthyThreshold: number;
      readonly healthyThreshold: number;
    };
    /** The PROXY protocol header Envoy sends each broker first (docs/proxy-protocol.md). */
    readonly proxyProtocol: {
      readonly version: 'off' | 'v1' | 'v2';
      /** v2 only: `TYPE=VALUE` entries, comma-separated (proxy-protocol.ts); '' = none. */
      readonly tlvs: string;
    };
  };
  readonly balancing: {
    /** `metrics`: weights from scraped broker load and the policy; `static`: weights from discovery only. */
    readonly mode: 'metrics' | 'static';
    /** The operator policy (YAML); '' means the built-in defaults. */
    readonly policyFile: string;
    /** `[namespace/]name` of a ConfigMap holding the policy instead; '' for none. */
    readonly policyConfigMap: string;
    readonly policyConfigMapKey: string;
    /** Envoy's load-balancing policy for the broker cluster; weights apply to both. */
    readonly lbPolicy: 'ROUND_ROBIN' | 'LEAST_REQUEST';
    /** At most one metrics-driven weight push per this interval; cuts and membership changes go at once. */
    readonly minPushIntervalMs: number;
  };
  readonly scrape: {
    readonly intervalMs: number;
    /** The interval after a round whose results left a decision waiting for the next scrape; 0: off. */
    readonly quickIntervalMs: number;
    readonly timeoutMs: number;
    readonly concurrency: number;
  };
  readonly envoyView: {
    /** How often each Envoy reports its connections per broker over LRS (docs/envoy-view.md). */
    readonly reportIntervalMs: number;
  };
  readonly leaderElection: {
    /** Lease name; '' turns leader election off (this replica then never leads). */
    readonly leaseName: string;
    /** '' = the broker namespace (discovery.kubernetes.namespace). */
    readonly namespace: string;
    /** '' = the host name, which is the pod name in Kubernetes. */
    readonly identity: string;
    readonly leaseDurationMs: number;
    readonly renewIntervalMs: number;
  };
  readonly pushDebounceMs: number;
  readonly shutdownGraceMs: number;
}

export type DeepPartial<T> = { -readonly [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

/** Dotted paths of the leaves of Config (`cluster.healthCheck.intervalMs`). */
type LeafKey<T> = {
  [K in keyof T & string]: T[K] extends object ? `${K}.${LeafKey<T[K]>}` : K;
}[keyof T & string];
export type SettingKey = LeafKey<Config>;
