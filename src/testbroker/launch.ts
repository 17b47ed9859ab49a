// Starts capacity test brokers (capacity-broker.ts) as child processes, for integration
// tests, benchmarks and the demo. It forks the compiled JavaScript in dist/, because the
// broker loads aedes (an ES module) at run time, which ts-jest's CommonJS runtime cannot;
// so the repository must be built first (`npm run build`).
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import type { BrokerState } from './capacity-admin';
import { capacityBrokerArgs, type CapacityBrokerOptions } from './capacity-config';
import type { ClientInfo } from './capacity-ledger';
import { REPO_ROOT } from '../util/repo-root';

export interface LaunchOptions extends Partial<CapacityBrokerOptions> {
  readonly name: string;
  readonly capacity: number;
  /** Give up waiting for the ready message after this long. Default 15 000 ms. */
  readonly startTimeoutMs?: number;
  /** The compiled broker; default <repo>/dist/src/testbroker/capacity-broker.js. */
  readonly script?: string;
}

export interface AdminReply {
  readonly status: number;
  readonly body: unknown;
}

export interface LaunchedBroker {
  readonly name: string;
  readonly host: string;
  /** MQTT port. */
  readonly port: number;
  readonly metricsPort: number;
  /** http://host:metricsPort/metrics */
  readonly metricsUrl: string;
  /** http://host:metricsPort/admin */
  readonly adminUrl: string;
  readonly pid: number;
  /** The last lines the broker printed, for error messages. */
  logs(): string;
  /** GET /metrics. */
  metrics(): Promise<string>;
  /** GET /admin/state. */
  state(): Promise<BrokerState>;
  /** GET /admin/clients. */
  clients(): Promise<ClientInfo[]>;
  /** POST /admin/<action> with a JSON body, e.g. post('overload', { level: 5 }). */
  post(action: 'disconnect' | 'overload' | 'load', body: unknown): Promise<AdminReply>;
  /** Asks the broker to close (SIGKILL after 5 s); resolves once it exited. Safe to call twice. */
  stop(): Promise<void>;
  /** SIGKILL: a crash, as clients would see one. */
  kill(): Promise<void>;
}

interface ReadyMessage {
  type: 'ready';
  host: string;
  port: number;
  metricsPort: number;
}

export function capacityBrokerScript(): string {
  return path.join(REPO_ROOT, 'dist', 'src', 'testbroker', 'capacity-broker.js');
}

export async function launchCapacityBroker(options: LaunchOptions): Promise<LaunchedBroker> {
  const { startTimeoutMs = 15_000, script = capacityBrokerScript(), ...brokerOptions } = options;
  if (!fs.existsSync(script)) {
    throw new Error(`the capacity test broker is not built: ${script} is missing; run \`npm run build\` first`);
  }
  const child = fork(script, capacityBrokerArgs(brokerOptions), {
    // A jest worker's node flags are not for the broker.
    execArgv: [],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  reapOnExit(child);
  const lines: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    readline.createInterface({ input: stream }).on('line', (line) => {
      lines.push(line);
      if (lines.length > 200) lines.shift();
    });
  }
  const logs = (): string => lines.join('\n');

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= stopChild(child, 5000, () => (child.connected ? child.send({ type: 'stop' }) : child.kill('SIGTERM'))));
  const kill = (): Promise<void> => (stopping ??= stopChild(child, 0, () => child.kill('SIGKILL')));

  const ready = await new Promise<ReadyMessage>((resolve, reject) => {
    let settled = false;
    const give = (why: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void kill().then(() =>
        reject(new Error(`capacity broker ${options.name} did not start: ${why}\n--- broker output ---\n${logs()}`)),
      );
    };
    const timer = setTimeout(() => give(`no ready message after ${startTimeoutMs} ms`), startTimeoutMs);
    child.on('message', (msg: { type?: string; message?: string }) => {
      if (msg?.type === 'ready' && !settled) {
        settled = true;
        clearTimeout(timer);
        resolve(msg as ReadyMessage);
      } else if (msg?.type === 'error') {
        give(String(msg.message));
      }
    });
    child.once('exit', (code, signal) => give(`exited with ${signal ?? `code ${code}`}`));
    child.once('error', (err) => give(err.message));
  });

  const base = `http://${hostForUrl(ready.host)}:${ready.metricsPort}`;
  const getJson = async <T>(url: string): Promise<T> => {
    const res = await fetch(url);
    if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  return {
    name: options.name,
    host: ready.host,
    port: ready.port,
    metricsPort: ready.metricsPort,
    metricsUrl: `${base}/metrics`,
    adminUrl: `${base}/admin`,
    pid: child.pid ?? -1,
    logs,
    metrics: async () => {
      const res = await fetch(`${base}/metrics`);
      if (!res.ok) throw new Error(`GET ${base}/metrics: HTTP ${res.status}`);
      return res.text();
    },
    state: () => getJson<BrokerState>(`${base}/admin/state`),
    clients: () => getJson<ClientInfo[]>(`${base}/admin/clients`),
    post: async (action, body) => {
      const res = await fetch(`${base}/admin/${action}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: await res.json() };
    },
    stop,
    kill,
  };
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function stopChild(child: ChildProcess, graceMs: number, ask: () => void): Promise<void> {
  const exited =
    child.exitCode !== null || child.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (child.exitCode !== null || child.signalCode !== null) return exited;
  // The child is unref'd (see reapOnExit); while stopping, its exit must keep the caller
  // alive, or a caller with nothing else to do would quit before seeing it.
  child.ref();
  try {
    ask();
  } catch {
    // The channel or the process may be gone already; the SIGKILL below still applies.
  }
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  return exited.finally(() => clearTimeout(timer));
}

// A broker exits by itself when its IPC parent goes away; this also covers a parent that
// exits while the broker is still starting. The child and its pipes are unref'd so that a
// caller that forgets stop() is not kept waiting on them.
const alive = new Set<ChildProcess>();
const killAlive = (): void => {
  for (const child of alive) child.kill('SIGKILL');
};

function reapOnExit(child: ChildProcess): void {
  child.unref();
  for (const stream of [child.stdout, child.stderr]) (stream as { unref?: () => void } | null)?.unref?.();
  child.channel?.unref();
  if (alive.size === 0) process.once('exit', killAlive);
  alive.add(child);
  const forget = (): void => {
    if (alive.delete(child) && alive.size === 0) process.removeListener('exit', killAlive);
  };
  child.once('exit', forget);
  child.once('error', () => {
    if (child.pid === undefined) forget();
  });
}
