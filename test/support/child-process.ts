import type { ChildProcess } from 'node:child_process';
import readline from 'node:readline';

/** Keeps the last `capacity` lines a child printed, for error messages. */
export class LineRing {
  private readonly lines: string[] = [];

  constructor(private readonly capacity = 200) {}

  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.capacity) this.lines.shift();
  }

  text(): string {
    return this.lines.join('\n');
  }
}

/** Feeds the child's stdout and stderr, line by line, into `ring`. */
export function captureOutput(child: ChildProcess, ring: LineRing): void {
  for (const stream of [child.stdout, child.stderr]) {
    if (stream) readline.createInterface({ input: stream }).on('line', (line) => ring.push(line));
  }
}

/** Resolves once the child has exited (at once if it already has). */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Asks the child to stop (SIGTERM, or `ask` when given) and SIGKILLs it if it is still
 * running after `graceMs`. Resolves once it has exited.
 */
export async function stopChild(
  child: ChildProcess,
  { graceMs = 5000, ask }: { graceMs?: number; ask?: () => void } = {},
): Promise<void> {
  const done = exited(child);
  if (child.exitCode !== null || child.signalCode !== null) return done;
  try {
    if (ask) ask();
    else child.kill('SIGTERM');
  } catch {
    // The channel or process may already be gone; the SIGKILL below still applies.
  }
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), graceMs);
  });
  const outcome = await Promise.race([done.then(() => 'exited' as const), grace]);
  clearTimeout(timer);
  if (outcome === 'late') {
    child.kill('SIGKILL');
    await done;
  }
}

// A test that throws before its afterAll must not leave Envoy or a broker running
// after the jest worker exits. The hook is installed only while children are alive so
// that many test files in one worker do not pile up 'exit' listeners.
const alive = new Set<ChildProcess>();
const killAlive = (): void => {
  for (const child of alive) child.kill('SIGKILL');
};

/**
 * Remembers `child` until it exits, SIGKILLing it if this process exits first. The
 * child and its pipes are unref'd: a test that forgets to stop one must not keep jest
 * waiting forever on its handles; the 'exit' hook then reaps it.
 */
export function track(child: ChildProcess): void {
  child.unref();
  for (const stream of [child.stdout, child.stderr]) (stream as { unref?: () => void } | null)?.unref?.();
  child.channel?.unref();
  if (alive.size === 0) process.once('exit', killAlive);
  alive.add(child);
  const forget = (): void => {
    if (alive.delete(child) && alive.size === 0) process.removeListener('exit', killAlive);
  };
  child.once('exit', forget);
  // A child that never started (e.g. ENOENT) emits 'error' but no 'exit'.
  child.once('error', () => {
    if (child.pid === undefined) forget();
  });
}
