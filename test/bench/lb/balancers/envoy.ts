// The Envoy strategies: one mqtt-xds process (the compiled CLI) serving one or two real
// Envoys over ADS. envoy-rr and envoy-least-request run it with balancing.mode static and
// no weights in the brokers file, so Envoy's own policy decides; mqtt-xds runs it in
// metrics mode, scraping every broker's metricsUrl. Joins and leaves rewrite the watched
// brokers file atomically, as an operator or a discovery source would. With agents, mqtt-xds
// also learns each broker's agentUrl and token, and drains go through its admin API with
// a bearer token, as an operator's would.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { REPO_ROOT } from '../../../../src/util/repo-root';
import { freePort } from '../../../support/ports';
import { startEnvoy, type EnvoyHandle } from '../../../support/envoy';
import { waitFor } from '../../../support/wait';
import { startProc, waitWhileRunning } from '../processes';
import { scrapeTimeoutMs } from '../run-plan';
import type { StrategyName } from '../scenario';
import { capacityWeights } from './capacity-weights';
import type { Balancer, BalancerContext, BrokerAddress, DrainProgress, InstanceView } from './types';

const CLUSTER = 'mqtt_brokers';

/** Envoy's counters of clients closed before reaching a broker (docs/load-shedding.md), by short name. */
export const ENVOY_COUNTERS = {
  rateLimited: 'local_rate_limit.mqtt.rate_limited',
  connectFail: `cluster.${CLUSTER}.upstream_cx_connect_fail`,
  overflow: `cluster.${CLUSTER}.upstream_cx_overflow`,
  pendingOverflow: `cluster.${CLUSTER}.upstream_rq_pending_overflow`,
} as const;

interface PlaneSettings {
  readonly mode: 'static' | 'metrics';
  readonly lbPolicy: 'ROUND_ROBIN' | 'LEAST_REQUEST';
  /** Static weights ∝ capacity in the brokers file (capacity-weights.ts). */
  readonly weighted?: boolean;
  /** The MQTT Wasm filter with `placement: sticky`: the client id is the Maglev hash key (docs/mqtt-filter.md). */
  readonly sticky?: boolean;
}

const SETTINGS: Partial<Record<StrategyName, PlaneSettings>> = {
  'envoy-rr': { mode: 'static', lbPolicy: 'ROUND_ROBIN' },
  'envoy-rr-weighted': { mode: 'static', lbPolicy: 'ROUND_ROBIN', weighted: true },
  'envoy-least-request': { mode: 'static', lbPolicy: 'LEAST_REQUEST' },
  'mqtt-xds': { mode: 'metrics', lbPolicy: 'ROUND_ROBIN' },
  'mqtt-xds-sticky': { mode: 'metrics', lbPolicy: 'ROUND_ROBIN', sticky: true },
  // Maglev under weights that never move (∝ capacity), as haproxy-sticky's: stickiness of the hash itself.
  'mqtt-xds-sticky-static': { mode: 'static', lbPolicy: 'ROUND_ROBIN', weighted: true, sticky: true },
};

/** The filter mqtt-xds sends inline over ECDS; scripts/setup builds it. */
const WASM_FILE = path.join(REPO_ROOT, '.local', 'wasm', 'mqtt-filter.wasm');

/** The scenario's policy with the MQTT filter on and placing by client id; its other mqttFilter keys stay. */
export function stickyPolicyYaml(policyYaml: string | undefined): string {
  const doc = (policyYaml === undefined ? {} : YAML.parse(policyYaml)) as Record<string, unknown> | null;
  const policy = doc ?? {};
  const own = typeof policy.mqttFilter === 'object' && policy.mqttFilter !== null ? policy.mqttFilter : {};
  return YAML.stringify({ ...policy, mqttFilter: { ...own, enabled: true, placement: 'sticky' } });
}

export function isEnvoyStrategy(strategy: StrategyName): boolean {
  return SETTINGS[strategy] !== undefined;
}

