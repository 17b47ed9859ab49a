// Small readers for the scenario file: each checks one value at a path, reports a problem
// with the path and the YAML line when it is wrong, and returns undefined then, so one
// pass lists every mistake in the file.
import type { Problem } from '../../../src/util/result';
import { didYouMean } from '../../../src/util/suggest';
import type { YamlDoc } from '../../../src/util/yaml-doc';

export type PathPart = string | number;

export function formatPath(path: readonly PathPart[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('') || '(document)';
}

export class FieldReader {
  readonly problems: Problem[] = [];

  constructor(private readonly yaml: YamlDoc) {}

  report(path: readonly PathPart[], code: string, message: string): void {
    // The node itself, else the closest ancestor that exists in the file.
    let line: number | undefined;
    for (let n = path.length; n >= 0 && line === undefined; n--) {
      line = n === 0 ? undefined : this.yaml.lineOf(this.yaml.doc.getIn(path.slice(0, n), true));
    }
    this.problems.push({ code, path: formatPath(path), message, ...(line === undefined ? {} : { line }) });
  }

  /** A mapping at `path`; reports keys outside `known`. */
  object(value: unknown, path: readonly PathPart[], known: readonly string[]): Record<string, unknown> | undefined {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.report(path, 'SCENARIO_TYPE', `expected a mapping, got ${describe(value)}`);
      return undefined;
    }
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (!known.includes(key)) {
        this.report([...path, key], 'SCENARIO_UNKNOWN_KEY', `unknown key${didYouMean(key, known)}; known: ${known.join(', ')}`);
      }
    }
    return record;
  }

  list(value: unknown, path: readonly PathPart[], { optional = false } = {}): unknown[] | undefined {
    if (value === undefined && optional) return [];
    if (!Array.isArray(value)) {
      this.report(path, value === undefined ? 'SCENARIO_MISSING' : 'SCENARIO_TYPE', `expected a list, got ${describe(value)}`);
      return undefined;
    }
    return value;
  }

  number(
    value: unknown,
    path: readonly PathPart[],
    range: { min: number; max: number; integer?: boolean; minExclusive?: boolean },
  ): number | undefined {
    const what = `${range.integer ? 'an integer' : 'a number'} ${range.minExclusive ? 'above' : 'from'} ${range.min} to ${range.max}`;
    if (value === undefined) {
      this.report(path, 'SCENARIO_MISSING', `is required: ${what}`);
      return undefined;
    }
    if (typeof value !== 'number' || !Number.isFinite(value) || (range.integer && !Number.isInteger(value))) {
      this.report(path, 'SCENARIO_TYPE', `expected ${what}, got ${describe(value)}`);
      return undefined;
    }
    if (value < range.min || value > range.max || (range.minExclusive && value === range.min)) {
      this.report(path, 'SCENARIO_RANGE', `expected ${what}, got ${value}`);
      return undefined;
    }
    return value;
  }

  optionalNumber(
    value: unknown,
    path: readonly PathPart[],
    range: { min: number; max: number; integer?: boolean; minExclusive?: boolean },
  ): number | undefined {
    return value === undefined ? undefined : this.number(value, path, range);
  }

  optionalBoolean(value: unknown, path: readonly PathPart[]): boolean | undefined {
    if (value === undefined || typeof value === 'boolean') return value;
    this.report(path, 'SCENARIO_TYPE', `expected true or false, got ${describe(value)}`);
    return undefined;
  }

  string(value: unknown, path: readonly PathPart[], pattern?: { re: RegExp; allowed: string }): string | undefined {
    if (typeof value !== 'string' || value.length === 0) {
      this.report(path, value === undefined ? 'SCENARIO_MISSING' : 'SCENARIO_TYPE', `expected a non-empty string, got ${describe(value)}`);
      return undefined;
    }
    if (pattern && !pattern.re.test(value)) {
      this.report(path, 'SCENARIO_FORMAT', `${JSON.stringify(value)} is not allowed: ${pattern.allowed}`);
      return undefined;
    }
    return value;
  }

  oneOf<T extends string>(value: unknown, path: readonly PathPart[], allowed: readonly T[]): T | undefined {
    if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
    const hint = typeof value === 'string' ? didYouMean(value, allowed) : '';
    this.report(
      path,
      value === undefined ? 'SCENARIO_MISSING' : 'SCENARIO_NOT_ALLOWED',
      `expected one of ${allowed.join(', ')}, got ${describe(value)}${hint}`,
    );
    return undefined;
  }
}

export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  return `${typeof value} ${String(value)}`;
}
