// The admin and agent APIs' requests, validated into values (every problem with its
// field), and the choice of clients for POST /admin/disconnect {"count": N}. Pure.
import type { ClientInfo } from './capacity-ledger';
import { MAX_CLUSTER_PEERS, parsePeerAddress, type PeerAddress } from './cluster-link';
import { MAX_OVERLOAD_LEVEL } from './capacity-model';
import { fail, ok, type Problem, type Result } from '../../../src/util/result';
import { didYouMean } from '../../../src/util/suggest';

export const DISCONNECT_PREFERENCES = ['shared-first', 'newest-first', 'oldest-first', 'busiest-first'] as const;
export type DisconnectPreference = (typeof DISCONNECT_PREFERENCES)[number];

export type DisconnectRequest =
  | { readonly kind: 'ids'; readonly clientIds: readonly string[] }
  | { readonly kind: 'count'; readonly count: number; readonly prefer: DisconnectPreference };

export interface OverloadRequest {
  /** 0 ends a forced overload. */
  readonly level: number;
  /** Undefined: in force until the next POST. */
  readonly durationMs?: number;
}

export interface LoadRequest {
  /** Replaces any earlier extra cost; 0 removes it. */
  readonly extraCost: number;
  readonly durationMs?: number;
}

export const AGENT_DISCONNECT_REASONS = ['rebalance', 'drain'] as const;
export type AgentDisconnectReason = (typeof AGENT_DISCONNECT_REASONS)[number];

/** POST /agent/v1/disconnect (docs/agent-api.md). */
export interface AgentDisconnectRequest {
  /** Distinct, in the order given. */
  readonly clientIds: readonly string[];
  readonly reason: AgentDisconnectReason;
}

/** More ids than this in one disconnect is a 413, not a 400: the caller must split the batch. */
export const AGENT_MAX_DISCONNECT_IDS = 1_000;
export const AGENT_DEFAULT_CLIENTS_LIMIT = 10_000;
export const AGENT_MAX_CLIENTS_LIMIT = 100_000;
/** The problem code that turns a rejected disconnect into 413. */
export const TOO_MANY_CLIENT_IDS = 'TOO_MANY_CLIENT_IDS';

/** A day: longer is surely a unit mistake (seconds for milliseconds is the other way). */
const MAX_DURATION_MS = 86_400_000;
const MAX_DISCONNECT_COUNT = 1_000_000;

type Body = Record<string, unknown>;

/** JSON text → a plain object, or the reason it is not one. */
export function parseJsonObject(text: string): Result<Body> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return fail([problem('BAD_JSON', '(body)', `body is not valid JSON: ${(err as Error).message}`)]);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return fail([problem('BAD_JSON', '(body)', 'body must be a JSON object')]);
  }
  return ok(value as Body);
}

export function parseDisconnectRequest(body: Body): Result<DisconnectRequest> {
  const problems = unknownFields(body, ['clientIds', 'count', 'prefer']);
  const hasIds = body.clientIds !== undefined;
  const hasCount = body.count !== undefined;
  if (hasIds === hasCount) {
    problems.push(problem('DISCONNECT_TARGET', '(body)', 'give exactly one of "clientIds" (a list) or "count" (a number)'));
    return fail(problems);
  }
  if (hasIds) {
    if (body.prefer !== undefined) {
      problems.push(problem('DISCONNECT_PREFER', 'prefer', '"prefer" only applies with "count"'));
    }
    const ids = body.clientIds;
    if (!Array.isArray(ids) || ids.length === 0) {
      problems.push(problem('DISCONNECT_IDS', 'clientIds', 'must be a non-empty list of client ids'));
    } else {
      ids.forEach((id, i) => {
        if (typeof id !== 'string' || id.length === 0) {
          problems.push(problem('DISCONNECT_IDS', `clientIds[${i}]`, 'must be a non-empty string'));
        }
      });
    }
    return problems.length ? fail(problems) : ok({ kind: 'ids', clientIds: [...new Set(ids as string[])] });
  }
  checkInteger(body.count, 'count', 1, MAX_DISCONNECT_COUNT, problems);
  const prefer = body.prefer ?? 'shared-first';
  if (!DISCONNECT_PREFERENCES.includes(prefer as DisconnectPreference)) {
    problems.push(
      problem(
        'DISCONNECT_PREFER',
        'prefer',
        `must be one of ${DISCONNECT_PREFERENCES.join(', ')}${didYouMean(String(prefer), DISCONNECT_PREFERENCES)}`,
      ),
    );
  }
  return problems.length ? fail(problems) : ok({ kind: 'count', count: body.count as number, prefer: prefer as DisconnectPreference });
}

