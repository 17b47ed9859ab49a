// Settings of the process itself: logging, its xDS and admin servers, the agents it calls,
// and the timing of pushes and shutdown.
import { int, INT32, optionalDnsName, setting, UINT16, type Setting } from './setting-fields';

/** Logging, the xDS server, the admin server and the broker agents it calls. */
export const SERVER_SETTINGS: readonly Setting[] = [
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
    'admin.viewAccess',
    { kind: 'enum', values: ['token', 'open'] },
    'token',
    "Who reads /status, /ui, /proxy-status, /config-dump and progress: token = peers off this machine need admin.tokenFile's token; open = anyone who reaches the port.",
  ),
  setting(
    'admin.ui.maxClients',
    int(1, 10_000),
    32,
    'Status page live-feed clients (GET /ui/events) at once; the next one gets 503 with retry-after.',
  ),
  setting(
    'admin.ui.intervalMs',
    int(100, 60_000),
    1000,
    'How often the status page feed samples the view; a change is pushed at most this often.',
  ),
  setting(
    'admin.ui.maxLifetimeMs',
    int(10_000, 86_400_000),
    600_000,
    'Each status page feed connection is closed after this long, in milliseconds; the browser reconnects.',
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
    optionalDnsName,
    '',
    "Name every agent certificate must carry (a SAN), instead of the URL's host: one name for all agents, e.g. hivemq-agent.mqtt.svc.",
  ),
];

/** Push batching and the shutdown grace period. */
export const TIMING_SETTINGS: readonly Setting[] = [
  setting('pushDebounceMs', int(0, 60_000), 100, 'Quiet time that batches changes into one xDS push, in milliseconds; 0 pushes at once.'),
  setting('shutdownGraceMs', int(0, 600_000), 5000, 'Time given to open streams and work in flight on shutdown, in milliseconds.'),
];
