// GET /ui/events: the status page's live feed, as Server-Sent Events. One timer for all
// clients samples the view; a sample that differs from the last one sent is pushed to every
// client, at most once per interval. Bounded: a cap on clients (then 503), a lifetime per
// connection (the browser's EventSource reconnects), and a client whose socket is full
// skips samples until it drains instead of queueing them.
import type * as http from 'node:http';

export interface StatusEventsOptions {
  /** The compact view the page draws; called once per interval while a client is connected. */
  view(): unknown;
  /** Concurrent clients; the next one gets 503. */
  readonly maxClients: number;
  /** Samples are taken this often; a change is pushed at most this often. */
  readonly intervalMs: number;
  /** A comment line keeps proxies and the browser from timing the stream out. */
  readonly heartbeatMs: number;
  /** Each connection is closed after this long; the browser reconnects. */
  readonly maxLifetimeMs: number;
  /** A sample that threw (a bug): the last good one stays, and the timer goes on. */
  onError?(err: unknown): void;
}

export const STATUS_EVENTS_DEFAULTS = {
  maxClients: 32,
  intervalMs: 1000,
  heartbeatMs: 15_000,
  maxLifetimeMs: 10 * 60_000,
} as const;

interface Client {
  readonly res: http.ServerResponse;
  readonly openedAtMs: number;
  /** The socket's buffer is full: samples are skipped until 'drain'. */
  blocked: boolean;
  /** The last sample this client was sent (a blocked client catches up on drain). */
  sent: string | undefined;
}

export class StatusEvents {
  private readonly clients = new Set<Client>();
  private timer: NodeJS.Timeout | undefined;
  private latest: string | undefined;
  private lastBeatMs = 0;
  private nextId = 0;

  constructor(private readonly opts: StatusEventsOptions) {}

  get clientCount(): number {
    return this.clients.size;
  }

  /** Answers one GET /ui/events. */
  open(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (this.clients.size >= this.opts.maxClients) {
      res.writeHead(503, { 'content-type': 'text/plain', 'cache-control': 'no-store', 'retry-after': '5' });
      res.end(`too many status page clients (at most ${this.opts.maxClients}); retry later\n`);
      return;
    }
    // Sampled before the client counts: a view that throws answers 500 (admin-server.ts) and holds no slot.
    if (this.latest === undefined || !this.timer) this.latest = this.sample();
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      connection: 'keep-alive',
    });
    const client: Client = { res, openedAtMs: Date.now(), blocked: false, sent: undefined };
    this.clients.add(client);
    // The browser waits this long before reconnecting after the lifetime ends.
    res.write('retry: 1000\n\n');
    const close = (): void => this.drop(client);
    req.on('close', close);
    res.on('close', close);
    res.on('error', close);
    res.on('drain', () => {
      client.blocked = false;
      if (this.latest !== undefined && client.sent !== this.latest) this.send(client, this.latest);
    });
    this.send(client, this.latest);
    if (!this.timer) this.lastBeatMs = Date.now();
    this.timer ??= setInterval(() => this.tick(), this.opts.intervalMs);
  }

  /** Ends every stream (the server is stopping). */
  closeAll(): void {
    for (const c of [...this.clients]) {
      c.res.end();
      this.drop(c);
    }
  }

  private tick(): void {
    const now = Date.now();
    for (const c of [...this.clients]) {
      if (now - c.openedAtMs >= this.opts.maxLifetimeMs) {
        c.res.end();
        this.drop(c);
      }
    }
    if (this.clients.size === 0) return;
    let next: string;
    try {
      next = this.sample();
    } catch (err) {
      this.opts.onError?.(err);
      return;
    }
    if (next !== this.latest) {
      this.latest = next;
      for (const c of this.clients) this.send(c, next);
      this.lastBeatMs = now;
    } else if (now - this.lastBeatMs >= this.opts.heartbeatMs) {
      this.lastBeatMs = now;
      for (const c of this.clients) if (!c.blocked) c.blocked = !c.res.write(`: heartbeat ${new Date(now).toISOString()}\n\n`);
    }
  }

  private sample(): string {
    return JSON.stringify(this.opts.view());
  }

  private send(c: Client, data: string): void {
    if (c.blocked) return;
    c.sent = data;
    // JSON.stringify leaves no raw newline in its output, so one data line carries it.
    c.blocked = !c.res.write(`id: ${++this.nextId}\nevent: status\ndata: ${data}\n\n`);
  }

  private drop(c: Client): void {
    if (!this.clients.delete(c)) return;
    if (this.clients.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
