// What every sub-command shares: how it writes, and the answer to -h/--help.

/** Returned by an argument parser for -h/--help: print the usage, exit 0. */
export const HELP = Object.freeze({ help: true as const });

/** Where a sub-command writes: whole lines to stdout and stderr. */
export interface CommandIo {
  out(line: string): void;
  err(line: string): void;
}

export function isHelp(v: unknown): v is typeof HELP {
  return v === HELP;
}
