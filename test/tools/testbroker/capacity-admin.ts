// The test broker's HTTP side, on its metrics port: GET /metrics for the scraper, the
// admin API benchmarks use to read the truth and to stage events (forced overload, extra
// load, disconnecting chosen clients), and the agent API (capacity-agent.ts) under
// /agent/v1/. Routing and JSON only; the broker supplies the behaviour through AdminBackend.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AGENT_PREFIX, handleAgentRequest, type AgentBackend, type AgentOptions } from './capacity-agent';
import { readBody, send, type Reply } from './capacity-http';
import type { ClientInfo } from './capacity-ledger';
import {
  chooseClients,
  parseClusterPeersRequest,
  parseDisconnectRequest,
  parseJsonObject,
  parseLoadRequest,
  parseOverloadRequest,
  parseProxyQuery,
  type LoadRequest,
  type OverloadRequest,
} from './capacity-requests';
import type { CapacitySnapshot, Override } from './capacity-simulation';
import type { ProxyReport, ProxyReportQuery } from './proxy-ledger';
import type { ClusterStatus, PeerAddress, PeerStatus } from './cluster-link';
import { formatProblems, type Problem, type Result } from '../../../src/util/result';

export interface AdminBackend extends AgentBackend {
  readonly name: string;
  now(): number;
  /** Re-evaluates the model now (so a response reflects a change just made). */
  refresh(): CapacitySnapshot;
  metricsText(): string;
  clients(): ClientInfo[];
  /** Closes the connections of these clients (their wills are published); resolves with the ids it closed. */
  disconnect(clientIds: readonly string[]): Promise<string[]>;
  forceOverload(request: OverloadRequest): void;
  setExtraLoad(request: LoadRequest): void;
  /** GET /admin/proxy: what the connections' PROXY headers said. */
  proxyReport(query: ProxyReportQuery): ProxyReport;
  /** GET /admin/cluster; undefined when the broker runs without --cluster-port. */
  cluster(): ClusterStatus | undefined;
  /** POST /admin/cluster: replaces the peer set; undefined without --cluster-port. */
  setClusterPeers(peers: readonly PeerAddress[]): Result<PeerStatus[]> | undefined;
}

/** GET /admin/state. */
export interface BrokerState {
  readonly name: string;
  readonly capacity: number;
  readonly cost: number;
  readonly utilisation: number;
  /** Synthetic CPU 0..1 (the metric reports it in percent). */
  readonly cpu: number;
  readonly connections: number;
  readonly overloadLevel: number;
  /** The level utilisation alone gives, without a forced overload. */
  readonly utilisationLevel: number;
  readonly backpressureClients: number;
  readonly notWritable: number;
  readonly creditsPerTick: number;
  readonly extraCost: number;
  readonly forcedOverload: { level: number; remainingMs: number | null } | null;
  readonly extraLoad: { extraCost: number; remainingMs: number | null } | null;
  readonly incomingPublishes: number;
  readonly outgoingPublishes: number;
  readonly droppedMessages: number;
  /** Client sessions accepted since start, health checks (empty client id) left out. */
  readonly clientConnects: number;
}

export function brokerState(name: string, s: CapacitySnapshot, nowMs: number): BrokerState {
  const remaining = (o: Override): number | null => (o.untilMs === undefined ? null : Math.max(0, o.untilMs - nowMs));
  return {
    name,
    capacity: s.capacity,
    cost: s.cost,
    utilisation: s.utilisation,
    cpu: s.cpu,
    connections: s.connections,
    overloadLevel: s.overloadLevel,
    utilisationLevel: s.utilisationLevel,
    backpressureClients: s.backpressureClients,
    notWritable: s.notWritable,
    creditsPerTick: s.creditsPerTick,
    extraCost: s.extraCost,
    forcedOverload: s.forcedOverload ? { level: s.forcedOverload.value, remainingMs: remaining(s.forcedOverload) } : null,
    extraLoad: s.extraLoad ? { extraCost: s.extraLoad.value, remainingMs: remaining(s.extraLoad) } : null,
    incomingPublishes: s.incomingPublishes,
    outgoingPublishes: s.outgoingPublishes,
    droppedMessages: s.droppedMessages,
    clientConnects: s.clientConnects,
  };
}

const MAX_BODY_BYTES = 64 * 1024;

type Route = (backend: AdminBackend, body: string, url: URL) => Promise<Reply> | Reply;

