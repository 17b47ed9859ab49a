// Starts capacity test brokers (capacity-broker.ts) as child processes, for integration
// tests, benchmarks and the demo. It forks the compiled JavaScript in dist/, because the
// broker loads aedes (an ES module) at run time, which ts-jest's CommonJS runtime cannot;
// so the repository must be built first (`npm run build`).
import { fork } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { BrokerState } from './capacity-admin';
import type { AgentClientList } from './capacity-agent';
import { capacityBrokerArgs, type CapacityBrokerOptions } from './capacity-config';
import type { ClientInfo } from './capacity-ledger';
import type { ProxyReport, ProxyReportQuery } from './proxy-ledger';
import type { ClusterStatus } from './cluster-link';
import { REPO_ROOT } from '../../../src/util/repo-root';
import { awaitReady, captureOutput, LineRing, stopChild, track } from '../../../src/util/child-process';

/** `agentToken` sets --agent-token: the agent API then asks for it (docs/agent-api.md). */
export interface LaunchOptions extends Partial<CapacityBrokerOptions> {
  readonly name: string;
  readonly capacity: number;
  /** Give up waiting for the ready message after this long. Default 15 000 ms. */
  readonly startTimeoutMs?: number;
  /** The compiled broker; default <repo>/dist/test/tools/testbroker/capacity-broker.js. */
  readonly script?: string;
}

export interface AdminReply {
  readonly status: number;
  readonly body: unknown;
}

export interface AgentRequest {
  readonly method?: 'GET' | 'POST';
  /** Sent as JSON; a string is sent as it is (for malformed bodies). */
  readonly body?: unknown;
  /** The bearer token to send instead of the broker's own; null sends none. */
  readonly token?: string | null;
}

export interface LaunchedBroker {
  readonly name: string;
  readonly host: string;
  /** MQTT port. */
  readonly port: number;
  readonly metricsPort: number;
  /** The cluster link's port on 127.0.0.1 (with `clusterPort` set), else undefined. */
  readonly clusterPort: number | undefined;
  /** http://host:metricsPort/metrics */
  readonly metricsUrl: string;
  /** http://host:metricsPort/admin */
  readonly adminUrl: string;
  /** http://host:metricsPort: the agent's base URL, as a brokers file's `agentUrl` gives it. */
  readonly agentUrl: string;
  /** The token the agent API asks for; undefined when it asks for none. */
  readonly agentToken: string | undefined;
  readonly pid: number;
  /** The last lines the broker printed, for error messages. */
  logs(): string;
  /** GET /metrics. */
  metrics(): Promise<string>;
  /** GET /admin/state. */
  state(): Promise<BrokerState>;
  /** GET /admin/clients. */
  clients(): Promise<ClientInfo[]>;
  /** GET /admin/proxy[?clientId=…&limit=…]: what each MQTT connection's PROXY header said (docs/test-broker.md). */
  proxy(query?: ProxyReportQuery): Promise<ProxyReport>;
  /** GET /admin/cluster; throws unless 200 (a broker without a cluster link answers 409). */
  cluster(): Promise<ClusterStatus>;
  /** POST /admin/cluster: replaces the peer set with these "127.0.0.1:port" links; throws unless 200. */
  setPeers(peers: readonly string[]): Promise<ClusterStatus>;
  /** POST /admin/<action> with a JSON body, e.g. post('overload', { level: 5 }). */
  post(action: 'disconnect' | 'overload' | 'load', body: unknown): Promise<AdminReply>;
  /** /agent/v1/<path> with the broker's token, e.g. agent('clients?limit=10'); any status is returned. */
  agent(path: string, request?: AgentRequest): Promise<AdminReply>;
  /** GET /agent/v1/clients; throws unless 200. */
  agentClients(limit?: number): Promise<AgentClientList>;
  /** POST /agent/v1/disconnect; throws unless 200. */
  agentDisconnect(clientIds: readonly string[], reason?: 'rebalance' | 'drain'): Promise<{ disconnected: string[]; notFound: string[] }>;
  /** Asks the broker to close (SIGKILL after 5 s); resolves once it exited. Safe to call twice. */
  stop(): Promise<void>;
  /** SIGKILL: a crash, as clients would see one. */
  kill(): Promise<void>;
}

interface ReadyMessage {
  type: 'ready';
  host: string;
  port: number;
  metricsPort: number;
  clusterPort?: number;
}

export function capacityBrokerScript(): string {
  return path.join(REPO_ROOT, 'dist', 'test', 'tools', 'testbroker', 'capacity-broker.js');
}

