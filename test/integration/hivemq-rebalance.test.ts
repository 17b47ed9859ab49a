import * as fs from 'node:fs';
import * as path from 'node:path';
import { withOverrides } from '../../src/config';
import type { ControlPlane } from '../../src/main';
import { startEnvoy, untilHealthy, waitFor, type EnvoyHandle } from '../support';
import { startHiveMQ, type HiveMQBroker } from '../support/hivemq';
import { connectReconnectingClients, type ReconnectingPool } from '../support/reconnecting-clients';
import { planeConfig, startPlane, writeScrapedBrokersFile } from './plane';

/**
 * The whole path with real parts: three HiveMQ CE brokers with the mqtt-xds agent
 * extension, the control plane scraping the agents' /metrics and moving clients through
 * them, the real Envoy, and MQTT 5 clients that reconnect like devices do.
 */
const TOKEN = 'hivemq-rebalance-agent-token';
const USE_ANOTHER_SERVER = 0x9c;

interface AgentList {
  total: number;
  clients: Array<{ clientId: string; sharedSubscriber: boolean }>;
}

const agentList = async (b: HiveMQBroker): Promise<AgentList> => {
  const res = await fetch(`${b.agentUrl}/agent/v1/clients?limit=1000`, { headers: { authorization: `Bearer ${TOKEN}` } });
  if (res.status !== 200) throw new Error(`agent of ${b.mqttUrl}: HTTP ${res.status}`);
  return (await res.json()) as AgentList;
};

