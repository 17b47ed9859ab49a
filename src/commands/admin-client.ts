// How the sub-commands reach a running control plane: its admin URL and token, read from
// flags and the environment, and one bounded JSON request.
import { COMMAND_ENV, SETTINGS } from '../config';
import { stringOption, type OptionSpecs, type ParsedArgv } from '../config/argv';
import { readCapped } from '../util/read-capped';
import { readTokenFile } from '../util/token-file';

export const ADMIN_URL_ENV = 'MQTT_XDS_ADMIN_URL';
export const ADMIN_TOKEN_FILE_ENV = 'MQTT_XDS_ADMIN_TOKEN_FILE';
if (!(ADMIN_URL_ENV in COMMAND_ENV)) throw new Error(`${ADMIN_URL_ENV} must be declared in COMMAND_ENV`);

/** The admin port the server binds by default, from the settings table. */
const DEFAULT_ADMIN_PORT = SETTINGS.find((s) => s.key === 'admin.port')?.default ?? 9090;
export const DEFAULT_ADMIN_URL = `http://127.0.0.1:${DEFAULT_ADMIN_PORT}`;

/** The flags every sub-command that talks to the admin port takes. */
export const ADMIN_OPTIONS: OptionSpecs = {
  'admin-url': { type: 'string' },
  'token-file': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

export const ADMIN_OPTIONS_HELP = `  --admin-url URL     the control plane's admin port (default $${ADMIN_URL_ENV} or ${DEFAULT_ADMIN_URL})
  --token-file FILE   file holding the admin token (default $${ADMIN_TOKEN_FILE_ENV}); sent as a bearer token
  -h, --help          print this help`;

export interface AdminTarget {
  readonly adminUrl: string;
  readonly tokenFile: string;
}

/** The admin URL and token file from the flags, else the environment, else the defaults; or what is wrong. */
export function adminTarget(parsed: ParsedArgv, env: NodeJS.ProcessEnv): AdminTarget | string {
  // Declared in the settings table (COMMAND_ENV), so the server accepts it being exported.
  const adminUrl = stringOption(parsed, 'admin-url') ?? env[ADMIN_URL_ENV] ?? DEFAULT_ADMIN_URL;
  const tokenFile = stringOption(parsed, 'token-file') ?? env[ADMIN_TOKEN_FILE_ENV] ?? '';
  if (!/^https?:\/\/[^/]+/.test(adminUrl)) return `--admin-url must be an http(s) URL, got "${adminUrl}"`;
  return { adminUrl: adminUrl.replace(/\/+$/, ''), tokenFile };
}

/** An admin answer is a small JSON document; anything bigger is not one. */
export const MAX_ANSWER_BYTES = 1024 * 1024;

export interface AdminAnswer {
  readonly status: number;
  readonly body: unknown;
}

/** The bearer header for the target's token file (throws a ConfigError naming --token-file when it is unreadable). */
export function authHeaders(target: AdminTarget): Record<string, string> {
  const token = readTokenFile(target.tokenFile, '--token-file');
  return token === undefined ? {} : { authorization: `Bearer ${token}` };
}

/** One request to the admin port; rejects with a message fit to print when it fails or the answer is no JSON. */
export async function adminRequest(
  target: AdminTarget,
  method: string,
  path: string,
  headers: Record<string, string>,
): Promise<AdminAnswer> {
  const res = await fetch(`${target.adminUrl}${path}`, { method, headers, signal: AbortSignal.timeout(10_000), redirect: 'manual' });
  const bytes = await readCapped(res, MAX_ANSWER_BYTES);
  if (bytes === 'too large')
    throw new Error(`the answer is over ${MAX_ANSWER_BYTES} bytes; is ${target.adminUrl} the mqtt-xds admin port?`);
  const text = Buffer.from(bytes).toString('utf8');
  try {
    return { status: res.status, body: JSON.parse(text) as unknown };
  } catch {
    throw new Error(
      `HTTP ${res.status}, and the answer is not JSON (${JSON.stringify(text.slice(0, 80))}); is ${target.adminUrl} the mqtt-xds admin port?`,
    );
  }
}

/** The server's own words for a refused request. */
export function errorOf(answer: AdminAnswer): string {
  const body = answer.body as { error?: unknown } | null;
  return `HTTP ${answer.status}: ${typeof body?.error === 'string' ? body.error : JSON.stringify(answer.body)}`;
}

/**
 * GET one admin path as JSON, for a sub-command; undefined after writing why it failed.
 * An unreadable --token-file throws its ConfigError (exit 2, like a bad flag).
 */
export async function getJson(err: (line: string) => void, command: string, target: AdminTarget, path: string): Promise<unknown> {
  const headers = authHeaders(target);
  try {
    const answer = await adminRequest(target, 'GET', path, headers);
    if (answer.status !== 200) {
      err(`mqtt-xds ${command}: GET ${target.adminUrl}${path}: ${errorOf(answer)}`);
      return undefined;
    }
    return answer.body;
  } catch (e) {
    // fetch hides the reason (ECONNREFUSED, ENOTFOUND) in its cause.
    const cause = (e as { cause?: { code?: unknown } }).cause?.code;
    err(
      `mqtt-xds ${command}: GET ${target.adminUrl}${path} failed: ${(e as Error).message}${typeof cause === 'string' ? ` (${cause})` : ''}`,
    );
    return undefined;
  }
}
