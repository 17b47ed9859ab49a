// The demo (`scripts/demo [--load[=N]]`): three capacity test brokers of sizes 1:2:4,
// clustered so that clients meet wherever they land, the control plane in this process
// weighing them from their metrics (.local/demo/brokers.yaml lists them, no weights), and
// a real Envoy in front that speaks MQTT over TLS with a certificate from a CA the demo
// makes. With --load, simulated clients give the brokers work and the weights follow
// capacity. docs/demo.md.
import fs from 'node:fs';
import path from 'node:path';
import { defaultConfig, validateConfig, withOverrides, type Config } from '../../../src/config';
import { ControlPlane } from '../../../src/main';
import { createLogger } from '../../../src/util/log';
import { formatProblems } from '../../../src/util/result';
import { spawnEnvoy, tailFile, type EnvoyProcess } from './processes';
import { envoyClusterHosts, portTaken, tcpAccepts, type EnvoyHost } from './probes';
import { parseLoadFlag, startLoad, type Load } from './load';
import { REPO_ROOT } from '../../../src/util/repo-root';
import { TestCa } from '../../support/certs';
import { renderBootstrap } from '../../support/envoy-bootstrap';
import { launchCapacityBroker, meshBrokers, type BrokerState, type LaunchedBroker } from '../testbroker';

const HOST = '127.0.0.1';
/** Cost units per second each broker handles at utilisation 1 (docs/test-broker.md): sizes 1:2:4. */
const CAPACITIES = [150, 300, 600];
// The defaults of envoy/bootstrap-sotw.yaml (admin and xds_cluster); DEMO_* variables move
// them, so two demos (or the demo's test) can run side by side.
const ENVOY_ADMIN_PORT = envPort('DEMO_ENVOY_ADMIN_PORT', 9901);
const XDS_PORT = envPort('DEMO_XDS_PORT', 18000);
const ADMIN_PORT = envPort('DEMO_ADMIN_PORT', 9090);
const READY_TIMEOUT_MS = 30_000;
const STATUS_EVERY_MS = 5_000;

/** An expected failure: printed as is, without a stack. */
class DemoError extends Error {}

const root = REPO_ROOT;
const demoDir = process.env.DEMO_DIR ? path.resolve(process.env.DEMO_DIR) : path.join(root, '.local', 'demo');
/** Relative to the repository when inside it (the commands are run from there), else absolute. */
const rel = (file: string): string => (path.relative(root, file).startsWith('..') ? file : path.relative(root, file));
const say = (line = ''): void => void process.stdout.write(line + '\n');

/** Stops what was started, newest first: Envoy, then the control plane, then the brokers. */
const stops: Array<{ what: string; stop: () => Promise<void> }> = [];
let shuttingDown: Promise<never> | undefined;

/** Remembers how to stop `what`; stops it at once if the demo is already stopping. */
function started(what: string, stop: () => Promise<void>): void {
  if (shuttingDown) void stop().catch(() => undefined);
  else stops.push({ what, stop });
}

