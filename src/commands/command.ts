// What every sub-command shares: how it writes, the answer to -h/--help, and how a bad
// argument is reported (the problem, then the usage, exit 2).

/** Returned by an argument parser for -h/--help: print the usage, exit 0. */
export const HELP = Object.freeze({ help: true as const });

export function isHelp(v: unknown): v is typeof HELP {
  return v === HELP;
}

/** Where a sub-command writes: whole lines to stdout and stderr. */
export interface CommandIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** Set when stdout is a terminal: a line that can be redrawn (drain --wait's progress bar). */
  readonly terminal?: { write(text: string): void; readonly columns?: number };
}

/** The usage on stdout for --help (exit 0), or the problem and the usage on stderr (exit 2). */
export function usage(io: CommandIo, command: string, text: string, problem: string | typeof HELP): number {
  if (isHelp(problem)) {
    io.out(text.trimEnd());
    return 0;
  }
  io.err(`mqtt-xds ${command}: ${problem}`);
  io.err(text.trimEnd());
  return 2;
}

/** The first problem of a command line that takes no positional arguments. */
export function extraArgument(positionals: readonly string[]): string | undefined {
  return positionals.length > 0 ? `unexpected argument "${positionals[0]}"` : undefined;
}

/** Why an --output value is refused, if it is. */
export function outputProblem(output: string | undefined, allowed: readonly string[]): string | undefined {
  return output === undefined || allowed.includes(output) ? undefined : `--output must be one of ${allowed.join(', ')}, got "${output}"`;
}

/** -o/--output, as status, proxy-status and config-dump take it. */
export const OUTPUT_OPTION = { output: { type: 'string', short: 'o' } } as const;
