// The operator's sub-commands of `mqtt-xds`: each talks to a running control plane's
// admin port. One table names them, parses them and drives shell completion.
import { SETTINGS } from '../config';
import { parseArgv } from '../config/argv';
import { DRAIN_OPTIONS, DRAIN_USAGE, parseDrainArgs, runDrain } from '../drain-command';
import { HELP, isHelp, usage, type CommandIo } from './command';
import { bashCompletion, zshCompletion, type CompletedCommand } from './completion';
import { CONFIG_DUMP_OPTIONS, runConfigDump } from './config-dump-command';
import { PROXY_STATUS_OPTIONS, runProxyStatus } from './proxy-status-command';
import { runStatus, STATUS_OPTIONS } from './status-command';

export { type CommandIo } from './command';

export interface SubCommand extends CompletedCommand {
  /** One line for the main usage. */
  readonly summary: string;
  run(argv: readonly string[], env: NodeJS.ProcessEnv, io: CommandIo): Promise<number>;
}

const COMPLETION_USAGE = `Usage: mqtt-xds completion bash|zsh

Prints a shell completion script for sub-commands, flags, their values and file names:
  source <(mqtt-xds completion bash)      # in ~/.bashrc
  source <(mqtt-xds completion zsh)       # in ~/.zshrc
`;

const SHELLS = ['bash', 'zsh'] as const;

async function runCompletion(argv: readonly string[], _env: NodeJS.ProcessEnv, io: CommandIo): Promise<number> {
  const parsed = parseArgv(argv, { help: { type: 'boolean', short: 'h' } });
  if (parsed.values.has('help')) return usage(io, 'completion', COMPLETION_USAGE, HELP);
  const [shell, extra] = parsed.positionals;
  const problem =
    parsed.problems[0]?.message ??
    (shell === undefined
      ? 'name the shell: bash or zsh'
      : !(SHELLS as readonly string[]).includes(shell)
        ? `no completion for "${shell}"; the shells are bash and zsh`
        : extra !== undefined
          ? `unexpected argument "${extra}"`
          : undefined);
  if (problem !== undefined) return usage(io, 'completion', COMPLETION_USAGE, problem);
  io.out((shell === 'bash' ? bashCompletion : zshCompletion)(SUB_COMMANDS, SETTINGS).trimEnd());
  return 0;
}

async function runDrainCommand(argv: readonly string[], env: NodeJS.ProcessEnv, io: CommandIo): Promise<number> {
  const args = parseDrainArgs(argv, env);
  if (isHelp(args)) return usage(io, 'drain', DRAIN_USAGE, HELP);
  if (typeof args === 'string') return usage(io, 'drain', DRAIN_USAGE, args);
  return runDrain(args, io.out, io.err, undefined, io.terminal);
}

const OUTPUT_TABLE = { '--output': ['table', 'json'], '-o': ['table', 'json'] };

export const SUB_COMMANDS: readonly SubCommand[] = [
  {
    name: 'status',
    summary: 'the brokers: health, weight, utilisation, capacity, reason',
    options: STATUS_OPTIONS,
    values: OUTPUT_TABLE,
    run: runStatus,
  },
  {
    name: 'proxy-status',
    summary: 'every Envoy, per type SYNCED / PENDING / STALE / NACKED',
    options: PROXY_STATUS_OPTIONS,
    values: OUTPUT_TABLE,
    run: runProxyStatus,
  },
  {
    name: 'config-dump',
    summary: 'what one Envoy is sent, as YAML',
    options: CONFIG_DUMP_OPTIONS,
    values: { '--output': ['yaml', 'json'], '-o': ['yaml', 'json'] },
    run: runConfigDump,
  },
  { name: 'drain', summary: 'drain a broker, optionally waiting until it is empty', options: DRAIN_OPTIONS, run: runDrainCommand },
  {
    name: 'completion',
    summary: 'print a bash or zsh completion script',
    options: { help: { type: 'boolean', short: 'h' } },
    words: SHELLS,
    run: runCompletion,
  },
];

export const subCommand = (name: string | undefined): SubCommand | undefined => SUB_COMMANDS.find((c) => c.name === name);