async function main(): Promise<void> {
  const flags = parseLoadFlag(process.argv.slice(2));
  if ('error' in flags) throw new DemoError(flags.error);
  const mqttPort = readMqttPort();
  await checkPortsFree(mqttPort);
  fs.mkdirSync(demoDir, { recursive: true });

  say(`demo: starting 3 clustered MQTT brokers (capacities ${CAPACITIES.join(', ')}), the control plane and Envoy ...`);
  const brokers: LaunchedBroker[] = [];
  for (let i = 0; i < CAPACITIES.length; i++) {
    const name = `broker-${i + 1}`;
    let broker: LaunchedBroker;
    try {
      broker = await launchCapacityBroker({ name, capacity: CAPACITIES[i], clusterPort: 0 });
    } catch (err) {
      throw new DemoError(`${name} did not start: ${(err as Error).message}`);
    }
    brokers.push(broker);
    started(name, () => broker.stop());
  }
  if (shuttingDown) return;
  // Every broker delivers what any of them receives: a subscriber and a publisher meet
  // wherever Envoy puts them, as on a HiveMQ cluster.
  await meshBrokers(brokers);
  const tls = demoCertificates();
  const brokersFile = path.join(demoDir, 'brokers.yaml');
  // Always rewritten: the brokers got new ports, so last run's file would point nowhere.
  fs.writeFileSync(brokersFile, brokersYaml(brokers));

  const config = demoConfig(brokersFile, mqttPort, tls);
  const logPath = path.join(demoDir, 'control-plane.log');
  const logFd = fs.openSync(logPath, 'w');
  const logger = createLogger(config.logLevel, { component: 'mqtt-xds' }, (line) => fs.writeSync(logFd, line + '\n'));
  const plane = new ControlPlane({ config, logger });
  started('control plane', () => plane.stop());
  try {
    await plane.start();
  } catch (err) {
    throw new DemoError(`the control plane did not start: ${(err as Error).message} (log: ${rel(logPath)})`);
  }
  if (shuttingDown) return;

  const envoyLog = path.join(demoDir, 'envoy.log');
  const envoy = startEnvoy(envoyLog);
  started('Envoy', () => envoy.stop());
  await waitUntilServing(envoy, config, brokers.length, envoyLog);
  if (shuttingDown) return;
  void envoy.exited.then(async (how) => {
    if (shuttingDown) return;
    say(`demo: Envoy exited unexpectedly (${how}); last lines of ${rel(envoyLog)}:\n${tailFile(envoyLog, 20)}`);
    await shutdown(1);
  });

  const adminUrl = `http://${HOST}:${ENVOY_ADMIN_PORT}`;
  const ca = rel(tls.caFile);
  say('');
  say(`MQTT over TLS: connect your clients to localhost:${mqttPort}, trusting the demo's CA ${ca}, e.g.`);
  say(`  mosquitto_sub --cafile ${ca} -h localhost -p ${mqttPort} -t 'demo/#' -v`);
  say(`  mosquitto_pub --cafile ${ca} -h localhost -p ${mqttPort} -t demo/hello -m hi`);
  say('The brokers are clustered: the two meet even when Envoy sends them to different brokers.');
  say('Brokers (weights come from their metrics; none is pinned):');
  brokers.forEach((b, i) => say(`  ${b.name}  ${HOST}:${b.port}  capacity ${CAPACITIES[i]}  metrics ${b.metricsUrl}`));
  say(`Status page: http://${HOST}:${ADMIN_PORT}/ui  (no token: the admin port listens on loopback only)`);
  say(`Envoy admin: ${adminUrl}  control plane: http://${HOST}:${ADMIN_PORT}/status`);
  say(`Edit ${rel(brokersFile)} to add or remove brokers, or pin a weight; changes apply live`);
  say(`Logs: ${rel(logPath)}, ${rel(envoyLog)}`);
  let load: Load | undefined;
  if (flags.clients !== undefined) {
    load = startLoad({ host: HOST, port: mqttPort, caFile: tls.caFile, clients: flags.clients });
    started('load', () => load?.stop() ?? Promise.resolve());
    say(`Load: ${flags.clients} simulated clients connect (10 a second), each publishing 1 message a second;`);
    say('  the small broker fills first, and the weights move to follow capacity');
  } else {
    say('Run with --load to add simulated clients and watch the weights follow capacity');
  }
  say('Ctrl-C to stop');
  say('');
  setInterval(() => void printStatus(brokers, adminUrl, config.cluster.name, load), STATUS_EVERY_MS);
}

/** A port from the environment, for running beside another demo; `fallback` when unset. */
function envPort(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const port = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || port < 1 || port > 65535) {
    process.stderr.write(`demo: ${name}=${raw} is not a TCP port; use an integer in 1..65535\n`);
    process.exit(2);
  }
  return port;
}

function readMqttPort(): number {
  const raw = process.env.MQTT_PORT;
  if (raw === undefined || raw.trim() === '') return 11883;
  const port = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || port < 1 || port > 65535) {
    throw new DemoError(`MQTT_PORT=${raw} is not a TCP port; use an integer in 1..65535, e.g. MQTT_PORT=21883`);
  }
  return port;
}

