// The demo's child processes: the MQTT brokers and Envoy. Each can be stopped in order,
// and none should outlive the demo (see the comments on `detached` below).
import { fork, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { awaitReady } from '../../../src/util/child-process';

export interface DemoBroker {
  readonly name: string;
  readonly port: number;
  /** Clients connected right now, as last reported by the broker over IPC. */
  clientCount(): number;
  running(): boolean;
  /** Asks the broker to close, SIGKILLs it after 5 s. Safe to call twice. */
  stop(): Promise<void>;
}

/** Forks `script` (test/tools/testbroker/mqtt-broker.mjs) on a free port of 127.0.0.1. */
export async function startBroker(
  script: string,
  name: string,
  onExit: (why: string) => void,
  startTimeoutMs = 15_000,
): Promise<DemoBroker> {
  const child = fork(script, [], {
    env: { ...process.env, BROKER_NAME: name, BROKER_PORT: '0' },
    execArgv: [],
    // Its own process group, so a terminal Ctrl-C reaches only the demo, which then stops
    // the brokers after Envoy. A broker exits by itself when the IPC channel closes,
    // so it cannot outlive the demo even when the demo is killed.
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  const stderr: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString('utf8')));
  let clients = 0;
  let stopping = false;
  child.on('message', (msg: { type?: string; count?: number }) => {
    if (msg?.type === 'clients') clients = Number(msg.count);
  });

  const { port } = await awaitReady<{ type: 'ready'; port: number }>(child, {
    what: `broker ${name}`,
    timeoutMs: startTimeoutMs,
    abort: () => void child.kill('SIGKILL'),
    output: () => stderr.join(''),
  });
  child.once('exit', (code, signal) => {
    if (!stopping) onExit(`exited with ${signal ?? `code ${code}`}`);
  });

  let stopped: Promise<void> | undefined;
  return {
    name,
    port,
    clientCount: () => clients,
    running: () => isRunning(child),
    stop: () => {
      stopping = true;
      return (stopped ??= stopChild(child, () => (child.connected ? child.send({ type: 'stop' }) : child.kill('SIGTERM'))));
    },
  };
}

export interface EnvoyProcess {
  readonly pid: number | undefined;
  running(): boolean;
  /** Resolves with how Envoy ended, whoever ended it. */
  readonly exited: Promise<string>;
  /** SIGTERM, SIGKILL after 5 s. Safe to call twice. */
  stop(): Promise<void>;
}

/** Starts Envoy with stdout and stderr appended to `logPath`. */
export function spawnEnvoy(binary: string, args: readonly string[], cwd: string, logPath: string): EnvoyProcess {
  const fd = fs.openSync(logPath, 'w');
  // Same process group as the demo (not detached): unlike a broker, Envoy does not notice
  // its parent going away, so a terminal's SIGINT or SIGHUP must reach it directly.
  const child = spawn(binary, args, { cwd, stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  const kill = (): void => {
    if (isRunning(child)) child.kill('SIGKILL');
  };
  // Last resort when the demo exits without stopping Envoy (an uncaught error).
  process.once('exit', kill);
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => {
      process.removeListener('exit', kill);
      resolve(signal ?? `code ${code}`);
    });
    child.once('error', (err) => {
      process.removeListener('exit', kill);
      resolve(err.message);
    });
  });
  let stopped: Promise<void> | undefined;
  return {
    pid: child.pid,
    running: () => isRunning(child),
    exited,
    stop: () => (stopped ??= stopChild(child, () => child.kill('SIGTERM'))),
  };
}

/** The last `count` lines of a text file, or a note saying why there are none. */
export function tailFile(file: string, count: number): string {
  try {
    const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
    return lines.length === 1 && lines[0] === '' ? '(empty)' : lines.slice(-count).join('\n');
  } catch (err) {
    return `(cannot read ${file}: ${(err as Error).message})`;
  }
}

function isRunning(child: ChildProcess): boolean {
  return child.pid !== undefined && child.exitCode === null && child.signalCode === null;
}

async function stopChild(child: ChildProcess, ask: () => void, graceMs = 5000): Promise<void> {
  if (!isRunning(child)) return;
  const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    ask();
  } catch {
    // The IPC channel may close between the check and the send; SIGKILL below still applies.
  }
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), graceMs)));
  const outcome = await Promise.race([done, late]);
  clearTimeout(timer);
  if (outcome === 'late') {
    child.kill('SIGKILL');
    await done;
  }
}
