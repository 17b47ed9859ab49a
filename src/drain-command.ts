// `mqtt-xds drain <broker>`: asks a running control plane (its admin port) to drain a
// broker, optionally waits until the broker holds no clients, or cancels a drain.
import { readCapped } from './util/read-capped';
import { readTokenFile } from './util/token-file';

import { COMMAND_ENV } from './config';

const ADMIN_URL_ENV = 'MQTT_XDS_ADMIN_URL';
if (!(ADMIN_URL_ENV in COMMAND_ENV)) throw new Error(`${ADMIN_URL_ENV} must be declared in COMMAND_ENV`);

export const DRAIN_USAGE = `Usage: mqtt-xds drain <broker> [--admin-url URL] [--token-file FILE] [--wait] [--timeout-sec N] [--cancel]

Asks the control plane to drain <broker>: DRAINING in EDS (no new connections), then its
clients are moved through its agent at the paced rate. --wait polls GET /drain/<broker>
until it reports drained (exit 0) or --timeout-sec passes (exit 1). --cancel ends a
drain requested through the API. The admin URL defaults to $MQTT_XDS_ADMIN_URL or
http://127.0.0.1:9090; the token to the file in $MQTT_XDS_ADMIN_TOKEN_FILE.
`;

interface DrainArgs {
  readonly broker: string;
  readonly adminUrl: string;
  readonly tokenFile: string;
  readonly wait: boolean;
  readonly cancel: boolean;
  readonly timeoutSec: number;
}

type Out = (line: string) => void;

export function parseDrainArgs(argv: readonly string[], env: NodeJS.ProcessEnv): DrainArgs | string {
  let broker: string | undefined;
  // Declared in the settings table (COMMAND_ENV), so the server accepts it being exported.
  let adminUrl = env[ADMIN_URL_ENV] ?? 'http://127.0.0.1:9090';
  let tokenFile = env.MQTT_XDS_ADMIN_TOKEN_FILE ?? '';
  let wait = false;
  let cancel = false;
  let timeoutSec = 600;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string | undefined => argv[++i];
    if (a === '--wait') wait = true;
    else if (a === '--cancel') cancel = true;
    else if (a === '--admin-url') adminUrl = value() ?? '';
    else if (a === '--token-file') tokenFile = value() ?? '';
    else if (a === '--timeout-sec') timeoutSec = Number(value());
    else if (a.startsWith('-')) return `unknown option ${a}`;
    else if (broker === undefined) broker = a;
    else return `unexpected argument "${a}"`;
  }
  if (broker === undefined) return 'name the broker to drain';
  if (!/^https?:\/\/[^/]+/.test(adminUrl)) return `--admin-url must be an http(s) URL, got "${adminUrl}"`;
  if (!Number.isInteger(timeoutSec) || timeoutSec < 1) return '--timeout-sec must be a whole number of seconds >= 1';
  if (wait && cancel) return '--wait and --cancel do not go together';
  return { broker, adminUrl: adminUrl.replace(/\/+$/, ''), tokenFile, wait, cancel, timeoutSec };
}

/** An admin answer is a small JSON document; anything bigger is not one. */
const MAX_ANSWER_BYTES = 1024 * 1024;

export async function runDrain(args: DrainArgs, out: Out, err: Out, pollMs = 2000): Promise<number> {
  const headers: Record<string, string> = {};
  const token = readTokenFile(args.tokenFile, '--token-file');
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const url = `${args.adminUrl}/drain/${encodeURIComponent(args.broker)}`;
  const call = async (method: string): Promise<{ status: number; body: Record<string, unknown> } | undefined> => {
    try {
      const res = await fetch(url, { method, headers, signal: AbortSignal.timeout(10_000), redirect: 'manual' });
      const body = await readCapped(res, MAX_ANSWER_BYTES);
      if (body === 'too large')
        throw new Error(`the answer is over ${MAX_ANSWER_BYTES} bytes; is ${args.adminUrl} the mqtt-xds admin port?`);
      return { status: res.status, body: JSON.parse(Buffer.from(body).toString('utf8')) as Record<string, unknown> };
    } catch (e) {
      err(`mqtt-xds drain: ${method} ${url} failed: ${(e as Error).message}`);
      return undefined;
    }
  };
  const first = await call(args.cancel ? 'DELETE' : 'POST');
  if (!first) return 1;
  if (first.status >= 300) {
    err(`mqtt-xds drain: HTTP ${first.status}: ${String(first.body.error ?? JSON.stringify(first.body))}`);
    return 1;
  }
  out(JSON.stringify(first.body));
  if (!args.wait) return 0;
  const deadline = Date.now() + args.timeoutSec * 1000;
  for (;;) {
    const r = await call('GET');
    if (r?.status === 200 && r.body.drained === true) {
      out(`drained: ${args.broker} (${String(r.body.moved ?? 0)} clients moved)`);
      return 0;
    }
    if (r?.status === 200)
      out(
        `draining: ${String(r.body.connections ?? '?')} connections left, ${String(r.body.moved ?? 0)} moved${r.body.error ? `; ${String(r.body.error)}` : ''}`,
      );
    if (Date.now() + pollMs > deadline) {
      err(`mqtt-xds drain: ${args.broker} not drained after ${args.timeoutSec}s`);
      return 1;
    }
    await new Promise((res) => setTimeout(res, pollMs));
  }
}
