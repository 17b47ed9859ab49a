// The operator actions on the admin port: drain a broker, cancel a drain, read drain and
// rebalance progress. Mutating requests need the admin token, unless the port is bound to
// loopback and no token is configured.
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type * as http from 'node:http';

export interface OperatorActions {
  /** Undefined when the broker is not known to discovery. */
  requestDrain(name: string): { readonly created: boolean; readonly status: unknown } | undefined;
  cancelDrain(name: string): boolean;
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
  drainStatus(name: string): unknown;
  status(): unknown;
}

/** The operator actions over a rebalancer; a drain is only for a broker discovery knows. */
export function rebalanceActions(rebalancer: DrainControl, isKnown: (name: string) => boolean): OperatorActions {
  return {
    requestDrain: (name) => {
      if (!isKnown(name)) return undefined;
      return { created: rebalancer.requestDrain(name), status: rebalancer.drainStatus(name) };
    },
    cancelDrain: (name) => rebalancer.cancelDrain(name),
    drainStatus: (name) => rebalancer.drainStatus(name),
    rebalanceStatus: () => rebalancer.status(),
  };
}

const BROKER_NAME = /^[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$/;

/** The reply for an operator path, or undefined when the path is not one of them. */
export function operatorRoute(
  method: string,
  path: string,
  headers: http.IncomingHttpHeaders,
  actions: OperatorActions,
  token: string | undefined,
  boundToLoopback = true,
): OperatorReply | undefined {
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
  if (!BROKER_NAME.test(name)) {
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
  if (method === 'DELETE') {
    const cancelled = actions.cancelDrain(name);
    return { status: 200, body: { broker: name, cancelled, ...(cancelled ? {} : { note: 'no drain requested through the API for this broker' }) } };
  }
  const r = actions.requestDrain(name);
  if (!r) return { status: 404, body: { error: `no broker named "${name}" is known to discovery; see /status for the brokers` } };
  return { status: 202, body: { broker: name, created: r.created, status: r.status } };
}

function notAllowed(allow: string): OperatorReply {
  return { status: 405, allow, body: { error: `method not allowed; use ${allow}` } };
}

function authorised(header: string | undefined, token: string | undefined): boolean {
  if (token === undefined || token === '') return true;
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
