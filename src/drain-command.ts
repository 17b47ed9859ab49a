// `mqtt-xds drain <broker>`: asks a running control plane (its admin port) to drain a
// broker, optionally waits until the broker holds no clients, or cancels a drain.
import {
  ADMIN_OPTIONS,
  ADMIN_OPTIONS_HELP,
  adminRequest,
  adminTarget,
  authHeaders,
  errorOf,
  type AdminAnswer,
} from './commands/admin-client';
import { drainProgress, progressBar, progressLine, type DrainSample } from './commands/progress';
import { HELP } from './commands/command';
import { parseArgv, stringOption } from './config/argv';

export const DRAIN_USAGE = `Usage: mqtt-xds drain <broker> [--admin-url URL] [--token-file FILE] [--wait] [--timeout-sec N] [--cancel]

Asks the control plane to drain <broker>: DRAINING in EDS (no new connections), then its
clients are moved through its agent at the paced rate. --wait polls GET /drain/<broker>
until it reports drained (exit 0) or --timeout-sec passes (exit 1); on a terminal it draws
a progress bar with an ETA, elsewhere it prints one line per poll. --cancel ends a drain
requested through the API.

${ADMIN_OPTIONS_HELP}
  --wait              wait until the broker holds no clients
  --timeout-sec N     how long --wait waits, in seconds (default 600)
  --cancel            cancel a drain requested through the API
`;

export interface DrainArgs {
  readonly broker: string;
  readonly adminUrl: string;
  readonly tokenFile: string;
  readonly wait: boolean;
  readonly cancel: boolean;
  readonly timeoutSec: number;
}

export const DRAIN_OPTIONS = {
  ...ADMIN_OPTIONS,
  wait: { type: 'boolean' },
  cancel: { type: 'boolean' },
  'timeout-sec': { type: 'string' },
} as const;

type Out = (line: string) => void;

/** The drain's arguments, HELP for -h/--help, or what is wrong with them. */
export function parseDrainArgs(argv: readonly string[], env: NodeJS.ProcessEnv): DrainArgs | typeof HELP | string {
  const parsed = parseArgv(argv, DRAIN_OPTIONS);
  if (parsed.values.has('help')) return HELP;
  if (parsed.problems.length > 0) return parsed.problems[0].message;
  const [broker, extra] = parsed.positionals;
  if (broker === undefined) return 'name the broker to drain';
  if (extra !== undefined) return `unexpected argument "${extra}"`;
  const target = adminTarget(parsed, env);
  if (typeof target === 'string') return target;
  const timeoutText = stringOption(parsed, 'timeout-sec') ?? '600';
  const timeoutSec = Number(timeoutText);
  if (!Number.isInteger(timeoutSec) || timeoutSec < 1) return `--timeout-sec must be a whole number of seconds >= 1, got "${timeoutText}"`;
  const wait = parsed.values.has('wait');
  const cancel = parsed.values.has('cancel');
  if (wait && cancel) return '--wait and --cancel do not go together';
  return { broker, ...target, wait, cancel, timeoutSec };
}

/** Where --wait draws its bar: a terminal's line, redrawn in place. */
export interface Terminal {
  write(text: string): void;
  readonly columns?: number;
}

export async function runDrain(args: DrainArgs, out: Out, err: Out, pollMs = 2000, terminal?: Terminal): Promise<number> {
  const headers = authHeaders(args);
  const path = `/drain/${encodeURIComponent(args.broker)}`;
  const call = async (method: string): Promise<AdminAnswer | undefined> => {
    try {
      return await adminRequest(args, method, path, headers);
    } catch (e) {
      err(`mqtt-xds drain: ${method} ${args.adminUrl}${path} failed: ${(e as Error).message}`);
      return undefined;
    }
  };
  const first = await call(args.cancel ? 'DELETE' : 'POST');
  if (!first) return 1;
  if (first.status >= 300) {
    err(`mqtt-xds drain: ${errorOf(first)}`);
    return 1;
  }
  out(JSON.stringify(first.body));
  if (!args.wait) return 0;
  const deadline = Date.now() + args.timeoutSec * 1000;
  const samples: DrainSample[] = [];
  let drawn = false;
  const endBar = (): void => {
    if (drawn) terminal?.write('\n');
    drawn = false;
  };
  for (;;) {
    const r = await call('GET');
    const body = (r?.body ?? {}) as { drained?: unknown; connections?: unknown; moved?: unknown; error?: unknown };
    const moved = typeof body.moved === 'number' ? body.moved : 0;
    if (r?.status === 200 && body.drained === true) {
      endBar();
      out(`drained: ${args.broker} (${moved} clients moved)`);
      return 0;
    }
    if (r?.status === 200) {
      const sample = { atMs: Date.now(), connections: typeof body.connections === 'number' ? body.connections : undefined, moved };
      samples.push(sample);
      const error = typeof body.error === 'string' ? body.error : undefined;
      if (terminal) {
        terminal.write(`\r\x1b[K${progressBar(args.broker, sample, drainProgress(samples), terminal.columns)}`);
        drawn = true;
        if (error) {
          endBar();
          err(`mqtt-xds drain: ${error}`);
        }
      } else out(progressLine(sample, error));
    }
    if (Date.now() + pollMs > deadline) {
      endBar();
      err(`mqtt-xds drain: ${args.broker} not drained after ${args.timeoutSec}s`);
      return 1;
    }
    await new Promise((res) => setTimeout(res, pollMs));
  }
}
