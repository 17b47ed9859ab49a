// The control plane's side of the broker agent API (docs/agent-api.md): list clients,
// disconnect chosen ones. Every misbehaviour of an agent comes back as a value with a
// stable code; nothing here throws for it.
import type { HttpFetch } from '../tls';
import { readCapped } from '../util/read-capped';
import type { AgentClient } from './choose';

export const AGENT_ERROR_CODES = [
  'AGENT_CONNECT',
  'AGENT_TIMEOUT',
  'AGENT_AUTH',
  'AGENT_HTTP_STATUS',
  'AGENT_BAD_RESPONSE',
  'AGENT_RESPONSE_TOO_LARGE',
] as const;
export type AgentErrorCode = (typeof AGENT_ERROR_CODES)[number];

export interface AgentError {
  readonly code: AgentErrorCode;
  readonly message: string;
  /** A disconnect that failed for some clients (HTTP 500) may still have moved others. */
  readonly partial?: DisconnectOutcome;
}

export type AgentResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: AgentError };

export interface ClientList {
  readonly total: number;
  readonly clients: readonly AgentClient[];
}

export interface DisconnectOutcome {
  readonly disconnected: readonly string[];
  readonly notFound: readonly string[];
}

export interface AgentClientOptions {
  readonly token?: string;
  /** Read per request, so a policy change applies to the next one. */
  timeoutMs(): number;
  /** Largest answer read from an agent; a client list may add LIST_BYTES_PER_CLIENT per requested client. Default 4 MiB. */
  readonly maxResponseBytes?: number;
  /** How requests go out: ClientTls.fetch for agent.tls settings; default the global fetch. */
  readonly fetch?: HttpFetch;
}

/** An agent's answer is held in memory whole, so it is read only up to a bound (a 600 MB one once took the process to 1.35 GB). */
export const DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
/** Allowance per requested client in a list answer: a typical entry is ~150 bytes, long client ids fit. */
export const LIST_BYTES_PER_CLIENT = 256;

export class AgentHttpClient {
  constructor(private readonly opts: AgentClientOptions) {}

  async listClients(agentUrl: string, limit: number): Promise<AgentResult<ClientList>> {
    const maxBytes = this.maxBytes() + Math.max(0, limit) * LIST_BYTES_PER_CLIENT;
    const r = await this.call(agentUrl, 'GET', `/agent/v1/clients?limit=${limit}`, undefined, maxBytes);
    return r.ok
      ? parseClientList(r.value, `${agentUrl}/agent/v1/clients`)
      : { ok: false, error: { code: r.error.code, message: r.error.message } };
  }

  async disconnect(agentUrl: string, clientIds: readonly string[], reason: 'rebalance' | 'drain'): Promise<AgentResult<DisconnectOutcome>> {
    const r = await this.call(agentUrl, 'POST', '/agent/v1/disconnect', { clientIds, reason }, this.maxBytes());
    if (r.ok) return parseDisconnectOutcome(r.value, `${agentUrl}/agent/v1/disconnect`);
    const partial = r.error.body === undefined ? undefined : parseDisconnectOutcome(r.error.body, '');
    return { ok: false, error: { code: r.error.code, message: r.error.message, ...(partial?.ok ? { partial: partial.value } : {}) } };
  }

  private maxBytes(): number {
    return this.opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  }

