import * as http from 'node:http';
import { Registry } from 'prom-client';
import { AdminServer } from '../../../src/admin';
import { silentLogger } from '../../../src/util/log';
import { sleep, waitFor } from '../../support/wait';

/** One GET /ui/events over a real socket: the parsed messages so far, and how it ended. */
interface Stream {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  /** Every message block, as field → value (comments kept under ':'). */
  readonly messages: Array<Record<string, string>>;
  ended: boolean;
  close(): void;
}

function openStream(base: string): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${base}/ui/events`, (res) => {
      const stream: Stream = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        messages: [],
        ended: false,
        close: () => req.destroy(),
      };
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const message: Record<string, string> = {};
          for (const line of block.split('\n')) {
            const colon = line.indexOf(':');
            const field = colon === 0 ? ':' : line.slice(0, colon);
            message[field] = line.slice(colon + 1).replace(/^ /, '');
          }
          stream.messages.push(message);
        }
      });
      res.on('end', () => (stream.ended = true));
      res.on('close', () => (stream.ended = true));
      resolve(stream);
    });
    req.on('error', reject);
  });
}

function statusEvents(s: Stream): unknown[] {
  return s.messages.filter((m) => m.event === 'status').map((m) => JSON.parse(m.data) as unknown);
}

describe('GET /ui/events', () => {
  let server: AdminServer;
  let base: string;
  let weight = 5;
  let views = 0;

  async function start(page: { maxClients?: number; maxLifetimeMs?: number; heartbeatMs?: number }): Promise<void> {
    server = new AdminServer({
      host: '127.0.0.1',
      port: 0,
      registry: new Registry(),
      logger: silentLogger,
      readiness: () => ({ ready: true, reason: 'ok' }),
      status: () => ({}),
      token: 'admin-secret',
      page: {
        view: () => {
          views++;
          return { brokers: [{ name: 'b1', weight }], note: 'line one\nline two' };
        },
        intervalMs: 20,
        maxClients: 2,
        heartbeatMs: 60_000,
        maxLifetimeMs: 60_000,
        ...page,
      },
    });
    base = `http://127.0.0.1:${await server.start()}`;
  }

  beforeEach(() => {
    weight = 5;
    views = 0;
  });
  afterEach(() => server.stop());

  it('sends the view at once as an event-stream message, without a token like /status', async () => {
    await start({});
    const s = await openStream(base);
    expect(s.status).toBe(200);
    expect(s.headers['content-type']).toBe('text/event-stream');
    expect(s.headers['cache-control']).toBe('no-store');
    await waitFor(() => statusEvents(s).length > 0, { what: 'the first status event' });
    expect(s.messages[0]).toEqual({ retry: '1000' });
    const first = s.messages.find((m) => m.event === 'status');
    // A newline inside the view stays escaped in the one data line.
    expect(first).toEqual({ id: '1', event: 'status', data: '{"brokers":[{"name":"b1","weight":5}],"note":"line one\\nline two"}' });
    s.close();
  });

  it('pushes a changed view on the open stream, and nothing while it stays the same', async () => {
    await start({});
    const s = await openStream(base);
    await waitFor(() => statusEvents(s).length === 1, { what: 'the first status event' });
    const seen = views;
    await waitFor(() => views >= seen + 3, { what: 'three more samples' });
    expect(statusEvents(s)).toHaveLength(1);
    weight = 9;
    const events = await waitFor(() => (statusEvents(s).length === 2 ? statusEvents(s) : undefined), { what: 'the changed view' });
    expect(events[1]).toEqual({ brokers: [{ name: 'b1', weight: 9 }], note: 'line one\nline two' });
    expect(s.messages.filter((m) => m.event === 'status').map((m) => m.id)).toEqual(['1', '2']);
    s.close();
  });

  it('refuses a client over the cap with 503 and takes one again when another leaves', async () => {
    await start({ maxClients: 2 });
    const a = await openStream(base);
    const b = await openStream(base);
    const refused = await fetch(`${base}/ui/events`);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(await refused.text()).toBe('too many status page clients (at most 2); retry later\n');
    a.close();
    const c = await waitFor(
      async () => {
        const s = await openStream(base);
        if (s.status === 200) return s;
        s.close();
        return undefined;
      },
      { what: 'a client to be taken after one left' },
    );
    await waitFor(() => statusEvents(c).length > 0, { what: 'the new client to get the view' });
    b.close();
    c.close();
  });

  it('stops sampling once the last client closes its connection', async () => {
    await start({});
    const s = await openStream(base);
    await waitFor(() => statusEvents(s).length > 0, { what: 'the first status event' });
    s.close();
    await waitFor(
      async () => {
        const before = views;
        await sleep(100);
        return views === before;
      },
      { what: 'sampling to stop' },
    );
    const after = views;
    await sleep(200);
    expect(views).toBe(after);
  });

  it('ends a stream after its lifetime, so the browser reconnects', async () => {
    await start({ maxLifetimeMs: 100 });
    const s = await openStream(base);
    await waitFor(() => s.ended, { what: 'the server to end the stream' });
    expect(statusEvents(s)).toHaveLength(1);
  });

  it('answers 500 without taking a slot when the view throws, and keeps a stream open when a later sample throws', async () => {
    let failing = true;
    const errors: unknown[] = [];
    server = new AdminServer({
      host: '127.0.0.1',
      port: 0,
      registry: new Registry(),
      logger: { ...silentLogger, error: (_msg, fields) => errors.push(fields?.error), child: () => silentLogger },
      readiness: () => ({ ready: true, reason: 'ok' }),
      status: () => ({}),
      page: {
        view: () => {
          views++;
          if (failing) throw new Error('view bug');
          return { weight };
        },
        intervalMs: 20,
        maxClients: 1,
      },
    });
    base = `http://127.0.0.1:${await server.start()}`;
    expect((await fetch(`${base}/ui/events`)).status).toBe(500);
    failing = false;
    const s = await openStream(base);
    expect(s.status).toBe(200);
    await waitFor(() => statusEvents(s).length === 1, { what: 'the first status event' });
    failing = true;
    const seen = views;
    await waitFor(() => views >= seen + 3, { what: 'three failing samples' });
    failing = false;
    weight = 6;
    await waitFor(() => statusEvents(s).length === 2, { what: 'the stream to go on after the failures' });
    expect(statusEvents(s)[1]).toEqual({ weight: 6 });
    expect(errors.length).toBeGreaterThanOrEqual(3);
    s.close();
  });

  it('sends a heartbeat comment while nothing changes', async () => {
    await start({ heartbeatMs: 50 });
    const s = await openStream(base);
    await waitFor(() => s.messages.some((m) => m[':']?.startsWith('heartbeat ')), { what: 'a heartbeat' });
    expect(statusEvents(s)).toHaveLength(1);
    s.close();
  });
});

