import { resolve } from 'node:path';
import { isIpLiteral, hostProblem } from '../util/host';
import type { LogLevel } from '../util/log';

export type { LogLevel };

/** Every setting of the process, with its unit in the name. Built from SETTINGS below. */
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
  };
  readonly cluster: {
    readonly name: string;
    readonly connectTimeoutMs: number;
    readonly maxConnections: number;
    readonly perHostMaxConnections: number;
    readonly healthCheck: {
      readonly intervalMs: number;
      readonly timeoutMs: number;
      readonly unhealthyThreshold: number;
      readonly healthyThreshold: number;
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
    readonly timeoutMs: number;
    readonly concurrency: number;
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

export type SettingType =
  | { readonly kind: 'string'; readonly pattern: RegExp; readonly allowed: string; readonly optional?: boolean }
  | { readonly kind: 'int'; readonly min: number; readonly max: number }
  | { readonly kind: 'enum'; readonly values: readonly string[] }
  /** A file path, resolved against the working directory; `optional` admits '' for "none". */
  | { readonly kind: 'path'; readonly optional?: boolean }
  /** An address a Node server binds to or connects to: IP literal or DNS name. */
  | { readonly kind: 'host' }
  /** An address Envoy binds to: Envoy does not resolve names for listeners. */
  | { readonly kind: 'ip' };

export interface Setting {
  readonly key: SettingKey;
  readonly type: SettingType;
  readonly default: string | number;
  /** `--xds-port`; also accepted as `--xds-port=VALUE`. */
  readonly flag: string;
  /** `MQTT_XDS_XDS_PORT`. */
  readonly env: string;
  /** One line, with the unit. */
  readonly help: string;
}

export const ENV_PREFIX = 'MQTT_XDS_';
export const CONFIG_FLAG = '--config';
export const CONFIG_ENV = `${ENV_PREFIX}CONFIG`;

/**
 * Environment variables under our prefix that a sub-command reads and the server does
 * not. They are declared here, with the settings, so the server never refuses one that an
 * operator exported for the CLI.
 */
export const COMMAND_ENV: Readonly<Record<string, string>> = {
  [`${ENV_PREFIX}ADMIN_URL`]: 'mqtt-xds drain: the admin URL of the control plane (default http://127.0.0.1:9090).',
};

const UINT16 = 65535;
const UINT32 = 0xffff_ffff;
const INT32 = 0x7fff_ffff;
const RESOURCE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const resourceName: SettingType = {
  kind: 'string',
  pattern: RESOURCE_NAME,
  allowed: 'a name of letters, digits, "_", "." and "-", starting with a letter or digit',
};
const int = (min: number, max: number): SettingType => ({ kind: 'int', min, max });
const k8sName = (optional: boolean): SettingType => ({
  kind: 'string',
  pattern: /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/,
  allowed: 'a Kubernetes name (lower-case letters, digits and "-", at most 63 characters)' + (optional ? ', or empty' : ''),
  optional,
});
const portRef = (optional: boolean): SettingType => ({
  kind: 'string',
  pattern: /^([a-z0-9]([-a-z0-9]{0,13}[a-z0-9])?|\d{1,5})$/,
  allowed: 'a port name (IANA_SVC_NAME) or number' + (optional ? ', or empty for none' : ''),
  optional,
});
const labelSelector: SettingType = {
  kind: 'string',
  pattern: /^[A-Za-z0-9_.\/=!,() -]+$/,
  allowed: 'a Kubernetes label selector such as app=hivemq,tier!=test, or empty',
  optional: true,
};
// Kubernetes' qualified name: an optional DNS-subdomain prefix, "/", and a name of at most 63 characters.
const annotationKey: SettingType = {
  kind: 'string',
  pattern: /^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/,
  allowed: 'an annotation key such as mqtt-xds.io/drain, or empty',
  optional: true,
};
const configMapRef: SettingType = {
  kind: 'string',
  pattern: /^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\/)?[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/,
  allowed: 'a ConfigMap as name or namespace/name, or empty',
  optional: true,
};
const configMapKey: SettingType = { kind: 'string', pattern: /^[-._a-zA-Z0-9]{1,253}$/, allowed: 'a ConfigMap key' };
const urlPath: SettingType = { kind: 'string', pattern: /^\/[!-~]*$/, allowed: 'an absolute URL path such as /metrics' };

/** The table that drives parsing, precedence, validation and --help. Order is help order. */
export const SETTINGS: readonly Setting[] = [
  setting(
    'logLevel',
    { kind: 'enum', values: ['debug', 'info', 'warn', 'error'] },
    'info',
    'Least severe log level written (JSON lines on stderr).',
  ),
  setting('xds.host', { kind: 'host' }, '127.0.0.1', 'Address the xDS gRPC server listens on.'),
  setting('xds.port', int(0, UINT16), 18000, 'TCP port of the xDS gRPC server; 0 picks a free port.'),
  setting('xds.maxRequestBytes', int(4096, INT32), 1048576, 'Largest xDS request message accepted, in bytes.'),
  setting(
    'xds.plaintext',
    { kind: 'enum', values: ['loopback-only', 'allow'] },
    'loopback-only',
    'Plaintext xDS (no xds.tls.certFile): only on a loopback xds.host, or "allow" to serve it on any address.',
  ),
  setting(
    'xds.tls.certFile',
    { kind: 'path', optional: true },
    '',
    'PEM certificate chain of the xDS server; with xds.tls.keyFile, xDS is served over TLS. Re-read while running.',
  ),
  setting('xds.tls.keyFile', { kind: 'path', optional: true }, '', 'PEM private key of xds.tls.certFile.'),
  setting(
    'xds.tls.clientCaFile',
    { kind: 'path', optional: true },
    '',
    'PEM CA bundle; when set, every Envoy must present a client certificate it signed (mTLS).',
  ),
  setting(
    'xds.tls.nodeIdentity',
    { kind: 'enum', values: ['off', 'node-id', 'node-cluster'] },
    'off',
    "With mTLS: a SAN of the Envoy's certificate must name its node id or node cluster, or the stream is refused.",
  ),
  setting('admin.host', { kind: 'host' }, '127.0.0.1', 'Address the admin HTTP server (health, metrics, status) listens on.'),
  setting('admin.port', int(0, UINT16), 9090, 'TCP port of the admin HTTP server; 0 picks a free port.'),
  setting(
    'admin.tokenFile',
    { kind: 'path', optional: true },
    '',
    'File holding the bearer token that drain requests on the admin port need; empty: no token (keep the port private).',
  ),
  setting(
    'agent.tokenFile',
    { kind: 'path', optional: true },
    '',
    "File holding the bearer token sent to the brokers' agents (docs/agent-api.md); empty sends none.",
  ),
  setting(
    'agent.tls.caFile',
    { kind: 'path', optional: true },
    '',
    'PEM CA bundle that https agent URLs and https metrics URLs must chain to; empty: the system CAs. Re-read while running.',
  ),
  setting(
    'agent.tls.certFile',
    { kind: 'path', optional: true },
    '',
    'PEM client certificate presented to agents that require mTLS; with agent.tls.keyFile.',
  ),
  setting('agent.tls.keyFile', { kind: 'path', optional: true }, '', 'PEM private key of agent.tls.certFile.'),
  setting(
    'agent.tls.serverName',
    { kind: 'string', pattern: /^[A-Za-z0-9]([-A-Za-z0-9.]{0,251}[A-Za-z0-9])?$/, allowed: 'a DNS name', optional: true },
    '',
    "Name every agent certificate must carry (a SAN), instead of the URL's host: one name for all agents, e.g. hivemq-agent.mqtt.svc.",
  ),
  setting(
    'rebalanceTickMs',
    int(100, 60_000),
    1000,
    'How often the rebalancer plans and moves clients, in milliseconds (the leader only).',
  ),
  setting(
    'discovery.source',
    { kind: 'enum', values: ['file', 'kubernetes'] },
    'file',
    'Where brokers come from: the brokers file, or Kubernetes EndpointSlices.',
  ),
  setting(
    'discovery.brokersFile',
    { kind: 'path' },
    'brokers.yaml',
    'YAML file listing the brokers, watched for changes; relative to the working directory.',
  ),
  setting(
    'discovery.kubernetes.kubeconfig',
    { kind: 'path', optional: true },
    '',
    'kubeconfig file; empty uses the in-cluster service account, else $KUBECONFIG or ~/.kube/config.',
  ),
  setting('discovery.kubernetes.namespace', k8sName(false), 'default', 'Namespace of the broker Service.'),
  setting(
    'discovery.kubernetes.service',
    k8sName(true),
    '',
    'Service whose EndpointSlices list the brokers (label kubernetes.io/service-name).',
  ),
  setting('discovery.kubernetes.labelSelector', labelSelector, '', 'Label selector for the EndpointSlices, instead of a service name.'),
  setting('discovery.kubernetes.mqttPort', portRef(false), 'mqtt', 'Name or number of the MQTT port in the EndpointSlices.'),
  setting(
    'discovery.kubernetes.metricsPort',
    portRef(true),
    'metrics',
    'Name or number of the Prometheus metrics port in the EndpointSlices; empty for none.',
  ),
  setting('discovery.kubernetes.metricsPath', urlPath, '/metrics', "HTTP path of the brokers' Prometheus metrics."),
  setting(
    'discovery.kubernetes.agentPort',
    portRef(true),
    'mqtt-xds-agent',
    'Name or number of the broker agent port in the EndpointSlices (docs/agent-api.md); empty for none.',
  ),
  setting(
    'discovery.kubernetes.drainAnnotation',
    annotationKey,
    'mqtt-xds.io/drain',
    'Pod annotation that drains a broker while its value is "true" (needs pods get/list/watch); empty watches no pods.',
  ),
  setting(
    'discovery.kubernetes.podLabelSelector',
    labelSelector,
    '',
    'Label selector narrowing the pod watch for the drain annotation; empty watches every pod in the namespace.',
  ),
  setting(
    'discovery.kubernetes.drainsConfigMap',
    k8sName(true),
    'mqtt-xds-drains',
    'ConfigMap (broker namespace) where drains asked through the admin API are recorded, so every replica applies them; empty: only the replica asked.',
  ),
  setting('listener.name', resourceName, 'mqtt', 'Name of the Envoy listener that accepts MQTT clients.'),
  setting('listener.address', { kind: 'ip' }, '0.0.0.0', 'IP address the Envoy MQTT listener binds to.'),
  setting('listener.port', int(1, UINT16), 1883, 'TCP port of the Envoy MQTT listener.'),
  // MQTT's keep-alive is a uint16 of seconds; below 10 s idle clients would be cut constantly.
  setting(
    'listener.maxKeepAliveSec',
    int(10, UINT16),
    3600,
    'Longest MQTT keep-alive clients may use, in seconds; bounds the idle timeout Envoy applies.',
  ),
  setting('cluster.name', resourceName, 'mqtt_brokers', 'Name of the Envoy cluster holding the brokers.'),
  setting('cluster.connectTimeoutMs', int(1, 600_000), 5000, 'Timeout for Envoy connecting to a broker, in milliseconds.'),
  // Envoy's default of 1024 would cap an MQTT fleet at a thousand clients.
  setting('cluster.maxConnections', int(1, UINT32), 1_000_000, 'Circuit breaker: most connections from Envoy to all brokers together.'),
  setting(
    'cluster.perHostMaxConnections',
    int(1, UINT32),
    250_000,
    'Circuit breaker: most connections from Envoy to one broker; at most cluster.maxConnections.',
  ),
  setting('cluster.healthCheck.intervalMs', int(1, 3_600_000), 5000, 'Time between health checks of each broker, in milliseconds.'),
  setting(
    'cluster.healthCheck.timeoutMs',
    int(1, 3_600_000),
    2000,
    'Time a health check may take before it fails, in milliseconds; below the interval.',
  ),
  setting(
    'cluster.healthCheck.unhealthyThreshold',
    int(1, 1000),
    3,
    'Failed checks in a row before a broker gets no new connections (count).',
  ),
  setting(
    'cluster.healthCheck.healthyThreshold',
    int(1, 1000),
    2,
    'Passed checks in a row before a broker gets new connections again (count).',
  ),
  setting(
    'balancing.mode',
    { kind: 'enum', values: ['metrics', 'static'] },
    'metrics',
    'metrics: weights follow scraped broker load under the policy; static: weights come from discovery alone.',
  ),
  setting(
    'balancing.policyFile',
    { kind: 'path', optional: true },
    '',
    'YAML operator policy for the weights, watched for changes; empty uses the built-in defaults.',
  ),
  setting(
    'balancing.policyConfigMap',
    configMapRef,
    '',
    'ConfigMap holding the policy, as [namespace/]name (namespace defaults to the broker namespace); watched.',
  ),
  setting('balancing.policyConfigMapKey', configMapKey, 'policy.yaml', 'Key of the policy document in that ConfigMap.'),
  setting(
    'balancing.lbPolicy',
    { kind: 'enum', values: ['ROUND_ROBIN', 'LEAST_REQUEST'] },
    'ROUND_ROBIN',
    "Envoy's load-balancing policy for the brokers; both honour the weights.",
  ),
  setting(
    'balancing.minPushIntervalMs',
    int(0, 3_600_000),
    5000,
    'Least time between two weight adjustments pushed from metrics, in milliseconds; overload cuts, policy and broker-list changes (membership, weights in the brokers file) go at once.',
  ),
  setting(
    'scrape.intervalMs',
    int(100, 3_600_000),
    5000,
    "Time between two scrapes of every broker's metrics, in milliseconds (jittered by 10%).",
  ),
  setting('scrape.timeoutMs', int(50, 600_000), 2000, 'Time one metrics request may take, in milliseconds.'),
  setting('scrape.concurrency', int(1, 1000), 8, 'Metrics requests in flight at once (count).'),
  setting(
    'leaderElection.leaseName',
    k8sName(true),
    '',
    'coordination.k8s.io Lease for leader election (work only one replica may do); empty turns it off.',
  ),
  setting('leaderElection.namespace', k8sName(true), '', 'Namespace of the Lease; empty uses the broker namespace.'),
  setting(
    'leaderElection.identity',
    { kind: 'string', pattern: /^[A-Za-z0-9][-A-Za-z0-9_.]{0,252}$/, allowed: 'a name such as the pod name, or empty', optional: true },
    '',
    "This replica's identity in the Lease; empty uses the host name (the pod name in Kubernetes).",
  ),
  setting(
    'leaderElection.leaseDurationMs',
    int(1000, 600_000),
    15_000,
    'How long a lease stays valid without renewal, in milliseconds; a crashed leader is replaced after this.',
  ),
  setting('leaderElection.renewIntervalMs', int(100, 600_000), 5000, 'Time between lease renewals, in milliseconds.'),
  setting('pushDebounceMs', int(0, 60_000), 100, 'Quiet time that batches changes into one xDS push, in milliseconds; 0 pushes at once.'),
  setting('shutdownGraceMs', int(0, 600_000), 5000, 'Time given to open streams and work in flight on shutdown, in milliseconds.'),
];

export const settingByKey: ReadonlyMap<string, Setting> = new Map(SETTINGS.map((s) => [s.key, s]));
export const settingByFlag: ReadonlyMap<string, Setting> = new Map(SETTINGS.map((s) => [s.flag, s]));
export const settingByEnv: ReadonlyMap<string, Setting> = new Map(SETTINGS.map((s) => [s.env, s]));

function setting(key: SettingKey, type: SettingType, dflt: string | number, help: string): Setting {
  // `cluster.healthCheck.intervalMs` → words cluster, health, check, interval, ms.
  const words = key
    .split('.')
    .flatMap((part) => part.split(/(?=[A-Z])/))
    .map((w) => w.toLowerCase());
  return { key, type, default: dflt, help, flag: `--${words.join('-')}`, env: ENV_PREFIX + words.join('_').toUpperCase() };
}

/** What a setting accepts, phrased to follow "expected". */
export function describeAllowed(type: SettingType): string {
  switch (type.kind) {
    case 'string':
      return type.allowed;
    case 'int':
      return `an integer in ${type.min}..${type.max}`;
    case 'enum':
      return `one of ${type.values.join(', ')}`;
    case 'path':
      return type.optional ? 'a file path, or empty for none' : 'a non-empty file path';
    case 'host':
      return 'an IPv4 or IPv6 address or a DNS name';
    case 'ip':
      return 'an IPv4 or IPv6 address';
  }
}

/** Short placeholder for --help (`--xds-port INT`). */
export function valueHint(type: SettingType): string {
  switch (type.kind) {
    case 'int':
      return 'INT';
    case 'enum':
      return type.values.join('|');
    case 'path':
      return 'FILE';
    case 'host':
      return 'HOST';
    case 'ip':
      return 'IP';
    case 'string':
      return 'NAME';
  }
}

export type Checked = { ok: true; value: string | number } | { ok: false; code: string; reason: string };

/**
 * Checks one raw value. Flags and env give text; a config file gives a YAML scalar, which
 * must already have the right type (`port: "18000"` is a quoted string, not a number).
 */
export function checkValue(s: Setting, raw: unknown, from: 'text' | 'yaml', cwd: string): Checked {
  const allowed = describeAllowed(s.type);
  const bad = (code: string, what: string): Checked => ({
    ok: false,
    code,
    reason: `${show(raw)} ${what}; ${s.key} expects ${allowed}`,
  });
  if (s.type.kind === 'int') {
    let n: number;
    if (from === 'text') {
      if (typeof raw !== 'string' || !/^[-+]?\d+$/.test(raw.trim())) return bad('CONFIG_NOT_AN_INTEGER', 'is not an integer');
      n = Number(raw.trim());
    } else {
      if (typeof raw !== 'number' || !Number.isInteger(raw)) return bad('CONFIG_NOT_AN_INTEGER', 'is not an integer');
      n = raw;
    }
    if (!Number.isSafeInteger(n) || n < s.type.min || n > s.type.max) return bad('CONFIG_OUT_OF_RANGE', 'is out of range');
    return { ok: true, value: n };
  }
  if (typeof raw !== 'string') return bad('CONFIG_WRONG_TYPE', 'is not a string');
  const text = raw.trim();
  if (text === '' && (s.type.kind === 'path' || s.type.kind === 'string') && s.type.optional) return { ok: true, value: '' };
  if (text === '') return bad('CONFIG_EMPTY_VALUE', 'is empty');
  switch (s.type.kind) {
    case 'enum':
      return s.type.values.includes(text) ? { ok: true, value: text } : bad('CONFIG_NOT_ALLOWED', 'is not allowed');
    case 'path':
      return { ok: true, value: resolve(cwd, text) };
    case 'host': {
      const why = hostProblem(text);
      return why === undefined ? { ok: true, value: text } : bad('CONFIG_BAD_HOST', `is not a host (${why})`);
    }
    case 'ip':
      return isIpLiteral(text) ? { ok: true, value: text } : bad('CONFIG_BAD_IP', 'is not an IP address');
    case 'string':
      return s.type.pattern.test(text) ? { ok: true, value: text } : bad('CONFIG_BAD_NAME', 'is not a valid name');
  }
}

function show(raw: unknown): string {
  if (typeof raw === 'string') return JSON.stringify(raw);
  if (raw === null || raw === undefined) return 'an empty value';
  if (typeof raw === 'object') return 'a structured value';
  return String(raw);
}
