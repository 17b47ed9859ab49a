import * as http from 'node:http';
import type { Registry } from 'prom-client';
import type { Logger } from '../util/log';
import { isLoopbackHost, operatorRoute, type OperatorActions } from './operator-routes';
import type { ViewReply } from './proxy-views';
import { STATUS_EVENTS_DEFAULTS, StatusEvents, type StatusEventsOptions } from './status-events';
import { PAGE_CSS, PAGE_HEADERS, PAGE_HTML, pageScript } from './ui-page';
import {
  LOGIN_HEADERS,
  MAX_LOGIN_BYTES,
  UI_SESSION_COOKIE,
  UI_SESSION_SECONDS,
  bearerMatchesToken,
  isLoopbackPeer,
  isViewPath,
  loginPage,
  uiSessionValue,
  viewDecision,
  type ViewAccess,
  type ViewDecision,
} from './view-access';

export interface Readiness {
  readonly ready: boolean;
  readonly reason: string;
}

export interface AdminServerOptions {
  readonly host: string;
  readonly port: number;
  readonly registry: Registry;
  readonly logger: Logger;
  readiness(): Readiness;
  status(): object;
  /** Drain and rebalance endpoints (operator-routes.ts). */
  readonly actions?: OperatorActions;
  /** Required as a bearer token by mutating operator actions, and by network peers' reads of the views; empty = none. */
  readonly token?: string;
  /** admin.viewAccess: `token` (default) guards the views from network peers; `open` does not (view-access.ts). */
  readonly viewAccess?: ViewAccess;
  /** Whether a request's peer address is this machine; loopback addresses by default. */
  readonly peerIsLocal?: (address: string | undefined) => boolean;
  /** /proxy-status and /config-dump (proxy-views.ts). */
  readonly views?: ProxyViews;
  /** The status page (/ui) and its live feed (/ui/events): what it draws (status-view.ts). */
  readonly page?: { view(): unknown } & Partial<Omit<StatusEventsOptions, 'view'>>;
}

/** The read-only views of the Envoys, answered from the request's query. */
export interface ProxyViews {
  proxyStatus(query: URLSearchParams): ViewReply;
  configDump(query: URLSearchParams): ViewReply;
}

/**
 * /healthz: the process is alive and serving HTTP.
 * /readyz: 200 only once a complete snapshot has been published (Envoys connecting
 *          earlier would get nothing).
 * /metrics: Prometheus text format.  /status: what is applied, as JSON.
 * /drain/<broker> (GET, POST, DELETE) and /rebalance: operator actions and progress.
 * /proxy-status and /config-dump?node=ID: which Envoy holds what, and what one is sent.
 * /ui: the status page; /ui/events: its live feed (Server-Sent Events). Read-only, like /status.
 * The views (/status, /ui, /proxy-status, /config-dump and the progress reads) need the
 * token from a network peer (view-access.ts); POST /ui/login turns it into a page session.
 */
export class AdminServer {
  private readonly server: http.Server;
  private readonly events: StatusEvents | undefined;

