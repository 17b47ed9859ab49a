// admin.ui.* reach the status page's feed of the admin server the process runs (runners/stages.ts).
import * as http from 'node:http';
import { Registry } from 'prom-client';
import { defaultConfig, validateConfig, withOverrides } from '../../../src/config';
import { adminFor } from '../../../src/runners';
import { silentLogger } from '../../../src/util/log';

/** Opens GET /ui/events and resolves with its status once the headers are in; `close` ends it. */
function open(base: string): Promise<{ status: number; close: () => void }> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${base}/ui/events`, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, close: () => req.destroy() });
    });
    req.on('error', reject);
  });
}

describe('admin.ui settings', () => {
  it('caps the status page feed at admin.ui.maxClients', async () => {
    const config = withOverrides(defaultConfig('/tmp'), { admin: { port: 0, ui: { maxClients: 1 } } });
    const admin = adminFor(
      config,
      silentLogger,
      new Registry(),
      { adminToken: undefined, agentToken: undefined },
      {
        readiness: () => ({ ready: true, reason: 'ok' }),
        status: () => ({}),
        page: { view: () => ({ brokers: [] }) },
      },
    );
    const base = `http://127.0.0.1:${await admin.start()}`;
    try {
      const first = await open(base);
      expect(first.status).toBe(200);
      const refused = await fetch(`${base}/ui/events`);
      expect(refused.status).toBe(503);
      expect(await refused.text()).toBe('too many status page clients (at most 1); retry later\n');
      first.close();
    } finally {
      await admin.stop();
    }
  });

  it('defaults to 32 clients, a 1 s sample and a 10 minute stream, and refuses values out of range by key', () => {
    expect(defaultConfig('/tmp').admin.ui).toEqual({ maxClients: 32, intervalMs: 1000, maxLifetimeMs: 600_000 });
    const problems = validateConfig(withOverrides(defaultConfig('/tmp'), { admin: { ui: { maxClients: 0, maxLifetimeMs: 500 } } }));
    expect(problems.map((p) => p.path).sort()).toEqual(['admin.ui.maxClients', 'admin.ui.maxLifetimeMs']);
  });
});
