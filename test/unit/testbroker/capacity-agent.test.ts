import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdminHandler, type AdminBackend } from '../../tools/testbroker/capacity-admin';
import { toAgentClient, tokenMatches, type AgentClient } from '../../tools/testbroker/capacity-agent';
import type { ClientInfo } from '../../tools/testbroker/capacity-ledger';
import { createLogger } from '../../../src/util/log';

const TOKEN = 'agent-token-0123456789';

const info = (clientId: string, cleanSession: boolean, sharedSubscriber = false): ClientInfo => ({
  clientId,
  connectedSinceMs: 1_795_000_000_000,
  cleanSession,
  subscriptions: [],
  sharedSubscriber,
  publishRate: 0,
  fanoutRate: 0,
  receiveRate: 0,
});

describe('toAgentClient', () => {
  it('gives MQTT 3 sessions expiry 0 with clean session and "never" without', () => {
    expect(toAgentClient(info('a', true, true), 4)).toEqual({
      clientId: 'a',
      mqttVersion: 4,
      cleanStart: true,
      sessionExpirySec: 0,
      sharedSubscriber: true,
      connectedSinceMs: 1_795_000_000_000,
    });
    expect(toAgentClient(info('b', false), 3)).toMatchObject({ mqttVersion: 3, cleanStart: false, sessionExpirySec: 4_294_967_295 });
  });
});

describe('tokenMatches', () => {
  it('accepts exactly "Bearer <token>", the scheme in any case', () => {
    expect(tokenMatches(`Bearer ${TOKEN}`, TOKEN)).toBe(true);
    expect(tokenMatches(`bearer ${TOKEN}`, TOKEN)).toBe(true);
  });

  it('refuses a missing header, another scheme, a wrong, shorter or longer token', () => {
    expect(tokenMatches(undefined, TOKEN)).toBe(false);
    expect(tokenMatches('', TOKEN)).toBe(false);
    expect(tokenMatches(TOKEN, TOKEN)).toBe(false);
    expect(tokenMatches(`Basic ${TOKEN}`, TOKEN)).toBe(false);
    expect(tokenMatches(`Bearer ${TOKEN.slice(0, -1)}X`, TOKEN)).toBe(false);
    expect(tokenMatches(`Bearer ${TOKEN.slice(0, -1)}`, TOKEN)).toBe(false);
    expect(tokenMatches(`Bearer ${TOKEN}0`, TOKEN)).toBe(false);
    expect(tokenMatches(`Bearer ${TOKEN} extra`, TOKEN)).toBe(false);
  });
});

interface Harness {
  url: string;
  logs: Array<Record<string, unknown>>;
  disconnectCalls: Array<{ ids: readonly string[]; reason: string }>;
  setAccepting(value: boolean): void;
  close(): Promise<void>;
}