export async function startEnvoyBalancer(ctx: BalancerContext): Promise<Balancer> {
  const settings = SETTINGS[ctx.strategy];
  if (!settings) throw new Error(`${ctx.strategy} is not an Envoy strategy`);
  const brokersFile = path.join(ctx.workDir, 'brokers.yaml');
  const present = new Set(ctx.scenario.initialBrokers);
  const metrics = settings.mode === 'metrics';
  const agents = metrics && ctx.scenario.agents && ctx.agentToken !== undefined;
  const weights = settings.weighted ? capacityWeights(ctx.scenario.brokers) : undefined;
  const write = (): void =>
    writeBrokersFile(
      brokersFile,
      [...present].map((n) => ctx.brokers.get(n)!),
      { metrics, agents, ...(weights ? { weights } : {}) },
    );
  write();

  const [xdsPort, adminPort, listenerPort] = [await freePort(), await freePort(), await freePort()];
  const scrape = ctx.scrape ?? { intervalMs: ctx.scenario.scrapeIntervalMs, timeoutMs: scrapeTimeoutMs(ctx.scenario.scrapeIntervalMs) };
  const args = [
    path.join(REPO_ROOT, 'dist', 'src', 'cli.js'),
    '--log-level',
    'warn',
    '--xds-port',
    String(xdsPort),
    '--admin-port',
    String(adminPort),
    '--discovery-brokers-file',
    brokersFile,
    '--listener-address',
    '127.0.0.1',
    '--listener-port',
    String(listenerPort),
    '--balancing-mode',
    settings.mode,
    '--balancing-lb-policy',
    settings.lbPolicy,
    '--scrape-interval-ms',
    String(scrape.intervalMs),
    '--scrape-timeout-ms',
    String(scrape.timeoutMs),
  ];
  // Static mode reads no policy file but the filter's section; the scenario's policy is for metrics.
  const policyYaml = settings.sticky ? stickyPolicyYaml(metrics ? ctx.scenario.policyYaml : undefined) : ctx.scenario.policyYaml;
  if (settings.sticky && !fs.existsSync(WASM_FILE))
    throw new Error(`${WASM_FILE} is missing; run scripts/setup (it builds the MQTT filter)`);
  if ((metrics || settings.sticky) && policyYaml !== undefined) {
    const policyFile = path.join(ctx.workDir, 'policy.yaml');
    fs.writeFileSync(policyFile, policyYaml);
    args.push('--balancing-policy-file', policyFile);
  }
  const adminToken = randomBytes(16).toString('hex');
  if (metrics) {
    const adminTokenFile = path.join(ctx.workDir, 'admin-token');
    fs.writeFileSync(adminTokenFile, `${adminToken}\n`, { mode: 0o600 });
    args.push('--admin-token-file', adminTokenFile);
    if (ctx.scenario.rebalanceTickMs !== undefined) args.push('--rebalance-tick-ms', String(ctx.scenario.rebalanceTickMs));
  }
  if (agents) {
    const agentTokenFile = path.join(ctx.workDir, 'agent-token');
    fs.writeFileSync(agentTokenFile, `${ctx.agentToken}\n`, { mode: 0o600 });
    args.push('--agent-token-file', agentTokenFile);
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
  const how = `${settings.mode}${weights ? ', weights ∝ capacity' : ''}${settings.sticky ? ', MQTT filter, sticky (Maglev)' : ''}${metrics ? `, scrape every ${scrape.intervalMs} ms` : ''}`;
  ctx.log(`mqtt-xds (${how}, ${settings.lbPolicy}) with ${envoys.length} Envoy(s) on 127.0.0.1:${listenerPort}`);

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
    edsPushes: metrics ? () => edsPushes(adminPort) : undefined,
    rebalanceDisconnects: metrics ? () => rebalanceDisconnects(adminPort) : undefined,
    counters: () => envoyCounters(envoys),
    drain: metrics ? (broker) => requestDrain(adminPort, adminToken, broker) : undefined,
    drainStatus: metrics ? (broker) => drainStatus(adminPort, broker) : undefined,
    suspects: metrics ? () => suspects(adminPort, adminToken) : undefined,
    capacities: metrics ? () => capacities(adminPort, adminToken) : undefined,
    stop,
  };
}

function byPort(brokers: ReadonlyMap<string, BrokerAddress>): Map<number, string> {
  return new Map([...brokers.values()].map((b) => [b.port, b.name]));
}

async function envoyView(envoy: EnvoyHandle, instance: string, names: Map<number, string>): Promise<InstanceView> {
  const hosts = await envoy.clusterHosts(CLUSTER);
  const weights: Record<string, number> = {};
  const flags: Record<string, string[]> = {};
  const cxTotal: Record<string, number> = {};
  for (const h of hosts) {
    const name = names.get(h.port) ?? `${h.address}:${h.port}`;
    // An unhealthy or draining host gets no new connections whatever its weight says.
    weights[name] = h.healthy ? h.weight : 0;
    flags[name] = h.healthFlags;
    cxTotal[name] = h.cxTotal;
  }
  const accepted = await envoy.stat('tcp.mqtt.downstream_cx_total');
  return { instance, weights, flags, cxTotal, ...(accepted === undefined ? {} : { accepted }) };
}