async function checkPortsFree(mqttPort: number): Promise<void> {
  const fixed = 'stop the process holding it (is a demo already running?) or move it';
  const ports: Array<[number, string]> = [
    [mqttPort, `Envoy's MQTT listener: pick a free port with MQTT_PORT, e.g. MQTT_PORT=${mqttPort === 21883 ? 31883 : 21883} scripts/demo`],
    [XDS_PORT, `control plane xDS (DEMO_XDS_PORT); ${fixed}`],
    [ADMIN_PORT, `control plane admin and status page (DEMO_ADMIN_PORT); ${fixed}`],
    [ENVOY_ADMIN_PORT, `Envoy admin (DEMO_ENVOY_ADMIN_PORT); ${fixed}`],
  ];
  const taken: Array<[number, string]> = [];
  for (const [port, role] of ports) {
    if (await portTaken(HOST, port)) taken.push([port, `  ${HOST}:${port} is in use (${role})`]);
  }
  if (taken.length > 0) {
    const lines = taken.map(([, line]) => line).join('\n');
    throw new DemoError(`cannot start, ports taken:\n${lines}\nTo see who holds one: ss -ltnp 'sport = :${taken[0][0]}'`);
  }
}

function brokersYaml(brokers: readonly LaunchedBroker[]): string {
  const entries = brokers.map((b) => `  - name: ${b.name}\n    host: ${HOST}\n    port: ${b.port}\n    metricsUrl: ${b.metricsUrl}\n`);
  return (
    '# Written by the demo at each start (the brokers get new ports). No weights: mqtt-xds\n' +
    '# computes them from each metricsUrl. Edit while it runs (a `weight:` pins a broker);\n' +
    '# changes reach Envoy within a second.\nbrokers:\n' +
    entries.join('')
  );
}

