import { isMap, isScalar, isSeq, type Pair, type YAMLMap } from 'yaml';
import { BROKER_NAME, LABEL } from '../domain/broker';
import { fail, ok, type Problem, type Result } from '../util/result';
import { canonicalHost, hostProblem } from '../util/host';
import { didYouMean } from '../util/suggest';
import { describeNode, keyName, parseYamlDoc, type YamlDoc } from '../util/yaml-doc';

/** One broker as written in the brokers file; the host is not resolved yet. */
export interface BrokerEntry {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly websocketPort?: number;
  readonly metricsUrl?: string;
  /** The broker agent's base URL (docs/agent-api.md). */
  readonly agentUrl?: string;
  readonly staticWeight?: number;
  readonly draining?: boolean;
  readonly labels?: Readonly<Record<string, string>>;
}

const MAX_NAME_LENGTH = 253;
const MAX_WEIGHT = 1_000_000;
const FIELDS = ['name', 'host', 'port', 'websocketPort', 'metricsUrl', 'agentUrl', 'weight', 'draining', 'labels'] as const;
const MAX_LABELS = 32;
type Field = (typeof FIELDS)[number];
const REQUIRED: readonly Field[] = ['name', 'host', 'port'];
const URL_CODES = { metricsUrl: 'BROKER_METRICS_URL_INVALID', agentUrl: 'BROKER_AGENT_URL_INVALID' } as const;

/**
 * Parses and validates a brokers file. Reports every problem at once, each with its path
 * (`brokers[2].port`) and line, so one edit-and-retry fixes the whole file.
 */
export function parseBrokersFile(text: string, fileName: string): Result<BrokerEntry[]> {
  const yaml = parseYamlDoc(text, { path: fileName, code: 'BROKERS_SYNTAX' });
  if (yaml.syntaxProblems.length > 0) return fail(yaml.syntaxProblems);
  if (yaml.empty) return fail([emptyProblem(fileName, `${fileName} holds no brokers`, 1)]);

  const root = yaml.doc.contents;
  if (!isMap(root)) {
    return fail([
      {
        code: 'BROKERS_NOT_A_MAPPING',
        path: fileName,
        message: `expected a mapping with a "brokers" list, got ${describeNode(root)}`,
        ...lineField(yaml, root),
      },
    ]);
  }
  const problems: Problem[] = [];
  let list: Pair | undefined;
  for (const pair of (root as YAMLMap).items) {
    const key = keyName(pair);
    if (key === 'brokers') list = pair;
    else problems.push(unknownKey(yaml, pair, key, key, ['brokers']));
  }
  if (list === undefined) {
    problems.push({ code: 'BROKERS_MISSING', path: 'brokers', message: 'no "brokers" list in the file', ...lineField(yaml, root) });
    return fail(problems);
  }
  const items = list.value;
  if (items === null || (isScalar(items) && items.value === null) || (isSeq(items) && items.items.length === 0)) {
    problems.push(emptyProblem('brokers', 'the "brokers" list is empty', yaml.lineOf(list)));
    return fail(problems);
  }
  if (!isSeq(items)) {
    problems.push({
      code: 'BROKERS_NOT_A_LIST',
      path: 'brokers',
      message: `expected a list of brokers, got ${describeNode(items)}`,
      ...lineField(yaml, list),
    });
    return fail(problems);
  }

  const entries: BrokerEntry[] = [];
  const names = new Map<string, string>();
  const endpoints = new Map<string, string>();
  items.items.forEach((item, i) => {
    const at = `brokers[${i}]`;
    const entry = parseEntry(yaml, item, at, problems);
    if (entry === undefined) return;
    if (entry.name !== undefined) {
      const first = names.get(entry.name);
      if (first !== undefined) {
        problems.push({
          code: 'BROKER_DUPLICATE_NAME',
          path: `${at}.name`,
          message: `name "${entry.name}" is already used by ${first}; names must be unique`,
          ...lineField(yaml, entry.lines.name),
        });
      } else names.set(entry.name, at);
    }
    if (entry.host !== undefined && entry.port !== undefined) {
      const endpoint = formatEndpoint(canonicalHost(entry.host), entry.port);
      const first = endpoints.get(endpoint);
      if (first !== undefined) {
        problems.push({
          code: 'BROKER_DUPLICATE_ENDPOINT',
          path: `${at}.host`,
          message: `${endpoint} is already listed as ${first}; each broker needs its own host and port`,
          ...lineField(yaml, entry.lines.host),
        });
      } else endpoints.set(endpoint, at);
    }
    if (entry.complete !== undefined) entries.push(entry.complete);
  });
  return problems.length > 0 ? fail(problems) : ok(entries);
}

