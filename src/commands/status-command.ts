// `mqtt-xds status`: the brokers of a running control plane as a table: health, weight,
// utilisation, capacity and where it comes from, and the reason for the weight.
import { parseArgv, stringOption } from '../config/argv';
import { ADMIN_OPTIONS, ADMIN_OPTIONS_HELP, adminTarget, getJson } from './admin-client';
import { extraArgument, HELP, OUTPUT_OPTION, outputProblem, usage, type CommandIo } from './command';
import { formatTable, percent, shortVersion } from './table';

export const STATUS_USAGE = `Usage: mqtt-xds status [--admin-url URL] [--token-file FILE] [--output table|json]

Shows the brokers of a running control plane (GET /status): health, weight, utilisation,
capacity and its source, and the reason for each weight.

${ADMIN_OPTIONS_HELP}
  -o, --output FORMAT table (default) or json (the whole /status document)
`;

export const STATUS_OPTIONS = { ...ADMIN_OPTIONS, ...OUTPUT_OPTION } as const;

/** The part of GET /status this command reads. */
export interface StatusDocument {
  readonly version?: string;
  readonly ready?: { readonly ready: boolean; readonly reason: string };
  readonly snapshot?: { readonly version: string } | null;
  readonly brokers?: ReadonlyArray<{ readonly name: string; readonly weight: number; readonly health: string }> | null;
  readonly decisions?: ReadonlyArray<{
    readonly name: string;
    readonly weight: number;
    readonly health: string;
    readonly excluded?: boolean;
    readonly utilisation?: number;
    readonly capacity?: number;
    readonly capacitySource?: string;
    readonly reason?: string;
  }> | null;
}

/** The brokers table: from the decisions when there are any (excluded brokers too), else the plan. */
export function statusLines(doc: StatusDocument): string[] {
  const head = `mqtt-xds ${doc.version ?? '?'}, snapshot ${shortVersion(doc.snapshot?.version)}, ${
    doc.ready?.ready ? 'ready' : 'NOT READY'
  }: ${doc.ready?.reason ?? '?'}`;
  const header = ['BROKER', 'HEALTH', 'WEIGHT', 'UTIL', 'CAPACITY', 'SOURCE', 'REASON'];
  const rows = doc.decisions?.length
    ? doc.decisions.map((d) => [
        d.name,
        d.excluded ? 'EXCLUDED' : d.health.toUpperCase(),
        String(d.weight),
        percent(d.utilisation),
        d.capacity === undefined ? '-' : String(Math.round(d.capacity)),
        d.capacitySource ?? '-',
        d.reason ?? '',
      ])
    : (doc.brokers ?? []).map((b) => [b.name, b.health.toUpperCase(), String(b.weight), '-', '-', '-', '']);
  if (rows.length === 0) return [head, 'no brokers'];
  return [head, '', ...formatTable(header, rows)];
}

export async function runStatus(argv: readonly string[], env: NodeJS.ProcessEnv, io: CommandIo): Promise<number> {
  const parsed = parseArgv(argv, STATUS_OPTIONS);
  if (parsed.values.has('help')) return usage(io, 'status', STATUS_USAGE, HELP);
  const problem =
    parsed.problems[0]?.message ?? extraArgument(parsed.positionals) ?? outputProblem(stringOption(parsed, 'output'), ['table', 'json']);
  const target = problem ?? adminTarget(parsed, env);
  if (typeof target === 'string') return usage(io, 'status', STATUS_USAGE, target);
  const answer = await getJson(io.err, 'status', target, '/status');
  if (answer === undefined) return 1;
  if (stringOption(parsed, 'output') === 'json') io.out(JSON.stringify(answer, null, 2));
  else for (const l of statusLines(answer as StatusDocument)) io.out(l);
  return 0;
}
