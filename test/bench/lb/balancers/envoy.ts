// The Envoy strategies: one mqtt-xds process (the compiled CLI) serving one or two real
// Envoys over ADS. envoy-rr and envoy-least-request run it with balancing.mode static and
// no weights in the brokers file, so Envoy's own policy decides; mqtt-xds runs it in
// metrics mode, scraping every broker's metricsUrl. Joins and leaves rewrite the watched
// brokers file atomically, as an operator or a discovery source would.
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../../../src/util/repo-root';
import { freePort } from '../../../support/ports';
import { startEnvoy, type EnvoyHandle } from '../../../support/envoy';
import { waitFor } from '../../../support/wait';
import { startProc, waitWhileRunning } from '../processes';
import type { StrategyName } from '../scenario';
import type { Balancer, BalancerContext, BrokerAddress, InstanceView } from './types';

const CLUSTER = 'mqtt_brokers';

interface PlaneSettings {
  readonly mode: 'static' | 'metrics';
  readonly lbPolicy: 'ROUND_ROBIN' | 'LEAST_REQUEST';
}

const SETTINGS: Partial<Record<StrategyName, PlaneSettings>> = {
  'envoy-rr': { mode: 'static', lbPolicy: 'ROUND_ROBIN' },
  'envoy-least-request': { mode: 'static', lbPolicy: 'LEAST_REQUEST' },
  'mqtt-xds': { mode: 'metrics', lbPolicy: 'ROUND_ROBIN' },
};

export function isEnvoyStrategy(strategy: StrategyName): boolean {
  return SETTINGS[strategy] !== undefined;
}

export async function startEnvoyBalancer(ctx: BalancerContext): Promise<Balancer> {
  const settings = SETTINGS[ctx.strategy];
  if (!settings) throw new Error(`${ctx.strategy} is not an Envoy strategy`);
  const brokersFile = path.join(ctx.workDir, 'brokers.yaml');
  const present = new Set(ctx.scenario.initialBrokers);
  const write = (): void => writeBrokersFile(brokersFile, [...present].map((n) => ctx.brokers.get(n)!), settings.mode === 'metrics');
  write();

  const [xdsPort, adminPort, listenerPort] = [await freePort(), await freePort(), await freePort()];
  const args = [
    path.join(REPO_ROOT, 'dist', 'src', 'cli.js'),
    '--log-level', 'warn',
    '--xds-port', String(xdsPort),
    '--admin-port', String(adminPort),
    '--discovery-brokers-file', brokersFile,
    '--listener-address', '127.0.0.1',
    '--listener-port', String(listenerPort),
    '--balancing-mode', settings.mode,
    '--balancing-lb-policy', settings.lbPolicy,
    '--scrape-interval-ms', String(ctx.scenario.scrapeIntervalMs),
    // mqtt-xds wants a scrape to end before the next one starts.
    '--scrape-timeout-ms', String(Math.max(50, Math.min(2000, Math.floor(ctx.scenario.scrapeIntervalMs / 2)))),
  ];
  if (settings.mode === 'metrics' && ctx.scenario.policyYaml !== undefined) {
    const policyFile = path.join(ctx.workDir, 'policy.yaml');
    fs.writeFileSync(policyFile, ctx.scenario.policyYaml);
    args.push('--balancing-policy-file', policyFile);
  }
  const plane = startProc('mqtt-xds', process.execPath, args, { cwd: ctx.workDir });
  fs.writeFileSync(path.join(ctx.workDir, 'mqtt-xds.args'), args.join(' ') + '\n');
  const envoys: EnvoyHandle[] = [];
  const stop = async (): Promise<void> => {
    fs.writeFileSync(path.join(ctx.workDir, 'mqtt-xds.log'), plane.logs());
    await Promise.all(envoys.map((e) => e.stop()));
    await plane.stop('SIGTERM', 8000);
  };
  try {
    await waitWhileRunning(
      plane,
      waitFor(async () => (await fetch(`http://127.0.0.1:${adminPort}/readyz`)).ok, { timeoutMs: 20_000, what: 'mqtt-xds /readyz' }),
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n--- mqtt-xds output ---\n${plane.logs()}`);
    });
    for (let i = 1; i <= ctx.scenario.envoys; i++) {
      envoys.push(await startEnvoy({ mode: 'sotw', xdsPort, nodeId: `bench-envoy-${i}`, waitReady: 'live' }));
    }
    const names = byPort(ctx.brokers);
    for (const envoy of envoys) {
      await waitFor(
        async () => {
          const hosts = await envoy.clusterHosts(CLUSTER);
          return hosts.length === present.size && hosts.every((h) => h.healthy && names.has(h.port));
        },
        { timeoutMs: 60_000, intervalMs: 250, what: `Envoy ${envoy.adminUrl} to hold ${present.size} healthy brokers` },
      );
    }
  } catch (err) {
    await stop();
    throw err;
  }
  ctx.log(`mqtt-xds (${settings.mode}, ${settings.lbPolicy}) with ${envoys.length} Envoy(s) on 127.0.0.1:${listenerPort}`);

  return {
    endpoint: { host: '127.0.0.1', port: listenerPort },
    join: async (broker) => {
      present.add(broker);
      write();
    },
    leave: async (broker) => {
      present.delete(broker);
      write();
    },
    views: () => Promise.all(envoys.map((e, i) => envoyView(e, `envoy-${i + 1}`, byPort(ctx.brokers)))),
    edsPushes: settings.mode === 'metrics' ? () => edsPushes(adminPort) : undefined,
    stop,
  };
}

function byPort(brokers: ReadonlyMap<string, BrokerAddress>): Map<number, string> {
  return new Map([...brokers.values()].map((b) => [b.port, b.name]));
}

async function envoyView(envoy: EnvoyHandle, instance: string, names: Map<number, string>): Promise<InstanceView> {
  const hosts = await envoy.clusterHosts(CLUSTER);
  const weights: Record<string, number> = {};
  // An unhealthy or draining host gets no new connections whatever its weight says.
  for (const h of hosts) weights[names.get(h.port) ?? `${h.address}:${h.port}`] = h.healthy ? h.weight : 0;
  const accepted = await envoy.stat('tcp.mqtt.downstream_cx_total');
  return { instance, weights, ...(accepted === undefined ? {} : { accepted }) };
}

/** mqtt_xds_pushes_total{type="eds"} from mqtt-xds's /metrics. */
async function edsPushes(adminPort: number): Promise<number | undefined> {
  const res = await fetch(`http://127.0.0.1:${adminPort}/metrics`);
  if (!res.ok) return undefined;
  const line = (await res.text()).split('\n').find((l) => /^mqtt_xds_pushes_total\{[^}]*type="eds"[^}]*\}/.test(l));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** Written to a temp file and renamed, so the watcher never reads half a file. */
export function writeBrokersFile(file: string, brokers: readonly BrokerAddress[], withMetrics: boolean): void {
  const body =
    'brokers:\n' +
    brokers
      .map(
        (b) =>
          `  - name: ${b.name}\n    host: ${b.host}\n    port: ${b.port}\n` +
          (withMetrics ? `    metricsUrl: ${b.metricsUrl}\n` : ''),
      )
      .join('');
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, body);
  fs.renameSync(tmp, file);
}