describe('moving MQTT 5 clients between real HiveMQ brokers', () => {
  const names = ['hivemq-0', 'hivemq-1', 'hivemq-2'];
  const brokers: HiveMQBroker[] = [];
  let plane: ControlPlane;
  let envoy: EnvoyHandle;
  let brokersFile = '';
  let admin = '';
  let pool: ReconnectingPool;
  // HiveMQ's own connection gauge, read through the agent's /metrics: the agent's list can
  // lag it by up to one reconciliation (5 s; docs/hivemq-agent.md).
  const counts = async (): Promise<number[]> =>
    Promise.all(
      brokers.map(async (b) => {
        const line = (await (await fetch(b.metricsUrl)).text())
          .split('\n')
          .find((l) => l.startsWith('com_hivemq_networking_connections_current '));
        return Number(line?.split(' ')[1] ?? NaN);
      }),
    );

  const writeBrokers = (n: number): void => {
    writeScrapedBrokersFile(
      brokersFile,
      brokers.slice(0, n).map((b, i) => ({ name: names[i], port: b.mqttPort, metricsUrl: b.metricsUrl, agentUrl: b.agentUrl })),
    );
  };

  beforeAll(async () => {
    // One at a time: three cold JVMs at once on two cores take longer than one after another.
    for (const name of names) brokers.push(await startHiveMQ({ token: TOKEN, brokerName: name }));
    const setup = await planeConfig();
    brokersFile = setup.brokersFile;
    writeBrokers(2);
    const policyFile = path.join(setup.dir, 'policy.yaml');
    // Three equal brokers, said so, and no CPU overload cut: the agent now exports CPU, and
    // on one shared 2-core host, scraped every 300 ms, a JVM's CPU spikes say nothing about
    // its size or load. This suite tests moving clients, not inference or overload.
    fs.writeFileSync(
      policyFile,
      'rebalance: { mode: on, ratePerSec: 100, batchSize: 20, minExcess: 5 }\nsmoothing: { alpha: 1 }\n' +
        'capacity: { classes: { equal: { connections: 1000 } }, default: equal }\noverload: { cpuThreshold: off }\n',
    );
    const tokenFile = path.join(setup.dir, 'agent-token');
    fs.writeFileSync(tokenFile, TOKEN + '\n');
    const config = withOverrides(setup.config, {
      balancing: { mode: 'metrics', policyFile, minPushIntervalMs: 300 },
      // A JVM under load answers /metrics slower than a Node test broker.
      scrape: { intervalMs: 300, timeoutMs: 1000 },
      agent: { tokenFile },
      rebalanceTickMs: 200,
      // A JVM's first CONNECT on a busy machine can take longer than the 500 ms the Node brokers get.
      cluster: { healthCheck: { intervalMs: 2000, timeoutMs: 1500 } },
    });
    admin = `http://127.0.0.1:${config.admin.port}`;
    ({ plane } = await startPlane(config));
    envoy = await startEnvoy({ mode: 'delta', xdsPort: config.xds.port, waitReady: 'live' });
    await untilHealthy(envoy, 2, 'two healthy HiveMQ brokers in Envoy');
    pool = await connectReconnectingClients({
      host: '127.0.0.1',
      port: (config.listener as { port: number }).port,
      count: 90,
      prefix: 'hmq',
      protocolVersion: 5,
      sharedSubscriber: (i) => i % 12 === 0 || i % 12 === 7,
    });
    await waitFor(
      async () => {
        const [a, b] = await counts();
        return a + b === 90;
      },
      { timeoutMs: 20_000, what: '90 clients on the first two brokers' },
    );
  });

  afterAll(async () => {
    await pool?.endAll();
    await envoy?.stop();
    await plane?.stop();
    await Promise.all(brokers.map((b) => b.stop()));
  });

  // What the plane decided while clients moved, printed when an assertion fails: a run that
  // moved too many should say which broker was weighed or cut how, and when.
  const trace: string[] = [];
  const traced = async <T>(body: () => Promise<T>): Promise<T> => {
    const started = Date.now();
    let tracing = true;
    const record = async (): Promise<void> => {
      while (tracing) {
        const s = (await (await fetch(`${admin}/status`)).json()) as {
          decisions?: Array<{ name: string; weight: number; factors: { overload: number }; suspect?: object; slowPage?: string }>;
          rebalance?: { sources?: Record<string, { phase: string; moved: number; budget: number }> };
        };
        const decisions = (s.decisions ?? []).map(
          (d) =>
            `${d.name}=${d.weight}${d.factors.overload !== 1 ? ` overload x${d.factors.overload}` : ''}${d.suspect ? ' suspect' : ''}${d.slowPage ? ' slow' : ''}`,
        );
        const moving = Object.entries(s.rebalance?.sources ?? {}).map(([n, v]) => `${n}:${v.phase} ${v.moved}/${v.budget}`);
        trace.push(`${Date.now() - started}ms lost=${pool.lost()} ${decisions.join(' ')} moving[${moving.join(' ')}]`);
        await new Promise((r) => setTimeout(r, 250));
      }
    };
    const recording = record();
    try {
      return await body();
    } catch (err) {
      console.log(`the plane while clients moved:\n${trace.join('\n')}`);
      throw err;
    } finally {
      tracing = false;
      await recording;
    }
  };

  it('after a third broker joins, moves only the excess to it, shared-subscription members first', () =>
    traced(async () => {
      const before = await Promise.all(brokers.slice(0, 2).map(agentList));
      const excess = before.reduce((n, l) => n + Math.max(0, l.total - 30), 0);
      writeBrokers(3);
      await waitFor(async () => (await counts())[2] >= 27, {
        timeoutMs: 60_000,
        intervalMs: 250,
        what: 'the new broker to hold 90% of its share',
      });
      await waitFor(
        async () => {
          const r = (await (await fetch(`${admin}/rebalance`)).json()) as { sources: object };
          return Object.keys(r.sources).length === 0;
        },
        { timeoutMs: 30_000, what: 'the rebalance to end' },
      );
      await waitFor(() => pool.connected() === 90, { timeoutMs: 20_000, what: 'every client back' });
      await waitFor(async () => (await counts()).reduce((a, b) => a + b, 0) === 90, {
        timeoutMs: 10_000,
        what: 'HiveMQ to count all 90 clients',
      });

      expect(pool.failedAttempts()).toBe(0);
      expect(pool.lost()).toBeGreaterThanOrEqual(excess - 3);
      expect(pool.lost()).toBeLessThanOrEqual(Math.ceil(excess * 1.1));
      // Every moved MQTT 5 client was told to use another server.
      expect(pool.disconnectReasons().get(USE_ANOTHER_SERVER)).toBe(pool.lost());
      const moved = pool.movedIds();
      for (const list of before) {
        const shared = list.clients.filter((c) => c.sharedSubscriber).map((c) => c.clientId);
        const othersMoved = list.clients.filter((c) => !c.sharedSubscriber && moved.has(c.clientId)).length;
        if (othersMoved > 0) expect(shared.filter((id) => !moved.has(id))).toEqual([]);
      }
      for (const n of await counts()) expect(Math.abs(n - 30)).toBeLessThanOrEqual(5);
    }));

  it('drains a broker: every client moves to the others with zero failed reconnects', async () => {
    const lostBefore = pool.lost();
    const held = (await counts())[0];
    expect((await fetch(`${admin}/drain/${names[0]}`, { method: 'POST' })).status).toBe(202);
    await waitFor(async () => ((await (await fetch(`${admin}/drain/${names[0]}`)).json()) as { drained: boolean }).drained, {
      timeoutMs: 60_000,
      intervalMs: 250,
      what: `${names[0]} to be drained`,
    });
    await waitFor(() => pool.connected() === 90, { timeoutMs: 20_000, what: 'every client back' });
    await waitFor(async () => (await counts()).reduce((a, b) => a + b, 0) === 90, {
      timeoutMs: 10_000,
      what: 'HiveMQ to count all 90 clients',
    });
    const after = await counts();
    // The agents list them too: their lists are checked against HiveMQ's every 5 s.
    await waitFor(async () => (await Promise.all(brokers.map(agentList))).reduce((n, l) => n + l.total, 0) === 90, {
      timeoutMs: 20_000,
      what: 'the agents to list all 90 clients',
    });
    expect(after[0]).toBe(0);
    expect(after[1] + after[2]).toBe(90);
    expect(pool.failedAttempts()).toBe(0);
    expect(pool.lost() - lostBefore).toBe(held);
  });
});
