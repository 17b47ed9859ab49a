// `mqtt-xds config-dump`: what one Envoy is sent now, decoded, as YAML (or JSON). Private
// keys and tokens are redacted by the control plane before they leave it.
import { stringify } from 'yaml';
import { parseArgv, stringOption } from '../config/argv';
import { ADMIN_OPTIONS, ADMIN_OPTIONS_HELP, adminTarget, getJson, type AdminTarget } from './admin-client';
import { extraArgument, HELP, OUTPUT_OPTION, outputProblem, usage, type CommandIo } from './command';
import type { ProxyStatusDocument } from './proxy-status-command';

export const CONFIG_DUMP_USAGE = `Usage: mqtt-xds config-dump [--node ID] [--admin-url URL] [--token-file FILE] [--output yaml|json]

Prints what the Envoy with node id ID is sent now (GET /config-dump?node=ID): every
cluster, endpoint set, filter config, certificate and listener it subscribes to, decoded
from the bytes it receives. Private keys and tokens show as "[redacted]". Without --node,
the one connected Envoy; with several, name one (mqtt-xds proxy-status lists them).

${ADMIN_OPTIONS_HELP}
  --node ID           the Envoy's node id
  -o, --output FORMAT yaml (default) or json
`;

export const CONFIG_DUMP_OPTIONS = { ...ADMIN_OPTIONS, ...OUTPUT_OPTION, node: { type: 'string' } } as const;

/** The node to dump: the one asked for, else the only one connected; or why there is none. */
export function chooseNode(asked: string | undefined, doc: ProxyStatusDocument | undefined): { node: string } | { problem: string } {
  if (asked !== undefined) return { node: asked };
  const nodes = [...new Set((doc?.proxies ?? []).map((p) => p.node))].sort();
  if (nodes.length === 1) return { node: nodes[0] };
  if (nodes.length === 0) return { problem: 'no Envoy is connected' };
  const shown = nodes.slice(0, 10).join(', ') + (nodes.length > 10 ? `, and ${nodes.length - 10} more` : '');
  return { problem: `${nodes.length} Envoys are connected (${shown}); name one with --node ID` };
}

export async function runConfigDump(argv: readonly string[], env: NodeJS.ProcessEnv, io: CommandIo): Promise<number> {
  const parsed = parseArgv(argv, CONFIG_DUMP_OPTIONS);
  if (parsed.values.has('help')) return usage(io, 'config-dump', CONFIG_DUMP_USAGE, HELP);
  const output = stringOption(parsed, 'output') ?? 'yaml';
  const problem = parsed.problems[0]?.message ?? extraArgument(parsed.positionals) ?? outputProblem(output, ['yaml', 'json']);
  const target = problem ?? adminTarget(parsed, env);
  if (typeof target === 'string') return usage(io, 'config-dump', CONFIG_DUMP_USAGE, target);
  const node = await nodeToDump(io, target, stringOption(parsed, 'node'));
  if (node === undefined) return 1;
  const answer = await getJson(io.err, 'config-dump', target, `/config-dump?node=${encodeURIComponent(node)}`);
  if (answer === undefined) return 1;
  io.out(output === 'json' ? JSON.stringify(answer, null, 2) : stringify(answer, { lineWidth: 0 }).trimEnd());
  return 0;
}

async function nodeToDump(io: CommandIo, target: AdminTarget, asked: string | undefined): Promise<string | undefined> {
  if (asked !== undefined) return asked;
  const doc = await getJson(io.err, 'config-dump', target, '/proxy-status');
  if (doc === undefined) return undefined;
  const chosen = chooseNode(undefined, doc as ProxyStatusDocument);
  if ('problem' in chosen) {
    io.err(`mqtt-xds config-dump: ${chosen.problem}`);
    return undefined;
  }
  return chosen.node;
}
