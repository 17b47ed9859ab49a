// A strict parser for the Prometheus text exposition format 0.0.4. We parse it ourselves
// rather than add a dependency: we know of no maintained npm parser that accepts what
// HiveMQ's Prometheus extension really emits (the trailing comma the Java simpleclient
// writes inside label sets, Java's `5.2231E7` spelling of numbers, Dropwizard-derived
// names) and also reports each problem with its line, which a failed scrape must name.
import { fail, ok, type Problem, type Result } from '../util/result';

export interface Sample {
  readonly name: string;
  /** A null-prototype object, so a label called `__proto__` is just a label. */
  readonly labels: Readonly<Record<string, string>>;
  /** May be NaN or ±Infinity, as the format allows; consumers decide what to do with them. */
  readonly value: number;
  /** 1-based line of the page the sample came from. */
  readonly line: number;
}

export interface ParseOptions {
  /** Pages larger than this (UTF-8 bytes) are refused before parsing. */
  readonly maxBytes?: number;
  /** Problems listed before the rest are summarised in one last problem. */
  readonly maxProblems?: number;
}

export const DEFAULT_MAX_PAGE_BYTES = 8 * 1024 * 1024;
const DEFAULT_MAX_PROBLEMS = 20;

export const METRIC_TYPES = ['counter', 'gauge', 'histogram', 'summary', 'untyped'] as const;
const metricTypes: ReadonlySet<string> = new Set(METRIC_TYPES);

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME_START = /[a-zA-Z_]/;
const LABEL_NAME_PART = /[a-zA-Z0-9_]/;
const NAME_PART = /[a-zA-Z0-9_:]/;
// Go's ParseFloat (which Prometheus uses) spells these case-insensitively.
const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const NAN = /^nan$/i;
const INF = /^([+-]?)inf(?:inity)?$/i;
const TIMESTAMP = /^-?\d+$/;

/** Thrown inside one line's parse and caught for that line only: never escapes this module. */
class LineError extends Error {
  constructor(
    readonly code: string,
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Parses a whole page. Any problem fails the page: a half-read page would give the balancer
 * half the truth (a missing counter looks like a broker that stopped working).
 */
export function parsePrometheusText(text: string, opts: ParseOptions = {}): Result<Sample[]> {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_PAGE_BYTES;
  const maxProblems = opts.maxProblems ?? DEFAULT_MAX_PROBLEMS;
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > maxBytes) {
    return fail([
      {
        code: 'PROM_TOO_LARGE',
        path: 'page',
        message: `the page is ${bytes} bytes, over the limit of ${maxBytes}; is this really a metrics endpoint?`,
      },
    ]);
  }

  const samples: Sample[] = [];
  const problems: Problem[] = [];
  let unlisted = 0;
  const typed = new Map<string, number>();
  const seen = new Map<string, number>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    let raw = lines[i];
    if (raw.endsWith('\r')) raw = raw.slice(0, -1);
    const line = trimBlanks(raw);
    if (line === '') continue;
    try {
      if (line.startsWith('#')) parseComment(line, lineNo, typed);
      else {
        const sample = parseSample(line, lineNo);
        // The same series twice: which value is true cannot be known, so the page is refused.
        const key = seriesKey(sample);
        const first = seen.get(key);
        if (first !== undefined) {
          throw new LineError('PROM_DUPLICATE_SERIES', sample.name, `the series ${key} appears again (first on line ${first})`);
        }
        seen.set(key, lineNo);
        samples.push(sample);
      }
    } catch (e) {
      if (!(e instanceof LineError)) throw e;
      if (problems.length < maxProblems) problems.push({ code: e.code, path: e.path, line: lineNo, message: e.message });
      else unlisted++;
    }
  }
  if (unlisted > 0) {
    problems.push({
      code: 'PROM_TOO_MANY_PROBLEMS',
      path: 'page',
      message: `${unlisted} more problem(s) not listed`,
    });
  }
  return problems.length > 0 ? fail(problems) : ok(samples);
}