/** `host:port`, with IPv6 literals bracketed so the port stays readable. */
export function formatEndpoint(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

interface ParsedEntry {
  name?: string;
  host?: string;
  port?: number;
  lines: Partial<Record<Field, unknown>>;
  complete?: BrokerEntry;
}

function parseEntry(yaml: YamlDoc, item: unknown, at: string, problems: Problem[]): ParsedEntry | undefined {
  if (!isMap(item)) {
    problems.push({
      code: 'BROKER_NOT_A_MAPPING',
      path: at,
      message: `expected a broker (a mapping with name, host and port), got ${describeNode(item)}`,
      ...lineField(yaml, item),
    });
    return undefined;
  }
  const before = problems.length;
  const out: ParsedEntry = { lines: {} };
  const values: {
    websocketPort?: number;
    metricsUrl?: string;
    agentUrl?: string;
    staticWeight?: number;
    draining?: boolean;
    labels?: Record<string, string>;
  } = {};
  for (const pair of item.items) {
    const key = keyName(pair);
    if (!(FIELDS as readonly string[]).includes(key)) {
      problems.push(unknownKey(yaml, pair, `${at}.${key}`, key, FIELDS));
      continue;
    }
    const field = key as Field;
    out.lines[field] = pair;
    const value = isScalar(pair.value) ? pair.value.value : pair.value;
    const bad = (code: string, expected: string): void => {
      const got = isScalar(pair.value) ? describeNode(pair.value) : describeNode(pair.value ?? null);
      problems.push({ code, path: `${at}.${field}`, message: `expected ${expected}, got ${got}`, ...lineField(yaml, pair) });
    };
    switch (field) {
      case 'name':
        if (typeof value !== 'string') bad('BROKER_NAME_INVALID', 'a string name (quote names that look like numbers)');
        else if (value.length > MAX_NAME_LENGTH || !BROKER_NAME.pattern.test(value))
          bad('BROKER_NAME_INVALID', `${BROKER_NAME.allowed}, at most ${MAX_NAME_LENGTH} characters`);
        else out.name = value;
        break;
      case 'host': {
        const why = typeof value === 'string' ? hostProblem(value) : 'expected an IPv4 or IPv6 address or a DNS name';
        if (why !== undefined) bad('BROKER_HOST_INVALID', `an IPv4/IPv6 address or DNS name (${why})`);
        else out.host = value as string;
        break;
      }
      case 'port':
        if (typeof value !== 'number' || !Number.isInteger(value)) bad('BROKER_PORT_INVALID', 'an integer port in 1..65535');
        else if (value < 1 || value > 65535) bad('BROKER_PORT_RANGE', 'an integer port in 1..65535');
        else out.port = value;
        break;
      case 'websocketPort':
        if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535)
          bad('BROKER_PORT_INVALID', 'an integer port in 1..65535');
        else values.websocketPort = value;
        break;
      case 'metricsUrl':
      case 'agentUrl':
        if (typeof value !== 'string' || !isHttpUrl(value)) bad(URL_CODES[field], 'an http:// or https:// URL');
        else values[field] = value;
        break;
      case 'weight':
        if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_WEIGHT)
          bad('BROKER_WEIGHT_INVALID', `an integer weight in 1..${MAX_WEIGHT}`);
        else values.staticWeight = value;
        break;
      case 'draining':
        // YAML 1.2 reads `yes`/`no` as strings; insisting on booleans avoids a silent "yes".
        if (typeof value !== 'boolean') bad('BROKER_DRAINING_INVALID', 'true or false');
        else values.draining = value;
        break;
      case 'labels': {
        const labels = labelsOf(pair.value);
        if (typeof labels === 'string') bad('BROKER_LABELS_INVALID', labels);
        else values.labels = labels;
        break;
      }
    }
  }
  for (const field of REQUIRED) {
    if (out.lines[field] === undefined) {
      problems.push({
        code: 'BROKER_MISSING_FIELD',
        path: `${at}.${field}`,
        message: `broker has no "${field}"; name, host and port are required`,
        ...lineField(yaml, item),
      });
    }
  }
  if (problems.length === before && out.name !== undefined && out.host !== undefined && out.port !== undefined) {
    out.complete = { name: out.name, host: out.host, port: out.port, ...values };
  }
  return out;
}

/** A mapping of label keys to string values, or what was expected instead. */
function labelsOf(node: unknown): Record<string, string> | string {
  const expected = `a mapping of at most ${MAX_LABELS} labels in ${LABEL.allowed}`;
  if (!isMap(node) || node.items.length > MAX_LABELS) return expected;
  const out: Record<string, string> = {};
  for (const pair of node.items) {
    const key = keyName(pair);
    const value = isScalar(pair.value) ? pair.value.value : undefined;
    if (!LABEL.key.test(key) || typeof value !== 'string' || !LABEL.value.test(value)) return `${expected} (at "${key}")`;
    out[key] = value;
  }
  return out;
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

function unknownKey(yaml: YamlDoc, pair: Pair, path: string, key: string, known: readonly string[]): Problem {
  return {
    code: path.startsWith('brokers[') ? 'BROKER_UNKNOWN_KEY' : 'BROKERS_UNKNOWN_KEY',
    path,
    message: `unknown key "${key}"${didYouMean(key, known)}; allowed: ${known.join(', ')}`,
    ...lineField(yaml, pair),
  };
}

function emptyProblem(path: string, what: string, line?: number): Problem {
  return {
    code: 'BROKERS_EMPTY',
    path,
    message:
      `${what}: mqtt-xds refuses to remove every broker at once, because a half-written file ` +
      'must never empty the cluster; list at least one broker (mark brokers "draining: true" to move clients off)',
    ...(line === undefined ? {} : { line }),
  };
}

function lineField(yaml: YamlDoc, node: unknown): { line?: number } {
  const line = yaml.lineOf(node);
  return line === undefined ? {} : { line };
}