export function parseOverloadRequest(body: Body): Result<OverloadRequest> {
  const problems = unknownFields(body, ['level', 'durationMs']);
  checkInteger(body.level, 'level', 0, MAX_OVERLOAD_LEVEL, problems);
  if (body.durationMs !== undefined) checkInteger(body.durationMs, 'durationMs', 1, MAX_DURATION_MS, problems);
  return problems.length ? fail(problems) : ok({ level: body.level as number, durationMs: body.durationMs as number | undefined });
}

export function parseLoadRequest(body: Body): Result<LoadRequest> {
  const problems = unknownFields(body, ['extraCost', 'durationMs']);
  const extra = body.extraCost;
  if (typeof extra !== 'number' || !Number.isFinite(extra) || extra < 0) {
    problems.push(problem('LOAD_EXTRA_COST', 'extraCost', 'must be a number ≥ 0 (cost units per second)'));
  }
  if (body.durationMs !== undefined) checkInteger(body.durationMs, 'durationMs', 1, MAX_DURATION_MS, problems);
  return problems.length ? fail(problems) : ok({ extraCost: extra as number, durationMs: body.durationMs as number | undefined });
}

export function parseAgentDisconnectRequest(body: Body): Result<AgentDisconnectRequest> {
  const problems = unknownFields(body, ['clientIds', 'reason']);
  const ids = body.clientIds;
  if (ids === undefined) {
    problems.push(problem('FIELD_MISSING', 'clientIds', `is required: a list of 1 to ${AGENT_MAX_DISCONNECT_IDS} client ids`));
  } else if (!Array.isArray(ids)) {
    problems.push(problem('FIELD_TYPE', 'clientIds', `must be a list of client ids, got ${typeName(ids)}`));
  } else if (ids.length === 0) {
    problems.push(problem('FIELD_RANGE', 'clientIds', 'must name at least one client'));
  } else if (ids.length > AGENT_MAX_DISCONNECT_IDS) {
    problems.push(
      problem(
        TOO_MANY_CLIENT_IDS,
        'clientIds',
        `names ${ids.length} clients; at most ${AGENT_MAX_DISCONNECT_IDS} per request, so split the batch`,
      ),
    );
  } else {
    const first = new Map<string, number>();
    ids.forEach((id, i) => {
      if (typeof id !== 'string' || id.length === 0) {
        problems.push(problem('FIELD_TYPE', `clientIds[${i}]`, `must be a non-empty string, got ${typeName(id)}`));
        return;
      }
      const seen = first.get(id);
      if (seen !== undefined) problems.push(problem('DUPLICATE_CLIENT_ID', `clientIds[${i}]`, `repeats clientIds[${seen}]`));
      else first.set(id, i);
    });
  }
  const reason = body.reason;
  if (reason === undefined) {
    problems.push(problem('FIELD_MISSING', 'reason', `is required: one of ${AGENT_DISCONNECT_REASONS.join(', ')}`));
  } else if (!AGENT_DISCONNECT_REASONS.includes(reason as AgentDisconnectReason)) {
    problems.push(
      problem(
        'FIELD_RANGE',
        'reason',
        `must be one of ${AGENT_DISCONNECT_REASONS.join(', ')}, got ${JSON.stringify(reason)}` +
          (typeof reason === 'string' ? didYouMean(reason, AGENT_DISCONNECT_REASONS) : ''),
      ),
    );
  }
  return problems.length ? fail(problems) : ok({ clientIds: ids as string[], reason: reason as AgentDisconnectReason });
}

/** The query of GET /agent/v1/clients: `limit` (default 10,000, at most 100,000), nothing else. */
export function parseAgentClientsQuery(query: URLSearchParams): Result<{ limit: number }> {
  const problems = [...new Set(query.keys())]
    .filter((key) => key !== 'limit')
    .map((key) => problem('UNKNOWN_FIELD', key, `unknown query parameter; expected "limit"${didYouMean(key, ['limit'])}`));
  const values = query.getAll('limit');
  let limit = AGENT_DEFAULT_CLIENTS_LIMIT;
  if (values.length > 1) {
    problems.push(problem('FIELD_TYPE', 'limit', 'is given more than once'));
  } else if (values.length === 1) {
    const text = values[0];
    const value = /^\d{1,7}$/.test(text) ? Number(text) : NaN;
    if (!(value >= 0 && value <= AGENT_MAX_CLIENTS_LIMIT)) {
      problems.push(
        problem('FIELD_RANGE', 'limit', `must be an integer from 0 to ${AGENT_MAX_CLIENTS_LIMIT}, got ${JSON.stringify(text)}`),
      );
    } else limit = value;
  }
  return problems.length ? fail(problems) : ok({ limit });
}

