import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { withOverrides } from '../../src/config';
import type { ControlPlane } from '../../src/main';
import { launchCapacityBroker, type LaunchedBroker } from '../tools/testbroker/launch';
import { startEnvoy, waitFor, type EnvoyHandle } from '../support';
import { connectReconnectingClients, type ReconnectingPool } from '../support/reconnecting-clients';
import { planeConfig, startPlane, writeScrapedBrokersFile, type ScrapedBroker } from './plane';

/**
 * Drains and rebalancing end to end: capacity test brokers serving the agent API, the
 * control plane scraping them and moving clients, the real Envoy, and MQTT clients that
 * reconnect like devices do.
 */
const TOKEN = 'it-agent-token';
const ADMIN_TOKEN = 'it-admin-token';

const entry = (b: LaunchedBroker, agentUrl: string | undefined = b.agentUrl): ScrapedBroker => ({
  name: b.name,
  port: b.port,
  metricsUrl: b.metricsUrl,
  ...(agentUrl ? { agentUrl } : {}),
});

interface Harness {
  plane: ControlPlane;
  envoy: EnvoyHandle;
  brokersFile: string;
  mqttPort: number;
  admin: string;
  stop(): Promise<void>;
}

async function harness(entries: readonly ScrapedBroker[], policy: string): Promise<Harness> {
  const setup = await planeConfig();
  writeScrapedBrokersFile(setup.brokersFile, entries);
  const policyFile = path.join(setup.dir, 'policy.yaml');
  fs.writeFileSync(policyFile, policy);
  fs.writeFileSync(path.join(setup.dir, 'agent-token'), TOKEN + '\n');
  fs.writeFileSync(path.join(setup.dir, 'admin-token'), ADMIN_TOKEN + '\n');
  const config = withOverrides(setup.config, {
    balancing: { mode: 'metrics', policyFile, minPushIntervalMs: 300 },
    scrape: { intervalMs: 300, timeoutMs: 250 },
    agent: { tokenFile: path.join(setup.dir, 'agent-token') },
    admin: { tokenFile: path.join(setup.dir, 'admin-token') },
    rebalanceTickMs: 200,
  });
  const { plane } = await startPlane(config);
  const envoy = await startEnvoy({ mode: 'sotw', xdsPort: config.xds.port, waitReady: 'live' });
  const h: Harness = {
    plane,
    envoy,
    brokersFile: setup.brokersFile,
    mqttPort: config.listener.port,
    admin: `http://127.0.0.1:${config.admin.port}`,
    stop: async () => {
      await envoy.stop();
      await plane.stop();
    },
  };
  await waitFor(async () => (await envoy.clusterHosts('mqtt_brokers')).filter((x) => x.healthy).length === entries.length, {
    timeoutMs: 30_000,
    what: `${entries.length} healthy brokers in Envoy`,
  });
  return h;
}

