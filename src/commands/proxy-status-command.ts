// `mqtt-xds proxy-status`: every Envoy connected to a running control plane, and per type
// whether it holds the latest (SYNCED), is waiting for it (PENDING), is behind for too
// long (STALE) or rejected it (NACKED, with Envoy's message).
import { parseArgv, stringOption } from '../config/argv';
import { ADMIN_OPTIONS, ADMIN_OPTIONS_HELP, adminTarget, getJson } from './admin-client';
import { extraArgument, HELP, OUTPUT_OPTION, outputProblem, usage, type CommandIo } from './command';
import { formatDuration } from './progress';
import { formatTable, shortVersion } from './table';

export const PROXY_STATUS_USAGE = `Usage: mqtt-xds proxy-status [--node ID] [--admin-url URL] [--token-file FILE] [--output table|json]

Lists every Envoy connected over ADS (GET /proxy-status), one row per stream, and per
type: SYNCED (it ACKed the latest), PENDING (the latest is on its way), STALE (it has not
ACKed the latest for a while), NACKED (it rejected the latest; the message follows the
table). Each cell shows the version it last ACKed; a cell behind also shows the latest.

${ADMIN_OPTIONS_HELP}
  --node ID           only this Envoy (its node id)
  -o, --output FORMAT table (default) or json
`;

export const PROXY_STATUS_OPTIONS = { ...ADMIN_OPTIONS, ...OUTPUT_OPTION, node: { type: 'string' } } as const;

/** The types as columns, in push order. */
const TYPES = ['CDS', 'EDS', 'ECDS', 'SDS', 'LDS'] as const;

interface TypeCell {
  readonly state: string;
  readonly sent?: string;
  readonly acked?: string;
  readonly latest?: string;
  readonly error?: string;
  readonly behindMs?: number;
}

/** The part of GET /proxy-status this command reads. */
export interface ProxyStatusDocument {
  readonly snapshot?: string;
  readonly proxies: ReadonlyArray<{
    readonly node: string;
    readonly cluster: string;
    readonly kind: string;
    readonly stream: number;
    readonly types: Readonly<Record<string, TypeCell>>;
  }>;
  readonly omitted?: number;
}

/** One cell: `SYNCED 1a2b3c4d`, `STALE 1a2b3c4d→5e6f7a8b 42s`, `NACKED 1a2b3c4d→5e6f7a8b`. */
export function typeCell(c: TypeCell | undefined): string {
  if (!c) return '-';
  if (c.state === 'SYNCED') return `SYNCED ${shortVersion(c.acked)}`;
  const behind = c.behindMs === undefined ? '' : ` ${formatDuration(Math.floor(c.behindMs / 1000))}`;
  return `${c.state} ${shortVersion(c.acked)}→${shortVersion(c.latest ?? c.sent)}${behind}`;
}

export function proxyStatusLines(doc: ProxyStatusDocument): string[] {
  if (doc.proxies.length === 0) return ['no Envoy is connected'];
  // Only the types some Envoy subscribes to get a column.
  const types = TYPES.filter((t) => doc.proxies.some((p) => p.types[t] !== undefined));
  const rows = doc.proxies.map((p) => [
    p.node,
    p.cluster === '' ? '-' : p.cluster,
    p.kind === 'delta' ? 'Delta' : 'SotW',
    ...types.map((t) => typeCell(p.types[t])),
  ]);
  const lines = formatTable(['NODE', 'CLUSTER', 'ADS', ...types], rows);
  const nacks = doc.proxies.flatMap((p) =>
    types.filter((t) => p.types[t]?.state === 'NACKED').map((t) => `  ${p.node} ${t}: ${p.types[t]?.error ?? '(no message)'}`),
  );
  if (nacks.length > 0) lines.push('', 'NACKs:', ...nacks);
  if (doc.omitted) lines.push('', `${doc.omitted} more not shown; use --node ID`);
  return lines;
}

export async function runProxyStatus(argv: readonly string[], env: NodeJS.ProcessEnv, io: CommandIo): Promise<number> {
  const parsed = parseArgv(argv, PROXY_STATUS_OPTIONS);
  if (parsed.values.has('help')) return usage(io, 'proxy-status', PROXY_STATUS_USAGE, HELP);
  const problem =
    parsed.problems[0]?.message ?? extraArgument(parsed.positionals) ?? outputProblem(stringOption(parsed, 'output'), ['table', 'json']);
  const target = problem ?? adminTarget(parsed, env);
  if (typeof target === 'string') return usage(io, 'proxy-status', PROXY_STATUS_USAGE, target);
  const node = stringOption(parsed, 'node');
  const path = node === undefined ? '/proxy-status' : `/proxy-status?node=${encodeURIComponent(node)}`;
  const answer = await getJson(io.err, 'proxy-status', target, path);
  if (answer === undefined) return 1;
  if (stringOption(parsed, 'output') === 'json') io.out(JSON.stringify(answer, null, 2));
  else for (const l of proxyStatusLines(answer as ProxyStatusDocument)) io.out(l);
  return 0;
}