/** The real HTTP handler over loopback, with a fake broker behind it. */
async function serve(token: string | undefined, connected: AgentClient[]): Promise<Harness> {
  const logs: Array<Record<string, unknown>> = [];
  const disconnectCalls: Harness['disconnectCalls'] = [];
  let accepting = true;
  const unused = (): never => {
    throw new Error('not used by the agent API');
  };
  const backend: AdminBackend = {
    name: 'fake-broker',
    accepting: () => accepting,
    agentClients: () => connected,
    disconnectWithoutWill: async (ids, reason) => {
      disconnectCalls.push({ ids, reason });
      return ids.filter((id) => connected.some((c) => c.clientId === id));
    },
    now: () => 0,
    refresh: unused,
    metricsText: unused,
    clients: unused,
    disconnect: unused,
    forceOverload: unused,
    setExtraLoad: unused,
    proxyReport: unused,
    cluster: unused,
    setClusterPeers: unused,
  };
  const logger = createLogger('debug', {}, (line) => logs.push(JSON.parse(line) as Record<string, unknown>));
  const server = http.createServer(
    createAdminHandler(backend, { ...(token === undefined ? {} : { token }), implementation: 'test-agent/1.2.3', logger }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/agent/v1`,
    logs,
    disconnectCalls,
    setAccepting: (value) => {
      accepting = value;
    },
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

const clientsOf = (ids: string[]): AgentClient[] => ids.map((id) => toAgentClient(info(id, true), 4));

async function call(
  url: string,
  init: { method?: string; token?: string; body?: string } = {},
): Promise<{ status: number; headers: Headers; body: any }> {
  const headers: Record<string, string> = {};
  if (init.token !== undefined) headers.Authorization = `Bearer ${init.token}`;
  const res = await fetch(url, { method: init.method ?? (init.body === undefined ? 'GET' : 'POST'), headers, body: init.body });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

describe('agent API over HTTP', () => {
  let h: Harness;
  afterEach(() => h?.close());

  it('answers health without a token', async () => {
    h = await serve(TOKEN, []);
    expect(await call(`${h.url}/health`)).toMatchObject({
      status: 200,
      body: { status: 'ok', broker: 'fake-broker', agent: 'test-agent/1.2.3' },
    });
  });

  it('refuses clients and disconnect without the right token, and logs it without the token', async () => {
    h = await serve(TOKEN, clientsOf(['a']));
    for (const attempt of [
      call(`${h.url}/clients`),
      call(`${h.url}/clients`, { token: 'wrong-token-value' }),
      call(`${h.url}/disconnect`, { token: 'wrong-token-value', body: JSON.stringify({ clientIds: ['a'], reason: 'drain' }) }),
    ]) {
      const reply = await attempt;
      expect(reply.status).toBe(401);
      expect(reply.body).toEqual({ error: expect.stringContaining('missing or wrong token') });
      expect(reply.headers.get('www-authenticate')).toBe('Bearer');
    }
    expect(h.disconnectCalls).toEqual([]);
    const refusals = h.logs.filter((l) => l.msg === 'agent request refused: missing or wrong token');
    expect(refusals).toHaveLength(3);
    expect(JSON.stringify(h.logs)).not.toContain('wrong-token-value');
  });

  it('lists clients up to the limit, with the total', async () => {
    h = await serve(TOKEN, clientsOf(['a', 'b', 'c']));
    const all = await call(`${h.url}/clients`, { token: TOKEN });
    expect(all.status).toBe(200);
    expect(all.body.total).toBe(3);
    expect(all.body.clients.map((c: AgentClient) => c.clientId)).toEqual(['a', 'b', 'c']);
    const two = await call(`${h.url}/clients?limit=2`, { token: TOKEN });
    expect(two.body).toMatchObject({ total: 3, clients: [{ clientId: 'a' }, { clientId: 'b' }] });
    expect((await call(`${h.url}/clients?limit=0`, { token: TOKEN })).body).toEqual({ total: 3, clients: [] });
  });

  it('rejects a bad limit field by field', async () => {
    h = await serve(TOKEN, []);
    const reply = await call(`${h.url}/clients?limit=many`, { token: TOKEN });
    expect(reply.status).toBe(400);
    expect(reply.body).toEqual({
      error: expect.stringContaining('invalid clients query: limit: must be an integer from 0 to 100000'),
      problems: [{ field: 'limit', message: expect.stringContaining('"many"') }],
    });
  });

  it('disconnects the clients it has and reports the others as not found, in request order', async () => {
    h = await serve(TOKEN, clientsOf(['a', 'b']));
    const reply = await call(`${h.url}/disconnect`, {
      token: TOKEN,
      body: JSON.stringify({ clientIds: ['gone', 'b', 'a'], reason: 'rebalance' }),
    });
    expect(reply).toMatchObject({ status: 200, body: { disconnected: ['b', 'a'], notFound: ['gone'] } });
    expect(h.disconnectCalls).toEqual([{ ids: ['gone', 'b', 'a'], reason: 'rebalance' }]);
    expect(h.logs).toContainEqual(expect.objectContaining({ msg: 'agent disconnected clients', reason: 'rebalance', notFound: ['gone'] }));
  });

  it('answers a bad disconnect body with 400, listing field problems', async () => {
    h = await serve(TOKEN, []);
    const notJson = await call(`${h.url}/disconnect`, { token: TOKEN, body: '{"clientIds":' });
    expect(notJson.status).toBe(400);
    expect(notJson.body).toEqual({ error: expect.stringContaining('body is not valid JSON') });
    const fields = await call(`${h.url}/disconnect`, { token: TOKEN, body: JSON.stringify({ clientIds: ['a', 3], why: 'x' }) });
    expect(fields.status).toBe(400);
    expect(fields.body.problems.map((p: { field: string }) => p.field)).toEqual(['why', 'clientIds[1]', 'reason']);
    expect(fields.body.error).toMatch(/^invalid disconnect request: why: unknown field/);
    expect(h.disconnectCalls).toEqual([]);
  });

  it('answers 413 for more than 1,000 ids and for a body over 1 MiB', async () => {
    h = await serve(TOKEN, []);
    const ids = Array.from({ length: 1001 }, (_, i) => `c${i}`);
    const many = await call(`${h.url}/disconnect`, { token: TOKEN, body: JSON.stringify({ clientIds: ids, reason: 'drain' }) });
    expect(many).toMatchObject({ status: 413, body: { error: expect.stringContaining('names 1001 clients; at most 1000') } });
    const huge = await call(`${h.url}/disconnect`, { token: TOKEN, body: `{"pad":"${'x'.repeat(1024 * 1024)}"}` });
    expect(huge).toMatchObject({ status: 413, body: { error: expect.stringContaining('1 MiB') } });
    expect(h.disconnectCalls).toEqual([]);
  });

  it('answers 404 for an unknown agent path and 405 for a wrong method', async () => {
    h = await serve(TOKEN, []);
    expect(await call(`${h.url}/sessions`, { token: TOKEN })).toMatchObject({
      status: 404,
      body: { error: expect.stringContaining('/agent/v1/health, /agent/v1/clients, /agent/v1/disconnect') },
    });
    const wrong = await call(`${h.url}/disconnect`, { token: TOKEN });
    expect(wrong).toMatchObject({ status: 405, body: { error: '/agent/v1/disconnect accepts POST only' } });
    expect(wrong.headers.get('allow')).toBe('POST');
  });

  it('answers 503 while the broker is not ready', async () => {
    h = await serve(TOKEN, clientsOf(['a']));
    h.setAccepting(false);
    expect((await call(`${h.url}/health`)).status).toBe(503);
    expect(await call(`${h.url}/clients`, { token: TOKEN })).toMatchObject({
      status: 503,
      body: { error: expect.stringContaining('starting or stopping') },
    });
  });

  it('asks for no token when none is configured', async () => {
    h = await serve(undefined, clientsOf(['a']));
    expect((await call(`${h.url}/clients`)).body).toMatchObject({ total: 1 });
    expect((await call(`${h.url}/disconnect`, { body: JSON.stringify({ clientIds: ['a'], reason: 'drain' }) })).status).toBe(200);
  });
});
