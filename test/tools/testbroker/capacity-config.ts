// Command-line flags of the capacity test broker: the one place that reads them. Each
// flag is declared once (name, meaning, default, range), which gives parsing, the
// launcher's argument list and --help from the same table.
import { fail, ok, type Problem, type Result } from '../../../src/util/result';
import { didYouMean } from '../../../src/util/suggest';
import type { CpuModelConfig } from './capacity-cpu';
import { checkCpuFlags, CPU_FLAGS } from './capacity-cpu-flags';
import { DEFAULT_CONNECTION_COST, DEFAULT_MESSAGE_COST } from './capacity-model';
import { PROXY_FLAGS, type ProxyProtocolConfig } from './proxy-flags';

export interface CapacityBrokerOptions extends Omit<CpuModelConfig, 'cores'>, ProxyProtocolConfig {
  readonly name: string;
  readonly host: string;
  /** MQTT port; 0 picks a free one. */
  readonly port: number;
  /** Port of GET /metrics and the admin API; 0 picks a free one. */
  readonly metricsPort: number;
  readonly capacity: number;
  readonly connectionCost: number;
  readonly messageCost: number;
  readonly windowMs: number;
  readonly tickMs: number;
  readonly noise: number;
  readonly seed: number;
  /** The CPU limit in cores, fractional allowed (a 0.25-core quota). */
  readonly cores: number;
  /** Bearer token of the agent API (docs/agent-api.md); undefined: no token is asked for. */
  readonly agentToken?: string;
  /** Port of the cluster link on 127.0.0.1 (cluster-link.ts); undefined: no link; 0 = any free port. */
  readonly clusterPort?: number;
  /** Frames queued per peer of the cluster link before new ones are dropped. */
  readonly clusterQueue: number;
}

export interface FlagSpec {
  readonly flag: string;
  readonly key: keyof CapacityBrokerOptions;
  readonly kind: 'string' | 'integer' | 'number' | 'choice';
  /** The values a `choice` takes. */
  readonly choices?: readonly string[];
  readonly help: string;
  /** Undefined: the flag is required, unless it is `optional`. */
  readonly fallback?: string | number;
  /** Without a fallback, absent means unset. */
  readonly optional?: boolean;
  readonly min?: number;
  /** Inclusive unless `maxExclusive`. */
  readonly max?: number;
  readonly maxExclusive?: boolean;
  readonly minExclusive?: boolean;
}

export const CAPACITY_BROKER_FLAGS: readonly FlagSpec[] = [
  { flag: '--name', key: 'name', kind: 'string', fallback: 'capacity-broker', help: 'broker name (aedes id, logs, state)' },
  { flag: '--host', key: 'host', kind: 'string', fallback: '127.0.0.1', help: 'address both ports bind to' },
  { flag: '--port', key: 'port', kind: 'integer', fallback: 0, min: 0, max: 65535, help: 'MQTT port; 0 = any free port' },
  {
    flag: '--metrics-port',
    key: 'metricsPort',
    kind: 'integer',
    fallback: 0,
    min: 0,
    max: 65535,
    help: 'HTTP port of /metrics and /admin/*; 0 = any free port',
  },
  {
    flag: '--capacity',
    key: 'capacity',
    kind: 'number',
    min: 0,
    minExclusive: true,
    help: 'cost units per second the broker handles at utilisation 1.0',
  },
  {
    flag: '--connection-cost',
    key: 'connectionCost',
    kind: 'number',
    fallback: DEFAULT_CONNECTION_COST,
    min: 0,
    help: 'cost units per second of each connected client',
  },
  {
    flag: '--message-cost',
    key: 'messageCost',
    kind: 'number',
    fallback: DEFAULT_MESSAGE_COST,
    min: 0,
    help: 'cost units of one PUBLISH received or one copy delivered',
  },
  {
    flag: '--window-ms',
    key: 'windowMs',
    kind: 'integer',
    fallback: 5000,
    min: 1000,
    max: 600_000,
    help: 'sliding window over which message rates are measured',
  },
  {
    flag: '--tick-ms',
    key: 'tickMs',
    kind: 'integer',
    fallback: 100,
    min: 10,
    max: 10_000,
    help: 'how often the model is re-evaluated (HiveMQ recomputes its level every 100 ms)',
  },
  {
    flag: '--noise',
    key: 'noise',
    kind: 'number',
    fallback: 0,
    min: 0,
    max: 1,
    maxExclusive: true,
    help: 'amplitude of multiplicative uniform CPU noise, e.g. 0.2 = ±20 %',
  },
  { flag: '--seed', key: 'seed', kind: 'integer', fallback: 1, min: 0, max: 4294967295, help: 'seed of the CPU noise' },
  {
    flag: '--cores',
    key: 'cores',
    kind: 'number',
    fallback: 1,
    min: 0,
    minExclusive: true,
    max: 1024,
    help: 'CPU limit in cores (0.25 = a quarter-core quota): process_cpu_seconds_total grows by cpu × cores per second',
  },
  ...CPU_FLAGS,
  ...PROXY_FLAGS,
  {
    flag: '--agent-token',
    key: 'agentToken',
    kind: 'string',
    optional: true,
    help: 'token /agent/v1/* (except health) require as "Authorization: Bearer"; unset = no token (tests only)',
  },
  {
    flag: '--cluster-port',
    key: 'clusterPort',
    kind: 'integer',
    optional: true,
    min: 0,
    max: 65535,
    help: 'turns the cluster link on, listening on 127.0.0.1 at this port (0 = any free port); peers via POST /admin/cluster',
  },
  {
    flag: '--cluster-queue',
    key: 'clusterQueue',
    kind: 'integer',
    fallback: 10_000,
    min: 1,
    max: 1_000_000,
    help: 'messages queued per cluster peer before new ones are dropped',
  },
];