describe('GET /ui', () => {
  let server: AdminServer;
  let base: string;
  beforeAll(async () => {
    server = new AdminServer({
      host: '127.0.0.1',
      port: 0,
      registry: new Registry(),
      logger: silentLogger,
      readiness: () => ({ ready: true, reason: 'ok' }),
      status: () => ({}),
      page: { view: () => ({}) },
    });
    base = `http://127.0.0.1:${await server.start()}`;
  });
  afterAll(() => server.stop());

  it('serves the page from this origin only, unsniffed and uncached', async () => {
    const res = await fetch(`${base}/ui`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toMatch(/^default-src 'self';/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const html = await res.text();
    expect(html).toContain('<script type="module" src="/ui/app.js"></script>');
    // Nothing from elsewhere: every src and href is this origin's.
    expect([...html.matchAll(/(?:src|href)="([^"]*)"/g)].map((m) => m[1])).toEqual(['/ui/app.css', '/ui/app.js']);
    const css = await fetch(`${base}/ui/app.css`);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(await css.text()).not.toMatch(/url\(|@import/);
  });

  it('serves the built script (npm run build compiles ui/app.ts to dist/ui/app.js)', async () => {
    const res = await fetch(`${base}/ui/app.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await res.text()).toContain("new EventSource('/ui/events')");
  });

  it('answers HEAD /ui/events with the stream type', async () => {
    const res = await fetch(`${base}/ui/events`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
  });

  it('is not served when no page is configured', async () => {
    const bare = new AdminServer({
      host: '127.0.0.1',
      port: 0,
      registry: new Registry(),
      logger: silentLogger,
      readiness: () => ({ ready: true, reason: 'ok' }),
      status: () => ({}),
    });
    const url = `http://127.0.0.1:${await bare.start()}`;
    try {
      expect((await fetch(`${url}/ui/events`)).status).toBe(404);
    } finally {
      await bare.stop();
    }
  });
});
