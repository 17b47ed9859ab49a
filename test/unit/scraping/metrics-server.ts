import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A real HTTP server on 127.0.0.1 whose behaviour per path a test can change between rounds. */
export class MetricsServer {
  readonly requests: string[] = [];
  inFlight = 0;
  maxInFlight = 0;
  private readonly routes = new Map<string, Handler>();
  private server: Server | undefined;
  private port = 0;

  route(path: string, handler: Handler): this {
    this.routes.set(path, handler);
    return this;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  async start(): Promise<this> {
    const server = createServer((req, res) => {
      this.requests.push(req.url ?? '');
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      let counted = true;
      const done = (): void => {
        if (counted) this.inFlight--;
        counted = false;
      };
      res.on('close', done);
      const handler = this.routes.get(req.url ?? '');
      if (handler) handler(req, res);
      else res.writeHead(404).end('not found');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

export const page =
  (text: () => string, delayMs = 0): Handler =>
  (_req, res) => {
    const send = (): void => {
      const body = text();
      res
        .writeHead(200, {
          'content-type': 'text/plain; version=0.0.4; charset=utf-8',
          'content-length': Buffer.byteLength(body),
        })
        .end(body);
    };
    if (delayMs > 0) setTimeout(send, delayMs).unref();
    else send();
  };

export const status =
  (code: number): Handler =>
  (_req, res) => {
    res.writeHead(code, { 'content-type': 'text/plain' }).end(`error ${code}\n`);
  };

/** Sends headers at once and the body only after `delayMs` (a broker stuck mid-answer). */
export const stallBody =
  (delayMs: number): Handler =>
  (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('# HELP partial page\n');
    setTimeout(() => res.end('m 1\n'), delayMs).unref();
  };

/** Streams `bytes` of valid text in chunks, without a Content-Length. */
export const streamed =
  (bytes: number): Handler =>
  (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    const line = '# ' + 'x'.repeat(1021) + '\n';
    let sent = 0;
    const pump = (): void => {
      while (sent < bytes) {
        sent += line.length;
        if (!res.write(line)) {
          res.once('drain', pump);
          return;
        }
      }
      res.end();
    };
    res.on('error', () => undefined);
    pump();
  };