/** mqtt_xds_pushes_total{type="eds"} from mqtt-xds's /metrics. */
async function edsPushes(adminPort: number): Promise<number | undefined> {
  const res = await fetch(`http://127.0.0.1:${adminPort}/metrics`);
  if (!res.ok) return undefined;
  const line = (await res.text()).split('\n').find((l) => /^mqtt_xds_pushes_total\{[^}]*type="eds"[^}]*\}/.test(l));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

async function envoyCounters(envoys: readonly EnvoyHandle[]): Promise<Record<string, number>> {
  const wanted = new Map<string, string>(Object.entries(ENVOY_COUNTERS).map(([k, v]) => [v, k]));
  const filter = encodeURIComponent(`^(${[...wanted.keys()].map((n) => n.replace(/\./g, '\\.')).join('|')})$`);
  const out: Record<string, number> = Object.fromEntries([...wanted.values()].map((k) => [k, 0]));
  for (const envoy of envoys) {
    const res = await fetch(`${envoy.adminUrl}/stats?format=json&filter=${filter}`);
    const json = (await res.json()) as { stats?: { name?: string; value?: number }[] };
    for (const s of json.stats ?? []) {
      const key = wanted.get(String(s.name));
      if (key !== undefined) out[key] += Number(s.value ?? 0);
    }
  }
  return out;
}

/** mqtt_xds_rebalance_disconnects_total summed over brokers and kinds. */
async function rebalanceDisconnects(adminPort: number): Promise<number | undefined> {
  const res = await fetch(`http://127.0.0.1:${adminPort}/metrics`);
  if (!res.ok) return undefined;
  return (await res.text())
    .split('\n')
    .filter((l) => l.startsWith('mqtt_xds_rebalance_disconnects_total{'))
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

async function requestDrain(adminPort: number, token: string, broker: string): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${adminPort}/drain/${encodeURIComponent(broker)}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
  });
  const body = await res.text();
  if (res.status !== 202 && res.status !== 200) throw new Error(`POST /drain/${broker} answered ${res.status}: ${body.slice(0, 300)}`);
}

async function drainStatus(adminPort: number, broker: string): Promise<DrainProgress> {
  const res = await fetch(`http://127.0.0.1:${adminPort}/drain/${encodeURIComponent(broker)}`);
  if (!res.ok) throw new Error(`GET /drain/${broker} answered ${res.status}`);
  return (await res.json()) as DrainProgress;
}

/** GET /status's decisions, with the admin token. */
async function statusDecisions(adminPort: number, token: string): Promise<ReadonlyArray<Record<string, unknown>>> {
  const res = await fetch(`http://127.0.0.1:${adminPort}/status`, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`GET /status answered ${res.status}`);
  const status = (await res.json()) as { decisions?: ReadonlyArray<Record<string, unknown>> | null };
  return status.decisions ?? [];
}

/**
 * The brokers whose decision carries a truthy `suspect` (mqtt-xds's verdict that a broker's
 * metrics cannot be trusted), name → reason. A build without the field never flags anyone.
 */
async function suspects(adminPort: number, token: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const d of await statusDecisions(adminPort, token)) {
    if (typeof d?.name !== 'string' || !d.suspect) continue;
    const reason = (d.suspect as { reason?: unknown }).reason;
    out[d.name] = typeof reason === 'string' ? reason : typeof d.suspect === 'string' ? d.suspect : 'suspect';
  }
  return out;
}

/** The capacity (connections at utilisation 1) each broker's decision assumes. */
async function capacities(adminPort: number, token: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const d of await statusDecisions(adminPort, token)) {
    if (typeof d?.name === 'string' && typeof d.capacity === 'number' && Number.isFinite(d.capacity)) out[d.name] = d.capacity;
  }
  return out;
}

/** Written to a temp file and renamed, so the watcher never reads half a file. */
export function writeBrokersFile(
  file: string,
  brokers: readonly BrokerAddress[],
  include: { metrics: boolean; agents: boolean; weights?: ReadonlyMap<string, number> },
): void {
  const body =
    'brokers:\n' +
    brokers
      .map(
        (b) =>
          `  - name: ${b.name}\n    host: ${b.host}\n    port: ${b.port}\n` +
          (include.metrics ? `    metricsUrl: ${b.metricsUrl}\n` : '') +
          (include.agents && b.agentUrl ? `    agentUrl: ${b.agentUrl}\n` : '') +
          (include.weights?.has(b.name) ? `    weight: ${include.weights.get(b.name)}\n` : ''),
      )
      .join('');
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, body);
  fs.renameSync(tmp, file);
}
