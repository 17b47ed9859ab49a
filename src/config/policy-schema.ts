import { isMap, isScalar, isSeq, type Pair } from 'yaml';
import type { Problem } from '../util/result';
import { didYouMean } from '../util/suggest';
import { describeNode, keyName, type YamlDoc } from '../util/yaml-doc';

// Small typed readers that turn YAML nodes into policy values. Each reader reports every
// problem it finds (with path and line) and returns undefined for a value it refuses, so
// one pass over the document lists every mistake at once.

export interface ReadContext {
  readonly yaml: YamlDoc;
  readonly problems: Problem[];
  /** Line of every path that was read, for problems found later by cross-field checks. */
  readonly lines: Map<string, number>;
}

/** Reads one YAML value at `path`; `at` is the node a problem points at (the pair, for its key's line). */
export type Reader<T> = (node: unknown, path: string, at: unknown, ctx: ReadContext) => T | undefined;

export function report(ctx: ReadContext, code: string, path: string, at: unknown, message: string): void {
  const line = ctx.yaml.lineOf(at) ?? ctx.lines.get(path);
  ctx.problems.push({ code, path, message, ...(line === undefined ? {} : { line }) });
}

/** `a.b`, or `a["b.c"]` when the key would make the dotted path ambiguous. */
export function childPath(path: string, key: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(key)) return `${path}[${JSON.stringify(key)}]`;
  return path === '' ? key : `${path}.${key}`;
}

export interface NumberRange {
  readonly min: number;
  readonly max: number;
  readonly integer?: boolean;
  /** The minimum itself is not allowed: (min, max]. */
  readonly minExclusive?: boolean;
}

export function describeRange(r: NumberRange): string {
  const kind = r.integer ? 'an integer' : 'a number';
  if (r.max === Infinity) return `${kind} ${r.minExclusive ? '>' : '>='} ${r.min}`;
  if (r.minExclusive) return `${kind} in (${r.min}, ${r.max}]`;
  return r.integer ? `${kind} in ${r.min}..${r.max}` : `${kind} in [${r.min}, ${r.max}]`;
}

/** 'type' when the value is not a (whole) number, 'range' when it is outside the range. */
function checkNumber(v: unknown, r: NumberRange): 'type' | 'range' | undefined {
  if (typeof v !== 'number' || !Number.isFinite(v)) return 'type';
  if (r.integer && !Number.isInteger(v)) return 'type';
  if (v < r.min || v > r.max || (r.minExclusive && v === r.min)) return 'range';
  return undefined;
}

const scalarValue = (node: unknown): unknown => (isScalar(node) ? node.value : node);

function refuse(ctx: ReadContext, why: 'type' | 'range', path: string, at: unknown, node: unknown, what: string): undefined {
  const code = why === 'type' ? 'POLICY_VALUE_INVALID' : 'POLICY_VALUE_RANGE';
  report(ctx, code, path, at, `expected ${what}, got ${describeNode(node)}`);
  return undefined;
}

export function numberIn(r: NumberRange): Reader<number> {
  return (node, path, at, ctx) => {
    const v = scalarValue(node);
    const why = checkNumber(v, r);
    return why === undefined ? (v as number) : refuse(ctx, why, path, at, node, describeRange(r));
  };
}

/** A threshold that can be switched off with the word `off`. */
export function numberOrOff(r: NumberRange): Reader<number | 'off'> {
  return (node, path, at, ctx) => {
    const v = scalarValue(node);
    if (v === 'off') return 'off';
    const why = checkNumber(v, r);
    return why === undefined ? (v as number) : refuse(ctx, why, path, at, node, `${describeRange(r)}, or off`);
  };
}

/** A number, or one word standing for "not a number" (`auto`, `off`). */
export function numberOr<W extends string>(word: W, r: NumberRange): Reader<number | W> {
  return (node, path, at, ctx) => {
    const v = scalarValue(node);
    if (v === word) return word;
    const why = checkNumber(v, r);
    return why === undefined ? (v as number) : refuse(ctx, why, path, at, node, `${describeRange(r)}, or ${word}`);
  };
}

// YAML 1.2 reads `yes`/`no` as strings; insisting on booleans avoids a silent "yes".
export const flag: Reader<boolean> = (node, path, at, ctx) => {
  const v = scalarValue(node);
  return typeof v === 'boolean' ? v : refuse(ctx, 'type', path, at, node, 'true or false');
};

/** One of a few words, with a suggestion for a near miss. */
export function oneOf<T extends string>(values: readonly T[]): Reader<T> {
  return (node, path, at, ctx) => {
    const v = scalarValue(node);
    if (typeof v === 'string' && (values as readonly string[]).includes(v)) return v as T;
    const hint = typeof v === 'string' ? didYouMean(v, values) : '';
    return refuse(ctx, 'type', path, at, node, `one of ${values.join(', ')}${hint}`);
  };
}

