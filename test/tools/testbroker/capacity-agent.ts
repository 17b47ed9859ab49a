// The broker agent API v1 (docs/agent-api.md) on the test broker's HTTP port: the same
// contract as the HiveMQ extension, so benchmarks drive the rebalancer's real code path.
// Routing, the token check and JSON only; the broker does the disconnecting.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { ClientInfo } from './capacity-ledger';
import { readBody, type Reply } from './capacity-http';
import {
  parseAgentClientsQuery,
  parseAgentDisconnectRequest,
  parseJsonObject,
  TOO_MANY_CLIENT_IDS,
  type AgentDisconnectReason,
} from './capacity-requests';
import type { AgentClient } from '../../../src/rebalance/choose';
import type { Logger } from '../../../src/util/log';
import type { Problem } from '../../../src/util/result';

export const AGENT_PREFIX = '/agent/v1/';
const MAX_BODY_BYTES = 1024 * 1024;
/** MQTT 3 has no session expiry: a session without clean session lives until it is reused. */
const MQTT3_SESSION_NEVER_EXPIRES = 4_294_967_295;

/** One entry of GET /agent/v1/clients: the contract the control plane's rebalancer reads. */
export type { AgentClient };

export interface AgentClientList {
  readonly total: number;
  readonly clients: AgentClient[];
}

export interface AgentBackend {
  readonly name: string;
  /** False while the broker starts or stops: every agent request then gets 503. */
  accepting(): boolean;
  /** Every connected client, oldest connection first. */
  agentClients(): AgentClient[];
  /** Closes these clients' connections without publishing their wills; resolves with the ids it closed. */
  disconnectWithoutWill(clientIds: readonly string[], reason: AgentDisconnectReason): Promise<string[]>;
}

export interface AgentOptions {
  /** The shared secret; undefined asks for none (a test convenience, never for a real broker). */
  readonly token?: string;
  /** `<implementation>/<version>`, reported by GET /agent/v1/health. */
  readonly implementation: string;
  readonly logger: Logger;
}

/** The agent's view of a ledger entry. The test broker's sessions are MQTT 3 sessions (aedes 1.x). */
export function toAgentClient(info: ClientInfo, mqttVersion: number): AgentClient {
  return {
    clientId: info.clientId,
    mqttVersion,
    cleanStart: info.cleanSession,
    sessionExpirySec: info.cleanSession ? 0 : MQTT3_SESSION_NEVER_EXPIRES,
    sharedSubscriber: info.sharedSubscriber,
    connectedSinceMs: info.connectedSinceMs,
  };
}

/**
 * Whether an Authorization header carries `Bearer <token>`. Both sides are hashed first,
 * so timingSafeEqual gets equal-length buffers and the comparison leaks neither the
 * position of the first wrong character nor the token's length.
 */
export function tokenMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer +(\S+) *$/i.exec(header ?? '');
  if (!match) return false;
  const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();
  return timingSafeEqual(digest(match[1]), digest(token));
}

interface Context {
  readonly backend: AgentBackend;
  readonly options: AgentOptions;
  readonly url: URL;
  readonly body: string;
}

interface Endpoint {
  readonly method: 'GET' | 'POST';
  readonly needsToken: boolean;
  handle(ctx: Context): Promise<Reply> | Reply;
}

const ENDPOINTS = new Map<string, Endpoint>([
  [
    'health',
    {
      method: 'GET',
      needsToken: false,
      handle: ({ backend, options }) => ({
        status: 200,
        json: { status: 'ok', broker: backend.name, agent: options.implementation },
      }),
    },
  ],
  [
    'clients',
    {
      method: 'GET',
      needsToken: true,
      handle: ({ backend, url }) => {
        const query = parseAgentClientsQuery(url.searchParams);
        if (!query.ok) return rejected('invalid clients query', query.problems);
        const all = backend.agentClients();
        const list: AgentClientList = { total: all.length, clients: all.slice(0, query.value.limit) };
        return { status: 200, json: list };
      },
    },
  ],
  [
    'disconnect',
    {
      method: 'POST',
      needsToken: true,
      handle: async ({ backend, options, body }) => {
        const json = parseJsonObject(body);
        if (!json.ok) return agentError(400, json.problems[0]?.message ?? 'body is not a JSON object');
        const request = parseAgentDisconnectRequest(json.value);
        if (!request.ok) {
          const tooMany = request.problems.find((p) => p.code === TOO_MANY_CLIENT_IDS);
          if (tooMany) return agentError(413, `clientIds ${tooMany.message}`);
          return rejected('invalid disconnect request', request.problems);
        }
        const { clientIds, reason } = request.value;
        const closed = new Set(await backend.disconnectWithoutWill(clientIds, reason));
        const disconnected = clientIds.filter((id) => closed.has(id));
        const notFound = clientIds.filter((id) => !closed.has(id));
        options.logger.info('agent disconnected clients', { reason, disconnected, notFound });
        return { status: 200, json: { disconnected, notFound } };
      },
    },
  ],
]);

/** Answers a request whose path starts with AGENT_PREFIX. */
export async function handleAgentRequest(req: IncomingMessage, url: URL, backend: AgentBackend, options: AgentOptions): Promise<Reply> {
  const endpoint = ENDPOINTS.get(url.pathname.slice(AGENT_PREFIX.length));
  if (!endpoint) {
    const known = [...ENDPOINTS.keys()].map((name) => `${AGENT_PREFIX}${name}`).join(', ');
    return agentError(404, `no agent endpoint ${url.pathname}; the agent serves ${known}`);
  }
  const method = req.method === 'HEAD' ? 'GET' : req.method;
  if (method !== endpoint.method) {
    return { ...agentError(405, `${url.pathname} accepts ${endpoint.method} only`), headers: { Allow: endpoint.method } };
  }
  if (endpoint.needsToken && options.token !== undefined && !tokenMatches(req.headers.authorization, options.token)) {
    // The header's value is never logged: it may be a real token sent to the wrong broker.
    options.logger.warn('agent request refused: missing or wrong token', {
      path: url.pathname,
      remote: req.socket.remoteAddress,
      authorizationSent: req.headers.authorization !== undefined,
    });
    return {
      ...agentError(401, 'missing or wrong token; send "Authorization: Bearer <token>" with the shared agent token'),
      headers: { 'WWW-Authenticate': 'Bearer' },
    };
  }
  if (!backend.accepting()) return agentError(503, `broker ${backend.name} is starting or stopping; try again later`);
  const body = method === 'POST' ? await readBody(req, MAX_BODY_BYTES) : '';
  if (body === undefined) return agentError(413, `request body is over ${MAX_BODY_BYTES} bytes (1 MiB)`);
  return endpoint.handle({ backend, options, url, body });
}

function agentError(status: number, error: string): Reply {
  return { status, json: { error } };
}

function rejected(what: string, problems: readonly Problem[]): Reply {
  return {
    status: 400,
    json: {
      error: `${what}: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
      problems: problems.map((p) => ({ field: p.path, message: p.message })),
    },
  };
}
