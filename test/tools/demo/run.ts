// The demo (`scripts/demo`): three local MQTT brokers with weights 1, 2 and 3, the control
// plane in this process reading .local/demo/brokers.yaml, and a real Envoy in front that
// speaks MQTT over TLS with a certificate from a CA the demo makes.
import fs from 'node:fs';
import path from 'node:path';
import { defaultConfig, validateConfig, withOverrides, type Config } from '../../../src/config';
import { ControlPlane } from '../../../src/main';
import { createLogger } from '../../../src/util/log';
import { formatProblems } from '../../../src/util/result';
import { spawnEnvoy, startBroker, tailFile, type DemoBroker, type EnvoyProcess } from './processes';
import { envoyClusterHosts, portTaken, tcpAccepts, type EnvoyHost } from './probes';
import { REPO_ROOT } from '../../../src/util/repo-root';
import { TestCa } from '../../support/certs';

const HOST = '127.0.0.1';
const WEIGHTS = [1, 2, 3];
// Fixed by envoy/bootstrap-sotw.yaml (admin and xds_cluster), which the demo runs as is.
const ENVOY_ADMIN_PORT = 9901;
const XDS_PORT = 18000;
const ADMIN_PORT = 9090;
const READY_TIMEOUT_MS = 30_000;
const STATUS_EVERY_MS = 10_000;

/** An expected failure: printed as is, without a stack. */
class DemoError extends Error {}

const root = REPO_ROOT;
const demoDir = path.join(root, '.local', 'demo');
const rel = (file: string): string => path.relative(root, file);
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
  const mqttPort = readMqttPort();
  await checkPortsFree(mqttPort);
  fs.mkdirSync(demoDir, { recursive: true });

  say('demo: starting 3 MQTT brokers, the control plane and Envoy ...');
  const script = path.join(root, 'test', 'tools', 'testbroker', 'mqtt-broker.mjs');
  const brokers: DemoBroker[] = [];
  for (let i = 0; i < WEIGHTS.length; i++) {
    const name = `broker-${i + 1}`;
    const broker = await startBroker(script, name, (why) => say(`demo: ${name} ${why}; Envoy's health checks will notice`));
    brokers.push(broker);
    started(name, () => broker.stop());
  }
  if (shuttingDown) return;
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
  say('');
  say(`MQTT over TLS: connect your clients to localhost:${mqttPort}, trusting the demo's CA ${rel(tls.caFile)}, e.g.`);
  say(`  mosquitto_sub --cafile ${rel(tls.caFile)} -h localhost -p ${mqttPort} -t 'demo/#' -v`);
  say('Brokers:');
  brokers.forEach((b, i) => say(`  ${b.name}  ${HOST}:${b.port}  weight ${WEIGHTS[i]}`));
  say(`Edit ${rel(brokersFile)} to change weights or add/remove brokers; changes apply live`);
  say(`Envoy admin: ${adminUrl}  control plane: http://${HOST}:${ADMIN_PORT}/status`);
  say(`Logs: ${rel(logPath)}, ${rel(envoyLog)}`);
  say('Ctrl-C to stop');
  say('');
  setInterval(() => void printStatus(brokers, adminUrl, config.cluster.name), STATUS_EVERY_MS);
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
  const fixed = 'fixed for the demo: stop the process holding it (is a demo already running?)';
  const ports: Array<[number, string]> = [
    [mqttPort, `Envoy's MQTT listener: pick a free port with MQTT_PORT, e.g. MQTT_PORT=${mqttPort === 21883 ? 31883 : 21883} scripts/demo`],
    [XDS_PORT, `control plane xDS, named in envoy/bootstrap-sotw.yaml; ${fixed}`],
    [ADMIN_PORT, `control plane admin; ${fixed}`],
    [ENVOY_ADMIN_PORT, `Envoy admin, named in envoy/bootstrap-sotw.yaml; ${fixed}`],
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

function brokersYaml(brokers: readonly DemoBroker[]): string {
  const entries = brokers.map((b, i) => `  - name: ${b.name}\n    host: ${HOST}\n    port: ${b.port}\n    weight: ${WEIGHTS[i]}\n`);
  return (
    '# Written by the demo at each start (the brokers get new ports). Edit while it runs:\n' +
    '# weights, added or removed brokers reach Envoy within a second.\nbrokers:\n' +
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
  });
  const problems = validateConfig(config);
  if (problems.length > 0) throw new Error(`demo config is invalid: ${formatProblems(problems)}`);
  return config;
}

function startEnvoy(logPath: string): EnvoyProcess {
  const binary = path.join(root, '.local', 'envoy', 'bin', 'envoy');
  if (!fs.existsSync(binary)) throw new DemoError(`Envoy is not installed at ${rel(binary)}; run: bash scripts/setup`);
  const args = ['--disable-hot-restart', '--concurrency', '1', '--log-level', 'warn', '-c', 'envoy/bootstrap-sotw.yaml'];
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

async function printStatus(brokers: readonly DemoBroker[], adminUrl: string, cluster: string): Promise<void> {
  const hosts = await envoyClusterHosts(adminUrl, cluster);
  const byPort = new Map((hosts ?? []).map((h) => [h.port, h]));
  const parts = brokers.map((b) => {
    if (!b.running()) return `${b.name}: down`;
    const host = byPort.get(b.port);
    byPort.delete(b.port);
    const envoySide = hosts === undefined ? 'weight ?' : host === undefined ? 'not in Envoy' : `weight ${host.weight}${health(host)}`;
    return `${b.name}: ${b.clientCount()} clients, ${envoySide}`;
  });
  // Hosts added by editing the file that are not one of the demo's brokers.
  for (const h of byPort.values()) parts.push(`${h.address}:${h.port}: weight ${h.weight}${health(h)}`);
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
    say('\ndemo: stopping Envoy, the control plane and the brokers ...');
    void shutdown(0);
  });
}

main().catch(async (err: Error) => {
  process.stderr.write(`demo: ${err instanceof DemoError ? err.message : (err.stack ?? err.message)}\n`);
  await shutdown(1);
});
