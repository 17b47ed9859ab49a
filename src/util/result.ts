/** Expected failures are values. Each problem names where it is and what is wrong. */
export interface Problem {
  /** Stable machine-readable code, e.g. `BROKER_PORT_RANGE`. */
  readonly code: string;
  /** Where: a field path (`brokers[2].port`), optionally with a file line. */
  readonly path: string;
  readonly message: string;
  readonly line?: number;
}

export type Result<T> = { ok: true; value: T } | { ok: false; problems: Problem[] };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = <T = never>(problems: Problem[]): Result<T> => ({ ok: false, problems });

export function formatProblems(problems: readonly Problem[]): string {
  return problems.map((p) => `${p.path}${p.line !== undefined ? ` (line ${p.line})` : ''}: ${p.message} [${p.code}]`).join('; ');
}