  private async call(base: string, method: 'GET' | 'POST', path: string, body: unknown, maxBytes: number): Promise<CallResult> {
    const url = base.replace(/\/+$/, '') + path;
    const what = `${method} ${url}`;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.opts.token) headers.authorization = `Bearer ${this.opts.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const timeoutMs = this.opts.timeoutMs();
    const signal = AbortSignal.timeout(timeoutMs);
    let res: Response;
    try {
      // Never follow a redirect: it would carry the agent token to wherever it points.
      res = await (this.opts.fetch ?? fetch)(url, {
        method,
        headers,
        signal,
        redirect: 'manual',
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (err) {
      return failure(err, what, timeoutMs);
    }
    const read = await readBounded(res, maxBytes);
    if (read.kind === 'error') return failure(read.error, what, timeoutMs);
    if (read.kind === 'too-large') {
      return bad(
        'AGENT_RESPONSE_TOO_LARGE',
        `${what}: answer is over the limit of ${maxBytes} bytes; stopped reading (the agent must honour limit, docs/agent-api.md)`,
      );
    }
    const text = read.text;
    if (res.status === 401) {
      return bad('AGENT_AUTH', `${what}: token refused (HTTP 401); check that the control plane and the agent share the same token`);
    }
    if (res.status >= 300 && res.status <= 399) {
      return bad(
        'AGENT_HTTP_STATUS',
        `${what}: answered a redirect (HTTP ${res.status}), which is not followed; set the agent URL to the agent itself`,
      );
    }
    if (res.status < 200 || res.status > 299) {
      return {
        ok: false,
        error: { code: 'AGENT_HTTP_STATUS', message: `${what}: HTTP ${res.status}${errorText(text)}`, body: jsonOrUndefined(text) },
      };
    }
    try {
      return { ok: true, value: JSON.parse(text) as unknown };
    } catch {
      return bad('AGENT_BAD_RESPONSE', `${what}: answer is not JSON`);
    }
  }
}

/** An agent call's result; a failed one keeps the error body, which may say what did succeed. */
type CallResult =
  { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: AgentError & { readonly body?: unknown } };

type BoundedRead =
  { readonly kind: 'ok'; readonly text: string } | { readonly kind: 'too-large' } | { readonly kind: 'error'; readonly error: unknown };

/** Reads the body up to maxBytes (readCapped), so an endless answer costs at most maxBytes. */
async function readBounded(res: Response, maxBytes: number): Promise<BoundedRead> {
  try {
    const body = await readCapped(res, maxBytes);
    return body === 'too large' ? { kind: 'too-large' } : { kind: 'ok', text: Buffer.from(body).toString('utf8') };
  } catch (error) {
    return { kind: 'error', error };
  }
}

function jsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function failure(err: unknown, what: string, timeoutMs: number): AgentResult<never> {
  const name = (err as { name?: string } | undefined)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') return bad('AGENT_TIMEOUT', `${what}: no answer within ${timeoutMs} ms`);
  const cause = (err as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  return bad('AGENT_CONNECT', `${what}: ${cause?.code ?? cause?.message ?? (err as Error).message}; is the agent running on that port?`);
}

const bad = (code: AgentErrorCode, message: string): AgentResult<never> => ({ ok: false, error: { code, message } });

function errorText(text: string): string {
  try {
    const e = (JSON.parse(text) as { error?: unknown }).error;
    return typeof e === 'string' ? `: ${e.slice(0, 300)}` : '';
  } catch {
    return '';
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

export function parseClientList(body: unknown, what: string): AgentResult<ClientList> {
  if (!isObject(body) || !isCount(body.total) || !Array.isArray(body.clients)) {
    return bad('AGENT_BAD_RESPONSE', `${what}: expected {"total": n, "clients": [...]}`);
  }
  const clients: AgentClient[] = [];
  for (const [i, c] of body.clients.entries()) {
    if (
      !isObject(c) ||
      typeof c.clientId !== 'string' ||
      c.clientId === '' ||
      !isCount(c.mqttVersion) ||
      typeof c.cleanStart !== 'boolean' ||
      !isCount(c.sessionExpirySec) ||
      typeof c.sharedSubscriber !== 'boolean' ||
      !isCount(c.connectedSinceMs)
    ) {
      return bad('AGENT_BAD_RESPONSE', `${what}: clients[${i}] lacks a field of docs/agent-api.md or has the wrong type`);
    }
    clients.push({
      clientId: c.clientId,
      mqttVersion: c.mqttVersion,
      cleanStart: c.cleanStart,
      sessionExpirySec: c.sessionExpirySec,
      sharedSubscriber: c.sharedSubscriber,
      connectedSinceMs: c.connectedSinceMs,
    });
  }
  return { ok: true, value: { total: body.total, clients } };
}

export function parseDisconnectOutcome(body: unknown, what: string): AgentResult<DisconnectOutcome> {
  const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
  if (!isObject(body) || !strings(body.disconnected) || !strings(body.notFound)) {
    return bad('AGENT_BAD_RESPONSE', `${what}: expected {"disconnected": [...], "notFound": [...]}`);
  }
  return { ok: true, value: { disconnected: body.disconnected, notFound: body.notFound } };
}