/** name{a="1",b="2"} with the labels sorted: one key per series, however the page orders them. */
function seriesKey(s: Sample): string {
  const labels = Object.keys(s.labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(s.labels[k])}`);
  return labels.length === 0 ? s.name : `${s.name}{${labels.join(',')}}`;
}

function trimBlanks(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isBlank(s[a])) a++;
  while (b > a && isBlank(s[b - 1])) b--;
  return s.slice(a, b);
}

function isBlank(c: string | undefined): boolean {
  return c === ' ' || c === '\t';
}

/** `# HELP name text`, `# TYPE name type`, or any other comment (ignored). */
function parseComment(line: string, lineNo: number, typed: Map<string, number>): void {
  const tokens = line
    .slice(1)
    .split(/[ \t]+/)
    .filter((t) => t !== '');
  const keyword = tokens[0];
  if (keyword !== 'HELP' && keyword !== 'TYPE') return;
  const name = tokens[1];
  if (name === undefined) throw new LineError('PROM_META', keyword, `# ${keyword} needs a metric name`);
  if (!METRIC_NAME.test(name)) {
    throw new LineError('PROM_METRIC_NAME', name, `# ${keyword} names an invalid metric name '${name}'`);
  }
  // HELP text is free (we keep none of it); TYPE must be exactly one known type.
  if (keyword === 'HELP') return;
  if (tokens.length !== 3) {
    throw new LineError('PROM_META', name, `# TYPE ${name} needs exactly one type (${METRIC_TYPES.join(', ')})`);
  }
  const type = tokens[2];
  if (!metricTypes.has(type)) {
    throw new LineError('PROM_META', name, `unknown metric type '${type}' (expected ${METRIC_TYPES.join(', ')})`);
  }
  const earlier = typed.get(name);
  if (earlier !== undefined) {
    throw new LineError('PROM_META', name, `second # TYPE line for '${name}' (the first is on line ${earlier})`);
  }
  typed.set(name, lineNo);
}

/** `name{labels} value [timestamp]`; the line is already trimmed and not a comment. */
function parseSample(line: string, lineNo: number): Sample {
  let pos = 0;
  while (pos < line.length && NAME_PART.test(line[pos])) pos++;
  const name = line.slice(0, pos);
  const next = line[pos];
  if (name === '' || !METRIC_NAME.test(name) || (next !== undefined && next !== '{' && !isBlank(next))) {
    const token = line.slice(0, tokenEnd(line, 0));
    throw new LineError(
      'PROM_METRIC_NAME',
      token,
      `'${token}' is not a valid metric name (letters, digits, '_' and ':', not starting with a digit)`,
    );
  }

  let labels: Record<string, string> = Object.create(null) as Record<string, string>;
  if (next === '{') {
    const parsed = parseLabels(line, pos + 1, name);
    labels = parsed.labels;
    pos = parsed.end;
  }
  while (isBlank(line[pos])) pos++;
  if (pos >= line.length) throw new LineError('PROM_SYNTAX', name, `'${name}' has no value`);

  const valueEnd = tokenEnd(line, pos);
  const value = parseValue(line.slice(pos, valueEnd), name);
  pos = valueEnd;
  while (isBlank(line[pos])) pos++;
  if (pos < line.length) {
    const tsEnd = tokenEnd(line, pos);
    const ts = line.slice(pos, tsEnd);
    if (!TIMESTAMP.test(ts)) {
      throw new LineError('PROM_TIMESTAMP', name, `'${ts}' after the value is not a timestamp (integer milliseconds)`);
    }
    pos = tsEnd;
    while (isBlank(line[pos])) pos++;
    if (pos < line.length) {
      throw new LineError('PROM_SYNTAX', name, `unexpected '${line.slice(pos)}' after the timestamp`);
    }
  }
  return { name, labels, value, line: lineNo };
}

function tokenEnd(line: string, from: number): number {
  let end = from;
  while (end < line.length && !isBlank(line[end])) end++;
  return end;
}

function parseValue(token: string, name: string): number {
  if (NUMBER.test(token)) {
    const v = Number(token);
    if (!Number.isFinite(v)) throw new LineError('PROM_VALUE', name, `value '${token}' is out of range`);
    return v;
  }
  if (NAN.test(token)) return NaN;
  const inf = INF.exec(token);
  if (inf) return inf[1] === '-' ? -Infinity : Infinity;
  throw new LineError('PROM_VALUE', name, `'${token}' is not a number (expected e.g. 42, 1.5E7, NaN, +Inf)`);
}

/**
 * Reads `a="x",b="y"}` starting just after the `{`; a trailing comma before `}` is
 * accepted, as the Java client writes one. Returns the position after the `}`.
 */
function parseLabels(line: string, start: number, name: string): { labels: Record<string, string>; end: number } {
  const labels = Object.create(null) as Record<string, string>;
  const where = (p: number): string => `column ${p + 1}`;
  let pos = start;
  let expectName = true; // after `{` or `,`; otherwise after a complete pair
  for (;;) {
    while (isBlank(line[pos])) pos++;
    const c = line[pos];
    if (c === undefined) {
      throw new LineError('PROM_LABELS', name, `label set of '${name}' is not closed with '}'`);
    }
    // `{}` and a trailing comma (`{a="x",}`) both close here; `{,}` fails below.
    if (c === '}') return { labels, end: pos + 1 };
    if (!expectName) {
      if (c !== ',') {
        throw new LineError('PROM_LABELS', name, `expected ',' or '}' in the labels of '${name}', found '${c}' (${where(pos)})`);
      }
      pos++;
      expectName = true;
      continue;
    }
    if (!LABEL_NAME_START.test(c)) {
      throw new LineError('PROM_LABELS', name, `expected a label name in the labels of '${name}', found '${c}' (${where(pos)})`);
    }
    const nameStart = pos;
    while (pos < line.length && LABEL_NAME_PART.test(line[pos])) pos++;
    const label = line.slice(nameStart, pos);
    while (isBlank(line[pos])) pos++;
    if (line[pos] !== '=') {
      throw new LineError('PROM_LABELS', name, `expected '=' after label '${label}' of '${name}' (${where(pos)})`);
    }
    pos++;
    while (isBlank(line[pos])) pos++;
    if (line[pos] !== '"') {
      throw new LineError('PROM_LABELS', name, `value of label '${label}' of '${name}' must be in double quotes (${where(pos)})`);
    }
    const read = readQuoted(line, pos + 1, name, label);
    if (label in labels) throw new LineError('PROM_LABELS', name, `label '${label}' appears twice on '${name}'`);
    labels[label] = read.value;
    pos = read.end;
    expectName = false;
  }
}

/** Reads a label value after its opening quote; escapes are `\\`, `\"` and `\n`. */
function readQuoted(line: string, start: number, name: string, label: string): { value: string; end: number } {
  let value = '';
  let pos = start;
  for (;;) {
    const c = line[pos];
    if (c === undefined) {
      throw new LineError('PROM_LABELS', name, `value of label '${label}' of '${name}' has no closing quote`);
    }
    if (c === '"') return { value, end: pos + 1 };
    if (c === '\\') {
      const e = line[pos + 1];
      if (e === '\\' || e === '"') value += e;
      else if (e === 'n') value += '\n';
      else {
        throw new LineError(
          'PROM_LABELS',
          name,
          `invalid escape '\\${e ?? ''}' in label '${label}' of '${name}' (only \\\\, \\" and \\n are allowed)`,
        );
      }
      pos += 2;
      continue;
    }
    value += c;
    pos++;
  }
}