/** The most ?limit= of GET /admin/proxy takes: --proxy-history's maximum. */
export const PROXY_MAX_REPORT_LIMIT = 1_000_000;

/** The query of GET /admin/proxy: optional `clientId` (exact match) and `limit` (the newest n), nothing else. */
export function parseProxyQuery(query: URLSearchParams): Result<{ clientId?: string; limit?: number }> {
  const known = ['clientId', 'limit'];
  const problems = [...new Set(query.keys())]
    .filter((key) => !known.includes(key))
    .map((key) => problem('UNKNOWN_FIELD', key, `unknown query parameter; expected "clientId" or "limit"${didYouMean(key, known)}`));
  for (const key of known) {
    if (query.getAll(key).length > 1) problems.push(problem('FIELD_TYPE', key, 'is given more than once'));
  }
  const clientId = query.get('clientId') ?? undefined;
  const text = query.get('limit');
  const limit = text === null ? undefined : /^\d{1,7}$/.test(text) ? Number(text) : NaN;
  if (limit !== undefined && !(limit <= PROXY_MAX_REPORT_LIMIT)) {
    problems.push(problem('FIELD_RANGE', 'limit', `must be an integer from 0 to ${PROXY_MAX_REPORT_LIMIT}, got ${JSON.stringify(text)}`));
  }
  if (problems.length) return fail(problems);
  return ok({ ...(clientId === undefined ? {} : { clientId }), ...(limit === undefined ? {} : { limit }) });
}

/**
 * Up to `count` client ids in the order `prefer` gives. shared-first: members of a
 * shared subscription first (another member takes over their messages, so they can
 * always be moved safely), newest first within each part; newest-/oldest-first by
 * connection time; busiest-first by the traffic the client causes. Ties go by id, so
 * the choice is reproducible.
 */
/** POST /admin/cluster {"peers": ["127.0.0.1:40001", ...]}: the whole peer set, [] for none. */
export function parseClusterPeersRequest(body: Body): Result<PeerAddress[]> {
  const problems = unknownFields(body, ['peers']);
  const peers = body.peers;
  if (!Array.isArray(peers)) {
    problems.push(problem('CLUSTER_PEERS', 'peers', `must be a list of "host:port" strings, got ${typeName(peers)}`));
    return fail(problems);
  }
  if (peers.length > MAX_CLUSTER_PEERS) {
    problems.push(problem('CLUSTER_PEERS_TOO_MANY', 'peers', `at most ${MAX_CLUSTER_PEERS} peers, got ${peers.length}`));
    return fail(problems);
  }
  const out: PeerAddress[] = [];
  peers.forEach((text, i) => {
    const parsed = typeof text === 'string' ? parsePeerAddress(text, `peers[${i}]`) : undefined;
    if (parsed?.ok) out.push(parsed.value);
    else if (parsed) problems.push(...parsed.problems);
    else problems.push(problem('CLUSTER_PEER', `peers[${i}]`, `must be a "host:port" string, got ${typeName(text)}`));
  });
  return problems.length > 0 ? fail(problems) : ok(out);
}

export function chooseClients(clients: readonly ClientInfo[], count: number, prefer: DisconnectPreference): string[] {
  const newestFirst = (a: ClientInfo, b: ClientInfo): number => b.connectedSinceMs - a.connectedSinceMs;
  const order: Record<DisconnectPreference, (a: ClientInfo, b: ClientInfo) => number> = {
    'shared-first': (a, b) => Number(b.sharedSubscriber) - Number(a.sharedSubscriber) || newestFirst(a, b),
    'newest-first': newestFirst,
    'oldest-first': (a, b) => a.connectedSinceMs - b.connectedSinceMs,
    'busiest-first': (a, b) => b.publishRate + b.fanoutRate - (a.publishRate + a.fanoutRate),
  };
  return [...clients]
    .sort((a, b) => order[prefer](a, b) || (a.clientId < b.clientId ? -1 : a.clientId > b.clientId ? 1 : 0))
    .slice(0, count)
    .map((c) => c.clientId);
}

function unknownFields(body: Body, known: readonly string[]): Problem[] {
  return Object.keys(body)
    .filter((key) => !known.includes(key))
    .map((key) =>
      problem('UNKNOWN_FIELD', key, `unknown field; expected ${known.map((k) => `"${k}"`).join(', ')}${didYouMean(key, known)}`),
    );
}

function checkInteger(value: unknown, path: string, min: number, max: number, problems: Problem[]): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    problems.push(problem('FIELD_RANGE', path, `must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`));
  }
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'string' ? `the string ${JSON.stringify(value)}` : `${typeof value} ${JSON.stringify(value)}`;
}

function problem(code: string, path: string, message: string): Problem {
  return { code, path, message };
}
