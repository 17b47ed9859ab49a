import type { ChildProcess } from 'node:child_process';
import readline from 'node:readline';

// Helpers for the processes the demo, the test brokers and the tests start: capture
// their output, wait for their ready message, stop them, and never leave one behind.

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
export async function stopChild(child: ChildProcess, { graceMs = 5000, ask }: { graceMs?: number; ask?: () => void } = {}): Promise<void> {
  const done = exited(child);
  if (child.exitCode !== null || child.signalCode !== null) return done;
  // The child may be unref'd (see track); while stopping, its exit must keep the caller
  // alive, or a caller with nothing else to do would quit before seeing it.
  child.ref();
  try {
    if (ask) ask();
    else child.kill('SIGTERM');
  } catch {
    // The channel or process may already be gone; the SIGKILL below still applies.
  }
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await done;
  clearTimeout(timer);
}

// A caller that throws before stopping its children must not leave them running after
// it exits. The hook is installed only while children are alive so that many callers in
// one process do not pile up 'exit' listeners.
const alive = new Set<ChildProcess>();
const killAlive = (): void => {
  for (const child of alive) child.kill('SIGKILL');
};

/**
 * Remembers `child` until it exits, SIGKILLing it if this process exits first. The
 * child and its pipes are unref'd: a caller that forgets to stop one must not be kept
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

export interface AwaitReadyOptions {
  /** Names the child in the error, e.g. "broker b1". */
  readonly what: string;
  readonly timeoutMs: number;
  /** Stops the child after a failed start; awaited before the promise rejects. */
  readonly abort: () => Promise<void> | void;
  /** The child's recent output, appended to the error. */
  readonly output: () => string;
}

/**
 * Waits for the child's IPC `{type: 'ready', ...}` message and resolves to it. A
 * `{type: 'error', message}` message, an exit, a spawn error or the timeout rejects
 * with an error naming the child and showing its recent output.
 */
export function awaitReady<T extends { type: 'ready' }>(child: ChildProcess, o: AwaitReadyOptions): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const fail = (why: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const out = o.output();
      void Promise.resolve(o.abort()).then(() =>
        reject(new Error(`${o.what} did not start: ${why}${out ? `\n--- output ---\n${out}` : ''}`)),
      );
    };
    const timer = setTimeout(() => fail(`no ready message after ${o.timeoutMs} ms`), o.timeoutMs);
    child.on('message', (msg: { type?: string; message?: string }) => {
      if (msg?.type === 'ready' && !settled) {
        settled = true;
        clearTimeout(timer);
        resolve(msg as T);
      } else if (msg?.type === 'error') {
        fail(String(msg.message));
      }
    });
    child.once('exit', (code, signal) => fail(`exited with ${signal ?? `code ${code}`}`));
    child.once('error', (err) => fail(err.message));
  });
}
