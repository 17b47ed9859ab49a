import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  AgentHttpClient,
  DEFAULT_MAX_RESPONSE_BYTES,
  LIST_BYTES_PER_CLIENT,
  parseClientList,
  parseDisconnectOutcome,
} from '../../../src/rebalance';

describe('agent responses', () => {
  it('accepts a client list as docs/agent-api.md describes it', () => {
    const body = {
      total: 1,
      clients: [{ clientId: 'c1', mqttVersion: 5, cleanStart: true, sessionExpirySec: 0, sharedSubscriber: false, connectedSinceMs: 5 }],
    };
    expect(parseClientList(body, 'x')).toEqual({ ok: true, value: body });
  });

  it.each([
    ['not an object', []],
    ['no total', { clients: [] }],
    [
      'a client without sharedSubscriber',
      { total: 1, clients: [{ clientId: 'c1', mqttVersion: 5, cleanStart: true, sessionExpirySec: 0, connectedSinceMs: 5 }] },
    ],
    [
      'an empty client id',
      {
        total: 1,
        clients: [{ clientId: '', mqttVersion: 5, cleanStart: true, sessionExpirySec: 0, sharedSubscriber: false, connectedSinceMs: 5 }],
      },
    ],
  ])('refuses a client list with %s', (_, body) => {
    const r = parseClientList(body, 'GET http://agent/agent/v1/clients');
    expect(r).toMatchObject({ ok: false, error: { code: 'AGENT_BAD_RESPONSE' } });
  });

  it('refuses a disconnect answer without notFound', () => {
    expect(parseDisconnectOutcome({ disconnected: [] }, 'x')).toMatchObject({ ok: false, error: { code: 'AGENT_BAD_RESPONSE' } });
  });
});

describe('AgentHttpClient against a misbehaving agent', () => {
  let server: http.Server;
  let url: string;
  let mode: 'ok' | '500' | '401' | 'slow' | 'garbage' | 'partial' | 'redirect' = 'ok';
  let seenAuth: string | undefined;
  const seenPaths: string[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seenAuth = req.headers.authorization;
      seenPaths.push(req.url ?? '');
      if (mode === 'redirect' && !req.url?.startsWith('/elsewhere')) return void res.writeHead(307, { location: '/elsewhere' }).end();
      if (mode === 'slow') return void setTimeout(() => res.end('{}'), 2000);
      if (mode === '500') return void res.writeHead(500).end(JSON.stringify({ error: 'broker is stopping' }));
      if (mode === '401') return void res.writeHead(401).end('{}');
      if (mode === 'garbage') return void res.end('<html>');
      if (mode === 'partial') {
        const body = {
          error: 'some clients could not be disconnected',
          disconnected: ['a'],
          notFound: [],
          failed: [{ clientId: 'b', error: 'timeout' }],
        };
        return void res.writeHead(500).end(JSON.stringify(body));
      }
      res.end(JSON.stringify({ disconnected: ['a'], notFound: [] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  // Only the slow agent is timed out at 300 ms; every other answer may take a loaded
  // machine's time (a 300 ms limit for all of them once timed out an answer that came).
  const client = new AgentHttpClient({ token: 's3cret', timeoutMs: () => (mode === 'slow' ? 300 : 10_000) });

  it('follows no redirect: the token stays with the agent URL', async () => {
    mode = 'redirect';
    seenPaths.length = 0;
    const r = await client.listClients(url, 10);
    expect(r).toMatchObject({
      ok: false,
      error: { code: 'AGENT_HTTP_STATUS', message: expect.stringContaining('redirect (HTTP 307), which is not followed') },
    });
    expect(seenPaths).toEqual(['/agent/v1/clients?limit=10']);
  });

  it('sends the token and reads the answer', async () => {
    mode = 'ok';
    expect(await client.disconnect(url, ['a'], 'drain')).toEqual({ ok: true, value: { disconnected: ['a'], notFound: [] } });
    expect(seenAuth).toBe('Bearer s3cret');
  });

  it.each([
    ['500', 'AGENT_HTTP_STATUS', /HTTP 500: broker is stopping/],
    ['401', 'AGENT_AUTH', /token refused/],
    ['slow', 'AGENT_TIMEOUT', /within 300 ms/],
    ['garbage', 'AGENT_BAD_RESPONSE', /not JSON/],
  ] as const)('reports %s as %s', async (m, code, message) => {
    mode = m;
    const r = await client.listClients(url, 10);
    expect(r).toMatchObject({ ok: false, error: { code } });
    expect(!r.ok && r.error.message).toMatch(message);
  });

  it('keeps what a partly failed disconnect did move', async () => {
    mode = 'partial';
    const r = await client.disconnect(url, ['a', 'b'], 'rebalance');
    expect(r).toMatchObject({ ok: false, error: { code: 'AGENT_HTTP_STATUS', partial: { disconnected: ['a'], notFound: [] } } });
  });

  it('reports a closed port as AGENT_CONNECT', async () => {
    const r = await client.listClients('http://127.0.0.1:1', 10);
    expect(r).toMatchObject({ ok: false, error: { code: 'AGENT_CONNECT' } });
  });
});

describe('AgentHttpClient against an agent answering too much', () => {
  let server: http.Server;
  let url: string;
  let declareLength = false;
  const maxResponseBytes = 64 * 1024;

  beforeAll(async () => {
    // Streams 1 KiB chunks without end until the client hangs up: an answer that never stops.
    server = http.createServer((_req, res) => {
      const chunk = Buffer.alloc(1024, 0x20);
      if (declareLength) res.setHeader('content-length', String(1024 * 1024 * 1024));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"total": 1, "clients": [');
      const pump = (): void => {
        while (!res.destroyed) {
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
      };
      res.on('close', () => res.destroy());
      pump();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const client = new AgentHttpClient({ timeoutMs: () => 5000, maxResponseBytes });

  it('stops reading an endless answer past the cap and reports AGENT_RESPONSE_TOO_LARGE', async () => {
    declareLength = false;
    const r = await client.disconnect(url, ['a'], 'drain');
    expect(r).toMatchObject({ ok: false, error: { code: 'AGENT_RESPONSE_TOO_LARGE' } });
    expect(!r.ok && r.error.message).toMatch(/over the limit of 65536 bytes/);
  });

  it('refuses an answer whose declared length is over the cap without reading it', async () => {
    declareLength = true;
    const r = await client.disconnect(url, ['a'], 'drain');
    expect(r).toMatchObject({ ok: false, error: { code: 'AGENT_RESPONSE_TOO_LARGE' } });
  });

  it('allows a client list room for the clients it asked for, and no more', async () => {
    declareLength = false;
    const r = await client.listClients(url, 100);
    expect(r).toMatchObject({ ok: false, error: { code: 'AGENT_RESPONSE_TOO_LARGE' } });
    expect(!r.ok && r.error.message).toMatch(new RegExp(`limit of ${maxResponseBytes + 100 * LIST_BYTES_PER_CLIENT} bytes`));
  });

  it('defaults the cap to 4 MiB', () => {
    expect(DEFAULT_MAX_RESPONSE_BYTES).toBe(4 * 1024 * 1024);
  });
});
