import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from '../support/repo-root';

// The example brokers' preStop hook (deploy/examples/hivemq/drain.sh) against a local
// stand-in for the admin port that, like mqtt-xds on a network-reachable port, refuses a
// drain without the bearer token.
const HOOK = path.join(REPO_ROOT, 'deploy', 'examples', 'hivemq', 'drain.sh');
const TOKEN = 'tok-3f9a';

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
}

async function adminStandIn(seen: Seen[]): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization });
    req.resume();
    if (req.method === 'POST') {
      const ok = req.headers.authorization === `Bearer ${TOKEN}`;
      res.writeHead(ok ? 202 : 401, { 'content-type': 'application/json' });
      res.end(ok ? '{"created":true}' : '{"error":"token"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"broker":"hivemq-0","drained":true}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())) };
}

function runHook(env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'bash',
      [HOOK],
      { env: { PATH: process.env.PATH ?? '', POD_NAME: 'hivemq-0', DRAIN_LOG_TO: '/dev/stdout', ...env }, timeout: 20_000 },
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout + stderr)),
    );
  });
}

describe('the example drain hook', () => {
  let tokenFile: string;
  beforeAll(() => {
    tokenFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'drain-hook-')), 'token');
    fs.writeFileSync(tokenFile, `${TOKEN}\n`);
  });

  it.each(['curl', 'devtcp'])('sends the admin token from DRAIN_TOKEN_FILE and waits for the drain (%s)', async (client) => {
    const seen: Seen[] = [];
    const admin = await adminStandIn(seen);
    try {
      const out = await runHook({ DRAIN_URL: admin.url, DRAIN_TOKEN_FILE: tokenFile, DRAIN_HTTP_CLIENT: client, DRAIN_POLL_SECONDS: '1' });
      expect(out).toMatch(/drain requested/);
      expect(out).toMatch(/"msg":"drained"/);
      expect(seen[0]).toEqual({ method: 'POST', url: '/drain/hivemq-0', authorization: `Bearer ${TOKEN}` });
    } finally {
      await admin.close();
    }
  });

  it('without the token the drain is refused and the hook falls back to waiting', async () => {
    const seen: Seen[] = [];
    const admin = await adminStandIn(seen);
    try {
      const out = await runHook({ DRAIN_URL: admin.url, DRAIN_HTTP_CLIENT: 'curl', DRAIN_FALLBACK_SECONDS: '1' });
      expect(out).toMatch(/HTTP 401/);
      expect(seen).toHaveLength(1);
      expect(seen[0].authorization).toBeUndefined();
    } finally {
      await admin.close();
    }
  });
});
