// POSIX-style argument parsing for the server and every sub-command, over node:util's
// parseArgs: `--flag value`, `--flag=value`, short flags such as `-h`, and `--` ending the
// options. Problems come back as values naming the flag, never as parseArgs' exceptions.
import { parseArgs } from 'node:util';
import { didYouMean } from '../util/suggest';

export interface OptionSpec {
  /** A string option takes a value; a boolean one is a switch and takes none. */
  readonly type: 'string' | 'boolean';
  /** One letter, used as `-x`. */
  readonly short?: string;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

export interface ArgvProblem {
  readonly kind: 'unknown' | 'missing-value' | 'unexpected-value';
  /** The flag as written: `--xds-prot`, `-p`. */
  readonly flag: string;
  /** Says what is wrong and, for a typo, the nearest known flag. */
  readonly message: string;
}

export interface GivenOption {
  readonly value: string | true;
  /** As written, for messages: `--admin-url` or `-h`. */
  readonly flag: string;
}

export interface ParsedArgv {
  /** By long option name; a repeated option keeps its last value. */
  readonly values: ReadonlyMap<string, GivenOption>;
  /** Arguments that are not options, in order, those after `--` included. */
  readonly positionals: readonly string[];
  readonly problems: readonly ArgvProblem[];
}

/**
 * Parses `argv` against `specs`. A string option's value may follow it or be joined with
 * `=`; a following word that starts with `--` is not taken as its value (`--a --b` is a
 * missing value, not `--b` for --a); write `--a=--b` for that.
 */
export function parseArgv(argv: readonly string[], specs: OptionSpecs): ParsedArgv {
  const values = new Map<string, GivenOption>();
  const positionals: string[] = [];
  const problems: ArgvProblem[] = [];
  const known = Object.entries(specs).flatMap(([name, s]) => [`--${name}`, ...(s.short ? [`-${s.short}`] : [])]);
  const options = Object.fromEntries(
    Object.entries(specs).map(([name, s]) => [name, s.short ? { type: s.type, short: s.short } : { type: s.type }]),
  );
  let rest = [...argv];
  for (;;) {
    // Not strict: unknown flags and missing values come back as tokens, and are reported here in our words.
    const { tokens } = parseArgs({ args: rest, options, allowPositionals: true, strict: false, tokens: true });
    let restartAt: number | undefined;
    for (const t of tokens) {
      if (t.kind === 'option-terminator') continue;
      if (t.kind === 'positional') {
        positionals.push(t.value);
        continue;
      }
      const spec = specs[t.name] as OptionSpec | undefined;
      if (spec === undefined) {
        problems.push({ kind: 'unknown', flag: t.rawName, message: `unknown option ${t.rawName}${flagHint(t.rawName, known)}` });
        continue;
      }
      if (spec.type === 'boolean') {
        if (t.value !== undefined)
          problems.push({ kind: 'unexpected-value', flag: t.rawName, message: `option ${t.rawName} takes no value, got "${t.value}"` });
        else values.set(t.name, { value: true, flag: t.rawName });
        continue;
      }
      if (t.value === undefined || (!t.inlineValue && t.value.startsWith('--'))) {
        problems.push({ kind: 'missing-value', flag: t.rawName, message: `option ${t.rawName} needs a value` });
        if (t.value !== undefined) {
          // The word parseArgs took as the value is the next flag: parse again from it.
          restartAt = t.index + 1;
          break;
        }
        continue;
      }
      values.set(t.name, { value: t.value, flag: t.rawName });
    }
    if (restartAt === undefined) break;
    rest = rest.slice(restartAt);
  }
  return { values, positionals, problems };
}

/** The string value of an option, or undefined when it was not given (or given as a switch). */
export function stringOption(parsed: ParsedArgv, name: string): string | undefined {
  const v = parsed.values.get(name)?.value;
  return typeof v === 'string' ? v : undefined;
}

export function flagGiven(parsed: ParsedArgv, name: string): boolean {
  return parsed.values.has(name);
}

/**
 * A known flag for a mistyped one. A flag that ends with the typed words comes first: an
 * operator who types `--kubeconfig` means `--discovery-kubernetes-kubeconfig`, not the
 * `--config` that is fewest edits away. Otherwise the nearest by edits, if any is close.
 */
export function flagHint(typed: string, known: readonly string[]): string {
  const words = typed.replace(/^-+/, '');
  if (words.length >= 3) {
    const ending = known.filter((k) => k.endsWith(`-${words}`));
    if (ending.length === 1) return ` (did you mean "${ending[0]}"?)`;
    if (ending.length > 1) return ` (did you mean one of ${ending.map((k) => `"${k}"`).join(', ')}?)`;
  }
  return didYouMean(typed, known);
}