interface DemoTls {
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

/**
 * A local CA made afresh at each start, and a certificate it signs for localhost and
 * 127.0.0.1: Envoy gets it over SDS, and clients trust the CA's file.
 */
function demoCertificates(): DemoTls {
  const dir = path.join(demoDir, 'tls');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  try {
    const ca = new TestCa('mqtt-xds demo CA', dir);
    const leaf = ca.issue('server', { commonName: 'localhost', san: ['DNS:localhost', 'IP:127.0.0.1'], days: 30 });
    return { caFile: ca.ca.certFile, certFile: leaf.certFile, keyFile: leaf.keyFile };
  } catch (err) {
    throw new DemoError(`cannot make the demo's TLS certificates with openssl (is it installed?): ${(err as Error).message}`);
  }
}

function demoConfig(brokersFile: string, mqttPort: number, tls: DemoTls): Config {
  const config = withOverrides(defaultConfig(root), {
    logLevel: 'info',
    discovery: { brokersFile },
    listener: { address: HOST, port: mqttPort, tls: { certFile: tls.certFile, keyFile: tls.keyFile } },
    xds: { host: HOST, port: XDS_PORT },
    admin: { host: HOST, port: ADMIN_PORT },
    cluster: { healthCheck: { intervalMs: 2000, timeoutMs: 1000 } },
    // Weights from the brokers' metrics, scraped every second so a demo shows changes soon.
    balancing: { mode: 'metrics' },
    scrape: { intervalMs: 1000, timeoutMs: 800 },
  });
  const problems = validateConfig(config);
  if (problems.length > 0) throw new Error(`demo config is invalid: ${formatProblems(problems)}`);
  return config;
}

function startEnvoy(logPath: string): EnvoyProcess {
  const binary = process.env.ENVOY_BIN || path.join(root, '.local', 'envoy', 'bin', 'envoy');
  if (!fs.existsSync(binary)) throw new DemoError(`Envoy is not installed at ${rel(binary)}; run: bash scripts/setup`);
  // envoy/bootstrap-sotw.yaml with the demo's ports (the same file when none was moved).
  const bootstrap = path.join(demoDir, 'envoy-bootstrap.json');
  const doc = renderBootstrap('sotw', { nodeId: 'envoy-edge-1', adminPort: ENVOY_ADMIN_PORT, xdsPort: XDS_PORT });
  fs.writeFileSync(bootstrap, JSON.stringify(doc, null, 2));
  const args = ['--disable-hot-restart', '--concurrency', '1', '--log-level', 'warn', '-c', bootstrap];
  return spawnEnvoy(binary, args, root, logPath);
}

/** Until the cluster has every broker healthy and the MQTT listener accepts TCP. */
async function waitUntilServing(envoy: EnvoyProcess, config: Config, brokerCount: number, logPath: string): Promise<void> {
  const adminUrl = `http://${HOST}:${ENVOY_ADMIN_PORT}`;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = 'Envoy admin did not answer';
  let exited: string | undefined;
  void envoy.exited.then((how) => (exited = how));
  while (Date.now() < deadline && exited === undefined) {
    const hosts = await envoyClusterHosts(adminUrl, config.cluster.name);
    if (hosts !== undefined) last = describeCluster(config.cluster.name, hosts, brokerCount);
    if (last === '' && (await tcpAccepts(HOST, config.listener.port))) return;
    if (last === '') last = `the MQTT listener on ${HOST}:${config.listener.port} does not accept connections`;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const why = exited !== undefined ? `Envoy exited (${exited})` : `not ready after ${READY_TIMEOUT_MS / 1000} s: ${last}`;
  throw new DemoError(`Envoy is not serving MQTT: ${why}\nlast lines of ${rel(logPath)}:\n${tailFile(logPath, 20)}`);
}

/** '' when the cluster holds `count` hosts, all healthy; else what is missing. */
function describeCluster(name: string, hosts: readonly EnvoyHost[], count: number): string {
  if (hosts.length !== count) return `cluster ${name} has ${hosts.length} of ${count} hosts`;
  const sick = hosts.filter((h) => h.healthFlags.length > 0);
  if (sick.length === 0) return '';
  return `not healthy yet: ${sick.map((h) => `${h.address}:${h.port} (${h.healthFlags.join(', ')})`).join('; ')}`;
}

async function printStatus(brokers: readonly LaunchedBroker[], adminUrl: string, cluster: string, load: Load | undefined): Promise<void> {
  const hosts = await envoyClusterHosts(adminUrl, cluster);
  const byPort = new Map((hosts ?? []).map((h) => [h.port, h]));
  const states = await Promise.all(brokers.map((b) => b.state().catch(() => undefined)));
  const parts = brokers.map((b, i) => {
    const state: BrokerState | undefined = states[i];
    if (!state) return `${b.name}: down`;
    const host = byPort.get(b.port);
    byPort.delete(b.port);
    const envoySide = hosts === undefined ? 'weight ?' : host === undefined ? 'not in Envoy' : `weight ${host.weight}${health(host)}`;
    return `${b.name} (cap ${state.capacity}): ${state.connections} clients, util ${Math.round(state.utilisation * 100)}%, ${envoySide}`;
  });
  // Hosts added by editing the file that are not one of the demo's brokers.
  for (const h of byPort.values()) parts.push(`${h.address}:${h.port}: weight ${h.weight}${health(h)}`);
  if (load) parts.push(`load ${load.connected()}/${load.started()} connected`);
  if (shuttingDown) return;
  say(`[${new Date().toTimeString().slice(0, 8)}] ${parts.join(' | ')}`);
}

function health(h: EnvoyHost): string {
  return h.healthFlags.length > 0 ? ` (${h.healthFlags.join(', ')})` : '';
}

/** Stops everything once, in order, then exits with the first caller's `code`. */
function shutdown(code: number): Promise<never> {
  return (shuttingDown ??= (async () => {
    for (const { what, stop } of [...stops].reverse()) {
      try {
        await stop();
      } catch (err) {
        process.stderr.write(`demo: stopping ${what} failed: ${(err as Error).message}\n`);
      }
    }
    process.exit(code);
  })());
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (shuttingDown) return;
    say('\ndemo: stopping the load, Envoy, the control plane and the brokers ...');
    void shutdown(0);
  });
}

main().catch(async (err: Error) => {
  process.stderr.write(`demo: ${err instanceof DemoError ? err.message : (err.stack ?? err.message)}\n`);
  await shutdown(1);
});