  constructor(private readonly opts: AdminServerOptions) {
    this.events =
      opts.page &&
      new StatusEvents({
        ...STATUS_EVENTS_DEFAULTS,
        onError: (err) => opts.logger.error('status page view failed', { error: err }),
        ...opts.page,
      });
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: Error) => {
        opts.logger.error('admin request failed', { path: req.url, error: err });
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('internal error\n');
      });
    });
  }

  async start(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port, this.opts.host, () => resolve());
    });
    if (!this.opts.token && !isLoopbackHost(this.opts.host)) {
      const views = this.opts.viewAccess === 'open' ? 'open to every peer (admin.viewAccess open)' : 'refused to network peers';
      this.opts.logger.warn(`admin port reachable from the network without a token: actions are refused, and the views are ${views}`, {
        host: this.opts.host,
        fix: 'set admin.tokenFile, or admin.host 127.0.0.1',
      });
    }
    const addr = this.server.address();
    return typeof addr === 'object' && addr ? addr.port : this.opts.port;
  }

  async stop(): Promise<void> {
    this.events?.closeAll();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const [path, search = ''] = (req.url ?? '/').split('?', 2);
    if (path === '/ui/login') {
      await this.login(req, res);
      return;
    }
    if (isViewPath(path) && (req.method === 'GET' || req.method === 'HEAD')) {
      const local = (this.opts.peerIsLocal ?? isLoopbackPeer)(req.socket.remoteAddress);
      const decision = viewDecision(req.headers, local, this.opts.token, this.opts.viewAccess ?? 'token');
      if (!decision.allowed) {
        this.refuseView(path, decision, req, res);
        return;
      }
    }
    const route =
      this.opts.actions &&
      operatorRoute(req.method ?? 'GET', path, req.headers, this.opts.actions, this.opts.token, isLoopbackHost(this.opts.host));
    if (route) {
      const op = await route;
      req.resume();
      if (op.status >= 400) this.opts.logger.warn('operator request refused', { method: req.method, path, status: op.status });
      else if (req.method === 'POST' || req.method === 'DELETE')
        this.opts.logger.info('operator request', { method: req.method, path, status: op.status });
      res.writeHead(op.status, {
        'content-type': 'application/json',
        'cache-control': 'no-store',
        ...(op.allow ? { allow: op.allow } : {}),
      });
      res.end(JSON.stringify(op.body, null, 2) + '\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' });
      res.end('method not allowed\n');
      return;
    }
    switch (path) {
      case '/healthz':
        send(res, 200, 'text/plain', 'ok\n');
        return;
      case '/readyz': {
        const r = this.opts.readiness();
        send(res, r.ready ? 200 : 503, 'text/plain', `${r.ready ? 'ready' : 'not ready'}: ${r.reason}\n`);
        return;
      }
      case '/metrics':
        send(res, 200, this.opts.registry.contentType, await this.opts.registry.metrics());
        return;
      case '/status':
        send(res, 200, 'application/json', JSON.stringify(this.opts.status(), null, 2) + '\n');
        return;
      case '/ui':
      case '/ui/':
      case '/ui/app.css':
      case '/ui/app.js':
      case '/ui/events':
        this.page(path, req, res);
        return;
      case '/proxy-status':
      case '/config-dump':
        if (this.opts.views) {
          const query = new URLSearchParams(search);
          const r = path === '/proxy-status' ? this.opts.views.proxyStatus(query) : this.opts.views.configDump(query);
          send(res, r.status, 'application/json', JSON.stringify(r.body, null, 2) + '\n');
          return;
        }
        send(res, 404, 'text/plain', `not found: ${path} is not served here\n`);
        return;
      default:
        send(
          res,
          404,
          'text/plain',
          'not found; try /healthz, /readyz, /metrics, /status, /ui, /proxy-status, /config-dump?node=ID, /rebalance or /drain/<broker>\n',
        );
    }
  }

  private refuseView(
    path: string,
    decision: Extract<ViewDecision, { allowed: false }>,
    req: http.IncomingMessage,
    res: http.ServerResponse,
  ): void {
    this.opts.logger.warn('view refused', { path, status: decision.status, peer: req.socket.remoteAddress });
    // A browser on the network opening the page gets the sign-in form instead.
    if ((path === '/ui' || path === '/ui/') && decision.status === 401) sendLogin(res, 401, false);
    else sendJson(res, decision.status, { error: decision.error });
  }

  /** POST /ui/login (a form with `token`): the admin token becomes a page session cookie. */
  private async login(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const token = this.opts.token;
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST', 'content-type': 'text/plain', 'cache-control': 'no-store' });
      res.end('method not allowed; the sign-in form posts here\n');
      return;
    }
    if (token === undefined || token === '' || this.opts.viewAccess === 'open' || !this.events) {
      req.resume();
      sendJson(res, 404, { error: 'no sign-in here: this admin port has no token, or its views are open, or it serves no page' });
      return;
    }
    const body = await readBounded(req, MAX_LOGIN_BYTES);
    if (body === undefined) {
      res.writeHead(413, { 'content-type': 'text/plain', 'cache-control': 'no-store', connection: 'close' });
      res.end(`the sign-in form is over ${MAX_LOGIN_BYTES} bytes\n`);
      req.destroy();
      return;
    }
    const given = new URLSearchParams(body.toString('utf8')).get('token') ?? '';
    if (!bearerMatchesToken(given, token)) {
      this.opts.logger.warn('status page sign-in refused', { peer: req.socket.remoteAddress });
      sendLogin(res, 401, true);
      return;
    }
    const expiresAt = Math.floor(Date.now() / 1000) + UI_SESSION_SECONDS;
    res.writeHead(303, {
      location: '/ui',
      'set-cookie': `${UI_SESSION_COOKIE}=${uiSessionValue(token, expiresAt)}; Path=/ui; HttpOnly; SameSite=Strict; Max-Age=${UI_SESSION_SECONDS}`,
      'cache-control': 'no-store',
    });
    res.end();
  }

  private page(path: string, req: http.IncomingMessage, res: http.ServerResponse): void {
    if (!this.events) {
      send(res, 404, 'text/plain', `not found: ${path} is not served here\n`);
      return;
    }
    if (path === '/ui/events') {
      // A HEAD learns the stream's type without holding a client slot.
      if (req.method === 'HEAD') {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
        res.end();
        return;
      }
      this.events.open(req, res);
      return;
    }
    if (path === '/ui/app.js') {
      const script = pageScript();
      if (script === undefined) {
        send(res, 503, 'text/plain', 'the status page script is not built (dist/ui/app.js); run npm run build\n');
        return;
      }
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', ...PAGE_HEADERS });
      res.end(script);
      return;
    }
    const [type, body] = path === '/ui/app.css' ? ['text/css; charset=utf-8', PAGE_CSS] : ['text/html; charset=utf-8', PAGE_HTML];
    res.writeHead(200, { 'content-type': type, ...PAGE_HEADERS });
    res.end(body);
  }
}

function sendJson(res: http.ServerResponse, code: number, body: unknown): void {
  send(res, code, 'application/json', JSON.stringify(body, null, 2) + '\n');
}

function sendLogin(res: http.ServerResponse, code: number, wrong: boolean): void {
  res.writeHead(code, { 'content-type': 'text/html; charset=utf-8', ...LOGIN_HEADERS });
  res.end(loginPage(wrong));
}

/** The request body, or undefined once it passes `max` bytes (the rest is not read). */
async function readBounded(req: http.IncomingMessage, max: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function send(res: http.ServerResponse, code: number, type: string, body: string): void {
  res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}
