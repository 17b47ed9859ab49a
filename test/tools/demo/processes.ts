// The demo's Envoy process (the brokers are capacity test brokers, test/tools/testbroker/launch.ts).
// It can be stopped in order, and should not outlive the demo.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';

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
