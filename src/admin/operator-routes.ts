// The operator actions on the admin port: drain a broker, cancel a drain, read drain and
// rebalance progress. Mutating requests need the admin token, unless the port is bound to
// loopback and no token is configured.
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type * as http from 'node:http';
import { BROKER_NAME } from '../domain/broker';

/** A drain could not be recorded where every replica sees it; nothing changed. */
export interface ActionFailure {
  readonly code: string;
  readonly error: string;
}

type MaybePromise<T> = T | Promise<T>;
export type DrainReply = { readonly created: boolean; readonly status: unknown } | ActionFailure | undefined;

export interface OperatorActions {
  /** Undefined when the broker is not known to discovery. */
  requestDrain(name: string): MaybePromise<DrainReply>;
  cancelDrain(name: string): MaybePromise<boolean | ActionFailure>;
  drainStatus(name: string): unknown;
  rebalanceStatus(): unknown;
}

export interface OperatorReply {
  readonly status: number;
  readonly body: unknown;
  readonly allow?: string;
}

/** What the operator actions need of the rebalancer. */
export interface DrainControl {
  requestDrain(name: string): boolean;
  cancelDrain(name: string): boolean;
  /** True while a drain asked for through the API is in force for this broker. */
  hasApiDrain?(name: string): boolean;
  drainStatus(name: string): unknown;
  status(): unknown;
}

/** Where drains are written so that every replica applies them (discovery/kubernetes/drain-record.ts). */
export interface DrainRecordWriter {
  add(
    name: string,
  ): Promise<
    { readonly ok: true } | { readonly ok: false; readonly problems: ReadonlyArray<{ readonly code: string; readonly message: string }> }
  >;
  remove(
    name: string,
  ): Promise<
    { readonly ok: true } | { readonly ok: false; readonly problems: ReadonlyArray<{ readonly code: string; readonly message: string }> }
  >;
}

/**
 * The operator actions over a rebalancer; a drain is only for a broker discovery knows.
 * With a shared record, a drain or a cancel is written there, and the rebalancer of every
 * replica (this one included) applies what the record holds; a failed write changes nothing.
 */
export function rebalanceActions(
  rebalancer: DrainControl,
  isKnown: (name: string) => boolean,
  record?: DrainRecordWriter,
): OperatorActions {
  const had = (name: string): boolean => rebalancer.hasApiDrain?.(name) ?? false;
  return {
    requestDrain: (name) => {
      if (!isKnown(name)) return undefined;
      if (!record) return { created: rebalancer.requestDrain(name), status: rebalancer.drainStatus(name) };
      const before = had(name);
      return record.add(name).then((r) => (r.ok ? { created: !before, status: rebalancer.drainStatus(name) } : failure(r.problems)));
    },
    cancelDrain: (name) => {
      if (!record) return rebalancer.cancelDrain(name);
      const before = had(name);
      return record.remove(name).then((r) => (r.ok ? before : failure(r.problems)));
    },
    drainStatus: (name) => rebalancer.drainStatus(name),
    rebalanceStatus: () => rebalancer.status(),
  };
}

function failure(problems: ReadonlyArray<{ readonly code: string; readonly message: string }>): ActionFailure {
  return { code: problems[0]?.code ?? 'DRAIN_RECORD', error: problems.map((p) => p.message).join('; ') };
}

function isFailure(v: unknown): v is ActionFailure {
  return typeof v === 'object' && v !== null && 'error' in v && 'code' in v;
}

/** The reply for an operator path, or undefined when the path is not one of them. */
export function operatorRoute(
  method: string,
  path: string,
  headers: http.IncomingHttpHeaders,
  actions: OperatorActions,
  token: string | undefined,
  boundToLoopback = true,
): OperatorReply | Promise<OperatorReply> | undefined {
  if (path === '/rebalance') {
    return method === 'GET' || method === 'HEAD' ? { status: 200, body: actions.rebalanceStatus() } : notAllowed('GET');
  }
  if (!path.startsWith('/drain/')) return undefined;
  let name: string;
  try {
    name = decodeURIComponent(path.slice('/drain/'.length));
  } catch {
    return { status: 400, body: { error: `the broker name in ${path} is not valid URL encoding` } };
  }
  if (!BROKER_NAME.pattern.test(name)) {
    return { status: 400, body: { error: `"${name}" is not a broker name (lower-case letters, digits, "-", "_", ".")` } };
  }
  if (method === 'GET' || method === 'HEAD') return { status: 200, body: actions.drainStatus(name) };
  if (method !== 'POST' && method !== 'DELETE') return notAllowed('GET, POST, DELETE');
  if ((token === undefined || token === '') && !boundToLoopback) {
    // Anyone who reaches the port could drain the whole fleet: a port reachable from the
    // network without a token only reads.
    return {
      status: 403,
      body: {
        error:
          'mutating actions are off: this admin port is reachable from the network and has no token; ' +
          'set admin.tokenFile (then send "Authorization: Bearer <token>"), or bind admin.host to 127.0.0.1',
      },
    };
  }
  if (!authorised(headers.authorization, token)) {
    return { status: 401, body: { error: 'this action needs "Authorization: Bearer <admin token>" (admin.tokenFile)' } };
  }
  if (method === 'DELETE') return then(actions.cancelDrain(name), (cancelled) => cancelReply(name, cancelled));
  return then(actions.requestDrain(name), (r) => drainReply(name, r));
}

/** Applies `f` now, or once the action's promise settles. */
function then<T>(v: MaybePromise<T>, f: (t: T) => OperatorReply): OperatorReply | Promise<OperatorReply> {
  return v instanceof Promise ? v.then(f) : f(v);
}

function cancelReply(name: string, cancelled: boolean | ActionFailure): OperatorReply {
  if (isFailure(cancelled))
    return { status: 503, body: { broker: name, code: cancelled.code, error: `the cancel was not recorded: ${cancelled.error}` } };
  return {
    status: 200,
    body: { broker: name, cancelled, ...(cancelled ? {} : { note: 'no drain requested through the API for this broker' }) },
  };
}

function drainReply(name: string, r: DrainReply): OperatorReply {
  if (!r) return { status: 404, body: { error: `no broker named "${name}" is known to discovery; see /status for the brokers` } };
  if (isFailure(r))
    return { status: 503, body: { broker: name, code: r.code, error: `the drain was not recorded, so no replica applies it: ${r.error}` } };
  return { status: 202, body: { broker: name, created: r.created, status: r.status } };
}

function notAllowed(allow: string): OperatorReply {
  return { status: 405, allow, body: { error: `method not allowed; use ${allow}` } };
}

function authorised(header: string | undefined, token: string | undefined): boolean {
  if (token === undefined || token === '') return true;
  return bearerMatches(header, token);
}

/** Whether an Authorization header carries this (non-empty) token as a bearer token. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const given = header?.startsWith('Bearer ') ? header.slice('Bearer '.length) : '';
  // Digests have one length whatever was sent, so neither an early length check nor the
  // comparison's time tells an attacker the token's length.
  return timingSafeEqual(digest(given), digest(token));
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** True when a listener on this host is reachable from this machine only. */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || /^(0{0,4}:){7}0{0,3}1$/.test(host) || host.toLowerCase().startsWith('::ffff:127.');
  return false;
}
