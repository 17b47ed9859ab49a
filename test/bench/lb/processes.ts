// Child processes of the benchmark (HAProxy, NGINX, mqtt-xds): started in the foreground
// with the kernel told to kill them if the harness dies (setpriv --pdeathsig), their
// output kept for error messages, and stopped by pid only.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { LineRing, captureOutput, stopChild, track } from '../../support/child-process';

const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => fs.existsSync(p));

export interface Proc {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  logs(): string;
  running(): boolean;
  /** `signal` (default SIGTERM), SIGKILL after `graceMs`; resolves once it exited. Safe to call twice. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

export function startProc(
  name: string,
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Proc {
  // setpriv execs the command, so the pid is the command's own.
  const [cmd, argv] = SETPRIV ? [SETPRIV, ['--pdeathsig', 'SIGKILL', '--', command, ...args]] : [command, [...args]];
  const child = spawn(cmd, argv, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  track(child);
  const ring = new LineRing(200);
  captureOutput(child, ring);
  let stopping: Promise<void> | undefined;
  return {
    name,
    pid: child.pid ?? -1,
    child,
    logs: () => ring.text(),
    running: () => child.exitCode === null && child.signalCode === null,
    stop: (signal = 'SIGTERM', graceMs = 5000) => (stopping ??= stopChild(child, { graceMs, ask: () => child.kill(signal) })),
  };
}

/** Runs a command to completion (for `nginx -t`, `apt-get`); never throws. */
export function runSync(command: string, args: readonly string[], timeoutMs = 600_000): { ok: boolean; output: string } {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: timeoutMs });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? String(result.error) : ''}`;
  return { ok: result.status === 0, output };
}

/** Pids whose parent is `pid` (from /proc), e.g. NGINX workers of a master we started. */
export function childPids(pid: number): number[] {
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Field 4 is the parent pid; the command name (field 2) may contain spaces, so parse after ")".
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) found.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** `waitFor`, but fails at once with the process's output if `proc` exits meanwhile. */
export async function waitWhileRunning<T>(proc: Proc, wait: Promise<T>): Promise<T> {
  let onExit: (() => void) | undefined;
  const exited = new Promise<never>((_, reject) => {
    onExit = () => reject(new Error(`${proc.name} exited during startup\n--- ${proc.name} output ---\n${proc.logs()}`));
    if (!proc.running()) onExit();
    else proc.child.once('exit', onExit);
  });
  try {
    return await Promise.race([wait, exited]);
  } finally {
    if (onExit) proc.child.removeListener('exit', onExit);
    // The losing waitFor keeps polling until its own timeout; its rejection is not news.
    wait.catch(() => undefined);
  }
}
