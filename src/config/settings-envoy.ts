// Settings of the Envoy resources served (the MQTT listener and the broker cluster), and of
// what Envoys report back (the Envoy view).
import { int, resourceName, secretRef, setting, UINT16, UINT32, type Setting } from './setting-fields';

/** The Envoy listener that accepts MQTT clients, and the cluster of brokers behind it. */
export const ENVOY_SETTINGS: readonly Setting[] = [
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
  setting(
    'listener.websocketPort',
    int(0, UINT16),
    0,
    "TCP port of a second Envoy listener for MQTT over WebSockets (ws, or wss with listener.tls.*), proxied to each broker's websocketPort with the same weights and drains; 0: none.",
  ),
  setting(
    'listener.mqttFilter.wasmFile',
    { kind: 'path', optional: true },
    '',
    "The compiled MQTT Wasm filter (policy mqttFilter.enabled), read once at start and sent to Envoy inside the filter's ECDS config, so Envoy needs no file of its own; empty: .local/wasm/mqtt-filter.wasm under the installation, which scripts/setup builds.",
  ),
  setting(
    'listener.tls.certFile',
    { kind: 'path', optional: true },
    '',
    'PEM certificate chain (leaf first) Envoy presents to MQTT clients; with listener.tls.keyFile the listener speaks TLS only. Sent to Envoy over SDS, re-read while running: a rotation reaches new handshakes and drops no connection.',
  ),
  setting('listener.tls.keyFile', { kind: 'path', optional: true }, '', 'PEM private key of listener.tls.certFile.'),
  setting(
    'listener.tls.clientCaFile',
    { kind: 'path', optional: true },
    '',
    'PEM CA bundle; when set, every MQTT client must present a certificate it signed (mTLS), or the handshake fails. Sent over SDS, re-read with the pair.',
  ),
  setting(
    'listener.tls.issuerCaFile',
    { kind: 'path', optional: true },
    '',
    "PEM CA bundle the listener's and every tenant's certificate chain must verify against before it is served: a new certificate from another CA is refused, and the last good one stays; read once at start. Empty: chains are not checked against a CA.",
  ),
  setting(
    'listener.tls.clientSubjectAltNames',
    {
      kind: 'string',
      pattern: /^(DNS|URI|EMAIL|IP):[^,\s*]+\*?(,(DNS|URI|EMAIL|IP):[^,\s*]+\*?)*$/,
      allowed:
        'comma-separated TYPE:value entries, TYPE one of DNS, URI, EMAIL, IP, a value of one character or more (a trailing * matches a prefix)',
      optional: true,
    },
    '',
    'With listener.tls.clientCaFile: a client certificate must also carry one of these SANs, e.g. "URI:urn:device:*,DNS:gw.example.com"; empty: any certificate the CA signed.',
  ),
  // Watched through the API rather than mounted: a mounted Secret reaches the pod only after
  // the kubelet's sync (a minute or more), and the watch needs get/list/watch on this one name.
  setting(
    'listener.tls.secret',
    secretRef,
    '',
    'Kubernetes Secret of type kubernetes.io/tls (keys tls.crt, tls.key) holding the MQTT listener certificate, as name (in discovery.kubernetes.namespace) or namespace/name; instead of listener.tls.certFile and keyFile. Watched through the API (discovery.kubernetes.kubeconfig): a change is checked and sent over SDS at once. Until a good one is read the control plane is not ready and publishes nothing.',
  ),
  setting(
    'listener.tls.clientCaSecret',
    secretRef,
    '',
    'With listener.tls.secret: a Secret (Opaque or kubernetes.io/tls) whose key ca.crt is the client CA bundle (mTLS, as listener.tls.clientCaFile), as name or namespace/name; watched like the certificate.',
  ),
  setting(
    'listener.tls.minVersion',
    { kind: 'enum', values: ['1.2', '1.3'] },
    '1.2',
    'Oldest TLS version the MQTT listener accepts; 1.3 is always the newest.',
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
  // Envoy's own default is 1000 ms: a broker failing its health check within a second of a
  // weight push stayed in the workers' pick set until the window closed, and got new clients.
  setting(
    'cluster.updateMergeWindowMs',
    int(0, 60_000),
    0,
    'How long Envoy may hold health-check and weight changes to the brokers and apply them together, in milliseconds; 0 applies each at once, so a broker that fails its health check gets no new client from then on. Membership changes always apply at once.',
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
  // HiveMQ CE has no PROXY protocol support: a header would be read as a broken CONNECT.
  setting(
    'cluster.proxyProtocol.version',
    { kind: 'enum', values: ['off', 'v1', 'v2'] },
    'off',
    'PROXY protocol header Envoy sends each broker before the MQTT bytes, so the broker sees the real client address: off, v1 (text) or v2 (binary, with TLVs). Only for brokers that expect it (HiveMQ Enterprise); HiveMQ CE has no PROXY support. Health checks send a v2 LOCAL header.',
  ),
  setting(
    'cluster.proxyProtocol.tlvs',
    {
      kind: 'string',
      pattern: /^[^,\s]+(,[^,\s]+)*$/,
      allowed: 'comma-separated TYPE=VALUE entries without spaces, e.g. 0xE0=edge-1,0xE1=%REQUESTED_SERVER_NAME%',
      optional: true,
    },
    '',
    'With cluster.proxyProtocol.version v2: TLVs added to each header, as TYPE=VALUE (TYPE 0..255, custom 0xE0..0xEF). VALUE is literal text or one of %REQUESTED_SERVER_NAME%, %DOWNSTREAM_PEER_SUBJECT%, %DOWNSTREAM_PEER_URI_SAN%, %DOWNSTREAM_PEER_DNS_SAN%, %DOWNSTREAM_PEER_FINGERPRINT_256% (the client connection) or %TENANT% (the SNI tenant); a TLV whose value is empty is left out.',
  ),
];

/** What the Envoys report back over LRS: their own count of connections per broker. */
export const ENVOY_VIEW_SETTINGS: readonly Setting[] = [
  setting(
    'envoyView.reportIntervalMs',
    int(100, 3_600_000),
    1000,
    'How often each Envoy reports its connections per broker over LRS, in milliseconds; a report older than 3 intervals is not counted.',
  ),
];