const routes: Record<string, Partial<Record<'GET' | 'POST', Route>>> = {
  '/metrics': { GET: (b) => ({ status: 200, text: b.metricsText() }) },
  '/admin/state': { GET: (b) => ({ status: 200, json: brokerState(b.name, b.refresh(), b.now()) }) },
  '/admin/clients': { GET: (b) => ({ status: 200, json: b.clients() }) },
  '/admin/proxy': {
    GET: (b, _body, url) => {
      const query = parseProxyQuery(url.searchParams);
      return query.ok ? { status: 200, json: b.proxyReport(query.value) } : badRequest(query.problems);
    },
  },
  '/admin/cluster': {
    GET: (b) => {
      const status = b.cluster();
      return status ? { status: 200, json: status } : clusterOff();
    },
    POST: (b, text) => {
      const request = parseBody(text, parseClusterPeersRequest);
      if (!request.ok) return badRequest(request.problems);
      const result = b.setClusterPeers(request.value);
      if (!result) return clusterOff();
      return result.ok ? { status: 200, json: b.cluster() } : badRequest(result.problems);
    },
  },
  '/admin/disconnect': {
    POST: async (b, text) => {
      const request = parseBody(text, parseDisconnectRequest);
      if (!request.ok) return badRequest(request.problems);
      const known = new Set(b.clients().map((c) => c.clientId));
      const wanted =
        request.value.kind === 'ids' ? request.value.clientIds : chooseClients(b.clients(), request.value.count, request.value.prefer);
      const disconnected = await b.disconnect(wanted.filter((id) => known.has(id)));
      const notFound = wanted.filter((id) => !known.has(id));
      return { status: 200, json: { disconnected, notFound } };
    },
  },
  '/admin/overload': {
    POST: (b, text) => {
      const request = parseBody(text, parseOverloadRequest);
      if (!request.ok) return badRequest(request.problems);
      b.forceOverload(request.value);
      return { status: 200, json: brokerState(b.name, b.refresh(), b.now()) };
    },
  },
  '/admin/load': {
    POST: (b, text) => {
      const request = parseBody(text, parseLoadRequest);
      if (!request.ok) return badRequest(request.problems);
      b.setExtraLoad(request.value);
      return { status: 200, json: brokerState(b.name, b.refresh(), b.now()) };
    },
  },
};

function parseBody<T>(text: string, parse: (body: Record<string, unknown>) => Result<T>): Result<T> {
  const body = parseJsonObject(text);
  return body.ok ? parse(body.value) : body;
}

function badRequest(problems: Problem[]): Reply {
  return {
    status: 400,
    json: { error: { code: problems[0]?.code ?? 'BAD_REQUEST', message: formatProblems(problems), problems } },
  };
}

function clusterOff(): Reply {
  return errorReply(409, 'CLUSTER_OFF', 'this broker has no cluster link; start it with --cluster-port <n> (0 = any free port)');
}

function errorReply(status: number, code: string, message: string): Reply {
  return { status, json: { error: { code, message } } };
}

export function createAdminHandler(backend: AdminBackend, agent: AgentOptions): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    void handle(backend, agent, req).then(
      (reply) => send(res, reply),
      (err: unknown) => {
        const message = err instanceof Error ? err.message : String(err);
        // Each API keeps its own error shape, even for a bug.
        const agentPath = (req.url ?? '').startsWith(AGENT_PREFIX);
        send(res, agentPath ? { status: 500, json: { error: message } } : errorReply(500, 'INTERNAL', message));
      },
    );
  };
}

async function handle(backend: AdminBackend, agent: AgentOptions, req: IncomingMessage): Promise<Reply> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const path = url.pathname;
  if (path.startsWith(AGENT_PREFIX)) return handleAgentRequest(req, url, backend, agent);
  const methods = routes[path];
  if (!methods) {
    return errorReply(404, 'NOT_FOUND', `no such path ${path}; try ${Object.keys(routes).join(', ')} or ${AGENT_PREFIX}*`);
  }
  const method = req.method === 'HEAD' ? 'GET' : req.method;
  const route = method === 'GET' || method === 'POST' ? methods[method] : undefined;
  if (!route) {
    const allowed = Object.keys(methods).join(', ');
    return { ...errorReply(405, 'METHOD_NOT_ALLOWED', `${path} accepts ${allowed}`), headers: { Allow: allowed } };
  }
  const body = method === 'POST' ? await readBody(req, MAX_BODY_BYTES) : '';
  if (body === undefined) return errorReply(413, 'BODY_TOO_LARGE', `bodies are limited to ${MAX_BODY_BYTES} bytes`);
  return route(backend, body, url);
}
