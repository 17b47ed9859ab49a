export interface WaitOptions {
  /** Give up after this long. Default 10 000 ms. */
  timeoutMs?: number;
  /** Pause between attempts. Default 100 ms. */
  intervalMs?: number;
  /** Named in the timeout error, e.g. "cluster brokers to have 3 healthy hosts". */
  what: string;
}

type Attempt<T> = T | undefined | null | false;

/**
 * Calls `fn` until it returns something other than undefined, null or false, and
 * returns that. A throwing attempt counts as "not yet"; the last error or value is
 * quoted in the timeout error so a failing test says what it last saw.
 */
export async function waitFor<T>(
  fn: () => Promise<Attempt<T>> | Attempt<T>,
  { timeoutMs = 10_000, intervalMs = 100, what }: WaitOptions,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no attempt finished';
  for (;;) {
    const remainingMs = deadline - Date.now();
    try {
      // An attempt that hangs must not outlive the deadline.
      const value = await withTimeout(Promise.resolve().then(fn), Math.max(remainingMs, 1));
      if (value !== undefined && value !== null && value !== false) return value;
      last = `last value: ${describe(value)}`;
    } catch (err) {
      last = `last error: ${err instanceof Error ? err.message : String(err)}`;
    }
    if (Date.now() + intervalMs > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; ${last}`);
    }
    await sleep(intervalMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`attempt still running after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function describe(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