const adminCall = async (
  h: Harness,
  method: string,
  p: string,
  token: string | null = ADMIN_TOKEN,
): Promise<{ status: number; body: Record<string, unknown> }> => {
  const res = await fetch(h.admin + p, { method, headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

const counts = async (brokers: readonly LaunchedBroker[]): Promise<number[]> =>
  Promise.all(brokers.map(async (b) => (await b.clients()).length));

// Drains move clients whatever rebalance.mode says; dry-run keeps rebalancing out of the drain tests.
const DRAIN_POLICY = 'rebalance: { ratePerSec: 100, batchSize: 20, agentTimeoutMs: 1000, retryAfterMs: 600000 }\nsmoothing: { alpha: 1 }\n';

const MOVE_POLICY = [
  'rebalance: { mode: on, ratePerSec: 100, batchSize: 20, tolerance: 0.1, minExcess: 5, retryAfterMs: 600000, agentTimeoutMs: 1000 }',
  'smoothing: { alpha: 1 }',
  '',
].join('\n');

describe('drain', () => {
  let brokers: LaunchedBroker[] = [];
  let h: Harness;
  let pool: ReconnectingPool;

  beforeAll(async () => {
    brokers = await Promise.all([0, 1, 2].map((i) => launchCapacityBroker({ name: `drain-${i}`, capacity: 1000, agentToken: TOKEN })));
    h = await harness(
      brokers.map((b) => entry(b)),
      DRAIN_POLICY,
    );
    pool = await connectReconnectingClients({ host: '127.0.0.1', port: h.mqttPort, count: 150, prefix: 'drain' });
    await waitFor(async () => (await counts(brokers)).every((n) => n > 20), { timeoutMs: 15_000, what: 'clients on every broker' });
  });

  afterAll(async () => {
    await pool?.endAll();
    await h?.stop();
    await Promise.all(brokers.map((b) => b.stop()));
  });

  it('refuses a drain without the admin token and names the setting', async () => {
    const r = await adminCall(h, 'POST', `/drain/${brokers[0].name}`, null);
    expect(r.status).toBe(401);
    expect(String(r.body.error)).toMatch(/admin\.tokenFile/);
  });

  it('moves every client off the drained broker with zero failed reconnects', async () => {
    const before = (await counts(brokers))[0];
    const r = await adminCall(h, 'POST', `/drain/${brokers[0].name}`);
    expect(r.status).toBe(202);
    await waitFor(async () => (await adminCall(h, 'GET', `/drain/${brokers[0].name}`)).body.drained === true, {
      timeoutMs: 60_000,
      intervalMs: 250,
      what: 'the drain to finish',
    });
    await waitFor(() => pool.connected() === 150, { timeoutMs: 20_000, what: 'every client back' });
    const after = await counts(brokers);
    expect(after[0]).toBe(0);
    expect(after[1] + after[2]).toBe(150);
    expect(pool.failedAttempts()).toBe(0);
    // Each moved client lost its connection once: nobody was moved twice or bounced back.
    expect(pool.lost()).toBe(before);
    const status = await adminCall(h, 'GET', `/drain/${brokers[0].name}`);
    expect(status.body).toMatchObject({ state: 'drained', origin: 'api', moved: before });
  });

  it('publishes the drained broker as DRAINING, so no client lands there', async () => {
    const hosts = await h.envoy.clusterHosts('mqtt_brokers');
    expect(hosts.find((x) => x.port === brokers[0].port)?.healthFlags).toContain('eds_draining');
    expect((await brokers[0].clients()).length).toBe(0);
    const metrics = await (await fetch(`${h.admin}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`mqtt_xds_rebalance_disconnects_total\\{broker="${brokers[0].name}",kind="drain"\\} \\d+`));
  });

  it('gives the broker new clients again once the drain is cancelled', async () => {
    expect((await adminCall(h, 'DELETE', `/drain/${brokers[0].name}`)).body).toMatchObject({ cancelled: true });
    await waitFor(
      async () =>
        !(await h.envoy.clusterHosts('mqtt_brokers')).find((x) => x.port === brokers[0].port)?.healthFlags.includes('eds_draining'),
      {
        timeoutMs: 15_000,
        what: 'the broker to be serving again',
      },
    );
  });
});

describe('rebalance after a scale-out', () => {
  let brokers: LaunchedBroker[] = [];
  let h: Harness;
  let pool: ReconnectingPool;
  // Odd and even ids, so round robin spreads the shared subscribers over both brokers.
  const shared = (i: number): boolean => i % 12 === 0 || i % 12 === 7;

  beforeAll(async () => {
    brokers = await Promise.all([0, 1, 2].map((i) => launchCapacityBroker({ name: `scale-${i}`, capacity: 1000, agentToken: TOKEN })));
    h = await harness(
      brokers.slice(0, 2).map((b) => entry(b)),
      MOVE_POLICY,
    );
    pool = await connectReconnectingClients({ host: '127.0.0.1', port: h.mqttPort, count: 120, prefix: 'scale', sharedSubscriber: shared });
    await waitFor(async () => (await counts(brokers)).slice(0, 2).reduce((a, b) => a + b, 0) === 120, {
      timeoutMs: 15_000,
      what: '120 clients on two brokers',
    });
  });

  afterAll(async () => {
    await pool?.endAll();
    await h?.stop();
    await Promise.all(brokers.map((b) => b.stop()));
  });

  it('moves only the excess to the new broker, shared-subscription members first', async () => {
    const [a, b] = await counts(brokers);
    // Per source broker: its shared subscribers and its other clients.
    const before = await Promise.all(brokers.slice(0, 2).map((x) => x.agentClients()));
    writeScrapedBrokersFile(
      h.brokersFile,
      brokers.map((x) => entry(x)),
    );
    // Targets 40 each: a and b move a - 40 and b - 40.
    const excess = a - 40 + (b - 40);
    await waitFor(async () => (await counts(brokers))[2] >= 36, {
      timeoutMs: 60_000,
      intervalMs: 250,
      what: 'the new broker to hold 90% of its share',
    });
    await waitFor(
      async () =>
        (await adminCall(h, 'GET', '/rebalance')).body.sources !== undefined &&
        Object.keys((await adminCall(h, 'GET', '/rebalance')).body.sources as object).length === 0,
      {
        timeoutMs: 30_000,
        what: 'the rebalance to end',
      },
    );
    await waitFor(() => pool.connected() === 120, { timeoutMs: 20_000, what: 'every client back' });
    expect(pool.failedAttempts()).toBe(0);
    expect(pool.lost()).toBeLessThanOrEqual(Math.ceil(excess * 1.1));
    const moved = pool.movedIds();
    for (const list of before) {
      const sharedIds = list.clients.filter((c) => c.sharedSubscriber).map((c) => c.clientId);
      const othersMoved = list.clients.filter((c) => !c.sharedSubscriber && moved.has(c.clientId)).length;
      expect(sharedIds.length).toBeGreaterThan(0);
      // Safest first: no other client of this broker moved while one of its shared subscribers stayed.
      if (othersMoved > 0) expect(sharedIds.filter((id) => !moved.has(id))).toEqual([]);
    }
    const after = await counts(brokers);
    for (const n of after) expect(Math.abs(n - 40)).toBeLessThanOrEqual(6);
  });

  it('exports the scale-out signal from the decisions /status shows', async () => {
    // Metrics and status are read a moment apart: compare once a plan held still across both.
    await waitFor(
      async () => {
        const decisions = (await adminCall(h, 'GET', '/status')).body.decisions as Array<{ utilisation?: number; capacity?: number }>;
        const text = await (await fetch(`${h.admin}/metrics`)).text();
        const gauge = (name: string): number =>
          Number(/^(\S+) (\S+)$/m.exec(text.split('\n').find((l) => l.startsWith(`${name} `)) ?? '')?.[2]);
        const known = decisions.filter((d) => d.utilisation !== undefined && (d.capacity ?? 0) > 0);
        const load = known.reduce((n, d) => n + d.utilisation! * d.capacity!, 0);
        const capacity = known.reduce((n, d) => n + d.capacity!, 0);
        if (known.length !== 3) return false;
        const utilisation = gauge('mqtt_xds_fleet_utilisation');
        const recommended = gauge('mqtt_xds_recommended_brokers');
        return (
          Math.abs(utilisation - load / capacity) < 1e-6 &&
          recommended === Math.max(1, Math.ceil(load / ((0.7 * capacity) / known.length) - 1e-9))
        );
      },
      { timeoutMs: 10_000, what: 'mqtt_xds_fleet_utilisation and mqtt_xds_recommended_brokers to match /status' },
    );
  });
});

describe('a failing agent', () => {
  let brokers: LaunchedBroker[] = [];
  let h: Harness;
  let pool: ReconnectingPool;
  let failing: http.Server;
  let failingUrl: string;

  beforeAll(async () => {
    failing = http.createServer((req, res) => {
      req.resume();
      res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'extension is shutting down' }));
    });
    await new Promise<void>((r) => failing.listen(0, '127.0.0.1', r));
    failingUrl = `http://127.0.0.1:${(failing.address() as AddressInfo).port}`;
    brokers = await Promise.all([0, 1, 2].map((i) => launchCapacityBroker({ name: `fail-${i}`, capacity: 1000, agentToken: TOKEN })));
    // fail-0's agent answers 500, fail-1's is down (nothing listens), fail-2's works.
    h = await harness([entry(brokers[0], failingUrl), entry(brokers[1], 'http://127.0.0.1:1'), entry(brokers[2])], DRAIN_POLICY);
    pool = await connectReconnectingClients({ host: '127.0.0.1', port: h.mqttPort, count: 60, prefix: 'fail' });
  });

  afterAll(async () => {
    await pool?.endAll();
    await h?.stop();
    await Promise.all(brokers.map((b) => b.stop()));
    failing.closeAllConnections();
    await new Promise((r) => failing.close(r));
  });

  it.each([
    [0, 'AGENT_HTTP_STATUS', /HTTP 500: extension is shutting down/],
    [1, 'AGENT_CONNECT', /is the agent running/],
  ])('broker %i: stops safely, keeps the broker DRAINING, and reports %s', async (i, code, message) => {
    const name = brokers[i].name;
    const held = (await counts(brokers))[i];
    expect((await adminCall(h, 'POST', `/drain/${name}`)).status).toBe(202);
    await waitFor(async () => (await adminCall(h, 'GET', `/drain/${name}`)).body.phase === 'failed', {
      timeoutMs: 20_000,
      what: `${name}'s drain to fail`,
    });
    const status = (await adminCall(h, 'GET', `/drain/${name}`)).body;
    expect(String(status.error)).toMatch(message);
    expect(status).toMatchObject({ state: 'draining', drained: false });
    expect((await counts(brokers))[i]).toBe(held);
    expect(pool.lost()).toBe(0);
    const metrics = await (await fetch(`${h.admin}/metrics`)).text();
    expect(metrics).toContain(`mqtt_xds_rebalance_agent_errors_total{broker="${name}",code="${code}"}`);
  });
});