export async function launchCapacityBroker(options: LaunchOptions): Promise<LaunchedBroker> {
  const { startTimeoutMs = 15_000, script = capacityBrokerScript(), ...brokerOptions } = options;
  if (!fs.existsSync(script)) {
    throw new Error(`the capacity test broker is not built: ${script} is missing; run \`npm run build\` first`);
  }
  const child = fork(script, capacityBrokerArgs(brokerOptions), {
    // A jest worker's node flags are not for the broker.
    execArgv: [],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  track(child);
  const ring = new LineRing(200);
  captureOutput(child, ring);
  const logs = (): string => ring.text();

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= stopChild(child, { graceMs: 5000, ask: () => (child.connected ? child.send({ type: 'stop' }) : child.kill('SIGTERM')) }));
  const kill = (): Promise<void> => (stopping ??= stopChild(child, { graceMs: 0, ask: () => child.kill('SIGKILL') }));

  const ready = await awaitReady<ReadyMessage>(child, {
    what: `capacity broker ${options.name}`,
    timeoutMs: startTimeoutMs,
    abort: kill,
    output: logs,
  });

  const base = `http://${hostForUrl(ready.host)}:${ready.metricsPort}`;
  const getJson = async <T>(url: string): Promise<T> => {
    const res = await fetch(url);
    if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  const agentToken = options.agentToken;
  const agent = async (agentPath: string, request: AgentRequest = {}): Promise<AdminReply> => {
    const { body, token = agentToken } = request;
    const headers: Record<string, string> = {};
    if (token !== undefined && token !== null) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(`${base}/agent/v1/${agentPath}`, {
      method: request.method ?? (body === undefined ? 'GET' : 'POST'),
      headers,
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    return { status: res.status, body: await res.json() };
  };
  const agentOk = async <T>(agentPath: string, request?: AgentRequest): Promise<T> => {
    const reply = await agent(agentPath, request);
    if (reply.status !== 200) throw new Error(`agent ${agentPath}: HTTP ${reply.status} ${JSON.stringify(reply.body)}`);
    return reply.body as T;
  };
  return {
    name: options.name,
    host: ready.host,
    port: ready.port,
    metricsPort: ready.metricsPort,
    clusterPort: ready.clusterPort,
    metricsUrl: `${base}/metrics`,
    adminUrl: `${base}/admin`,
    agentUrl: base,
    agentToken,
    pid: child.pid ?? -1,
    logs,
    metrics: async () => {
      const res = await fetch(`${base}/metrics`);
      if (!res.ok) throw new Error(`GET ${base}/metrics: HTTP ${res.status}`);
      return res.text();
    },
    state: () => getJson<BrokerState>(`${base}/admin/state`),
    clients: () => getJson<ClientInfo[]>(`${base}/admin/clients`),
    proxy: (query = {}) => {
      const params = new URLSearchParams();
      if (query.clientId !== undefined) params.set('clientId', query.clientId);
      if (query.limit !== undefined) params.set('limit', String(query.limit));
      const search = params.size ? `?${params.toString()}` : '';
      return getJson<ProxyReport>(`${base}/admin/proxy${search}`);
    },
    cluster: () => getJson<ClusterStatus>(`${base}/admin/cluster`),
    setPeers: async (peers) => {
      const res = await fetch(`${base}/admin/cluster`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ peers }),
      });
      if (!res.ok) throw new Error(`POST ${base}/admin/cluster: HTTP ${res.status} ${await res.text()}`);
      return (await res.json()) as ClusterStatus;
    },
    post: async (action, body) => {
      const res = await fetch(`${base}/admin/${action}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: await res.json() };
    },
    agent,
    agentClients: (limit) => agentOk<AgentClientList>(limit === undefined ? 'clients' : `clients?limit=${limit}`),
    agentDisconnect: (clientIds, reason = 'rebalance') => agentOk('disconnect', { body: { clientIds, reason } }),
    stop,
    kill,
  };
}

/**
 * Joins brokers launched with `clusterPort` into a full mesh: each gets every other one's
 * link as a peer. Resolves once every link is connected (or throws after `timeoutMs`).
 */
export async function meshBrokers(brokers: readonly LaunchedBroker[], timeoutMs = 10_000): Promise<void> {
  for (const b of brokers) {
    if (b.clusterPort === undefined) throw new Error(`broker ${b.name} has no cluster link; launch it with clusterPort: 0`);
  }
  await Promise.all(brokers.map((b) => b.setPeers(brokers.filter((o) => o !== b).map((o) => `127.0.0.1:${o.clusterPort}`))));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const states = await Promise.all(brokers.map((b) => b.cluster()));
    const down = states.flatMap((s, i) => s.peers.filter((p) => !p.connected).map((p) => `${brokers[i].name} → ${p.address}`));
    if (down.length === 0) return;
    if (Date.now() > deadline) throw new Error(`cluster links not connected after ${timeoutMs} ms: ${down.join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
