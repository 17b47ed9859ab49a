// Fuzz target for the control plane's side of the agent API: whatever an agent answers
// (mutated JSON, wrong types, odd statuses), the client returns a value with a stable
// code, never throws, and what it accepts has the documented shape.
import * as http from 'node:http';
import fc from 'fast-check';
import { AGENT_ERROR_CODES, AgentHttpClient } from '../../src/rebalance/agent-client';
import { inputs, RUNS } from './mutate';

describe('fuzz: agent answers', () => {
  let server: http.Server;
  let url = '';
  let reply: { status: number; body: string } = { status: 200, body: '{}' };

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      req.resume();
      res.writeHead(reply.status, { 'content-type': 'application/json' });
      res.end(reply.body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('turns every answer into a coded value; accepted lists and outcomes are well-formed', async () => {
    const client = new AgentHttpClient({ token: 't', timeoutMs: () => 2000 });
    await fc.assert(
      fc.asyncProperty(inputs('agent'), fc.constantFrom(200, 200, 200, 400, 401, 404, 500, 503), async (body, status) => {
        reply = { status, body };
        const list = await client.listClients(url, 100);
        if (list.ok) {
          expect(Number.isFinite(list.value.total)).toBe(true);
          for (const c of list.value.clients) expect(typeof c.clientId).toBe('string');
        } else expect(AGENT_ERROR_CODES).toContain(list.error.code);
        const moved = await client.disconnect(url, ['c1'], 'drain');
        if (moved.ok) {
          for (const id of [...moved.value.disconnected, ...moved.value.notFound]) expect(typeof id).toBe('string');
        } else expect(AGENT_ERROR_CODES).toContain(moved.error.code);
      }),
      { numRuns: Math.ceil(RUNS / 4) },
    );
  });
});