export function name(pattern: RegExp, allowed: string): Reader<string> {
  return (node, path, at, ctx) => {
    const v = scalarValue(node);
    return typeof v === 'string' && pattern.test(v) ? v : refuse(ctx, 'type', path, at, node, allowed);
  };
}

/** A sequence of `item`, with at least `min` and at most `max` entries. */
export function listOf<T>(item: Reader<T>, r: { readonly min: number; readonly max: number }): Reader<readonly T[]> {
  return (node, path, at, ctx) => {
    if (!isSeq(node)) {
      report(ctx, 'POLICY_NOT_A_LIST', path, at, `expected a list, got ${describeNode(node)}`);
      return undefined;
    }
    if (node.items.length < r.min || node.items.length > r.max) {
      report(ctx, 'POLICY_VALUE_RANGE', path, at, `expected ${r.min} to ${r.max} entries, got ${node.items.length}`);
      return undefined;
    }
    const out: T[] = [];
    let good = true;
    node.items.forEach((n, i) => {
      const v = item(n, `${path}[${i}]`, n, ctx);
      if (v === undefined) good = false;
      else out.push(v);
    });
    return good ? out : undefined;
  };
}

/** Readers for every field of T; `-?` makes forgetting a field a compile error. */
export type Fields<T> = { readonly [K in keyof T]-?: Reader<Exclude<T[K], undefined>> };

/** A mapping with known keys; a missing key takes its default. */
export function section<T extends object>(fields: Fields<T>, defaults: T): Reader<T> {
  return (node, path, at, ctx) => {
    const out: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
    const good = readKnownKeys(node, path, at, ctx, fields, out);
    return good ? (out as T) : undefined;
  };
}

/**
 * A mapping without defaults: only the keys written appear in the value, and the keys in
 * `required` must be written. T's other keys must be optional.
 */
export function partial<T extends object>(fields: Fields<T>, required: readonly (keyof T & string)[] = []): Reader<T> {
  return (node, path, at, ctx) => {
    const out: Record<string, unknown> = {};
    let good = readKnownKeys(node, path, at, ctx, fields, out);
    for (const key of required) {
      if (isMap(node) && !node.items.some((p) => keyName(p) === key)) {
        report(ctx, 'POLICY_MISSING_KEY', childPath(path, key), at, `"${key}" is required here`);
        good = false;
      }
    }
    return good ? (out as T) : undefined;
  };
}

/** A mapping from names the operator chooses (brokers, classes) to values. */
export function mapOf<T>(key: { pattern: RegExp; allowed: string }, value: Reader<T>): Reader<Readonly<Record<string, T>>> {
  return (node, path, at, ctx) => {
    const items = mappingItems(node, path, at, ctx);
    if (items === undefined) return undefined;
    const out: Record<string, T> = {};
    let good = true;
    for (const pair of items) {
      const k = keyName(pair);
      const at2 = childPath(path, k);
      remember(ctx, at2, pair);
      if (!key.pattern.test(k)) {
        report(ctx, 'POLICY_NAME_INVALID', at2, pair, `"${k}" is not a valid name: ${key.allowed}`);
        good = false;
        continue;
      }
      const v = value(pair.value, at2, pair, ctx);
      if (v === undefined) good = false;
      else out[k] = v;
    }
    return good ? out : undefined;
  };
}

function readKnownKeys(
  node: unknown,
  path: string,
  at: unknown,
  ctx: ReadContext,
  fields: Record<string, Reader<unknown>>,
  out: Record<string, unknown>,
): boolean {
  const items = mappingItems(node, path, at, ctx);
  if (items === undefined) return false;
  const known = Object.keys(fields);
  let good = true;
  for (const pair of items) {
    const k = keyName(pair);
    const at2 = childPath(path, k);
    remember(ctx, at2, pair);
    if (!known.includes(k)) {
      report(ctx, 'POLICY_UNKNOWN_KEY', at2, pair, `unknown key "${k}"${didYouMean(k, known)}; allowed: ${known.join(', ')}`);
      good = false;
      continue;
    }
    const v = fields[k](pair.value, at2, pair, ctx);
    if (v === undefined) good = false;
    else out[k] = v;
  }
  return good;
}

function mappingItems(node: unknown, path: string, at: unknown, ctx: ReadContext): Pair[] | undefined {
  if (isMap(node)) return node.items;
  report(ctx, 'POLICY_NOT_A_MAPPING', path, at, `expected a mapping, got ${describeNode(node)}`);
  return undefined;
}

function remember(ctx: ReadContext, path: string, pair: Pair): void {
  const line = ctx.yaml.lineOf(pair);
  if (line !== undefined) ctx.lines.set(path, line);
}