export function capacityBrokerUsage(): string {
  const rows = CAPACITY_BROKER_FLAGS.map((f) => {
    const value = f.kind === 'string' ? '<text>' : f.kind === 'choice' ? `<${f.choices?.join('|')}>` : '<n>';
    const dflt = f.fallback !== undefined ? ` (default ${f.fallback})` : f.optional ? ' (optional)' : ' (required)';
    return `  ${`${f.flag} ${value}`.padEnd(30)} ${f.help}${dflt}`;
  });
  return ['usage: node dist/test/tools/testbroker/capacity-broker.js --capacity <n> [flags]', '', ...rows, '  --help'].join('\n');
}

export type ParsedArgs = { help: true } | { help: false; options: CapacityBrokerOptions };

export function parseCapacityBrokerArgs(argv: readonly string[]): Result<ParsedArgs> {
  const byFlag = new Map(CAPACITY_BROKER_FLAGS.map((f) => [f.flag, f]));
  const raw = new Map<FlagSpec, string>();
  const problems: Problem[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') return ok({ help: true });
    const eq = arg.indexOf('=');
    const flag = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const spec = byFlag.get(flag);
    if (!spec) {
      problems.push({
        code: 'UNKNOWN_FLAG',
        path: flag,
        message: `unknown flag${didYouMean(flag, byFlag.keys())}; see --help`,
      });
      // Its value, if it has one, is not a flag of its own.
      if (flag === arg && argv[i + 1] !== undefined && !argv[i + 1].startsWith('--')) i += 1;
      continue;
    }
    const value = flag !== arg ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) {
      problems.push({ code: 'MISSING_VALUE', path: flag, message: 'needs a value' });
      continue;
    }
    raw.set(spec, value);
  }
  const options: Record<string, string | number> = {};
  for (const spec of CAPACITY_BROKER_FLAGS) {
    const text = raw.get(spec);
    if (text === undefined) {
      if (spec.optional) continue;
      if (spec.fallback === undefined) {
        problems.push({ code: 'REQUIRED_FLAG', path: spec.flag, message: `is required: ${spec.help}` });
      } else {
        options[spec.key] = spec.fallback;
      }
      continue;
    }
    const value = convert(spec, text, problems);
    if (value !== undefined) options[spec.key] = value;
  }
  if (problems.length === 0) checkCpuFlags(options as unknown as CapacityBrokerOptions, problems);
  return problems.length ? fail(problems) : ok({ help: false, options: options as unknown as CapacityBrokerOptions });
}

function convert(spec: FlagSpec, text: string, problems: Problem[]): string | number | undefined {
  if (spec.kind === 'string') {
    if (text.length > 0) return text;
    problems.push({ code: 'EMPTY_VALUE', path: spec.flag, message: 'must not be empty' });
    return undefined;
  }
  if (spec.kind === 'choice') {
    const choices = spec.choices ?? [];
    if (choices.includes(text)) return text;
    problems.push({
      code: 'BAD_CHOICE',
      path: spec.flag,
      message: `expected one of ${choices.join(', ')}, got "${text}"${didYouMean(text, choices)}`,
    });
    return undefined;
  }
  const value = text.trim() === '' ? NaN : Number(text);
  if (!Number.isFinite(value) || (spec.kind === 'integer' && !Number.isInteger(value))) {
    const expected = spec.kind === 'integer' ? 'an integer' : 'a number';
    problems.push({ code: 'BAD_NUMBER', path: spec.flag, message: `expected ${expected}, got "${text}"` });
    return undefined;
  }
  const tooLow = spec.min !== undefined && (spec.minExclusive ? value <= spec.min : value < spec.min);
  const tooHigh = spec.max !== undefined && (spec.maxExclusive ? value >= spec.max : value > spec.max);
  if (tooLow || tooHigh) {
    const low = spec.min === undefined ? '' : `${spec.minExclusive ? '>' : '≥'} ${spec.min}`;
    const high = spec.max === undefined ? '' : `${spec.maxExclusive ? '<' : '≤'} ${spec.max}`;
    const range = [low, high].filter(Boolean).join(' and ');
    problems.push({ code: 'FLAG_RANGE', path: spec.flag, message: `must be ${range}, got ${text}` });
    return undefined;
  }
  return value;
}

/** The flags that give `options` (only those that differ from the defaults are needed). */
export function capacityBrokerArgs(options: Partial<CapacityBrokerOptions>): string[] {
  const args: string[] = [];
  for (const spec of CAPACITY_BROKER_FLAGS) {
    const value = options[spec.key];
    if (value !== undefined) args.push(spec.flag, String(value));
  }
  return args;
}
