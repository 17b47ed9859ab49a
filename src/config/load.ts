import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { isMap, isScalar } from 'yaml';
import { fail, ok, type Problem, type Result } from '../util/result';
import { didYouMean } from '../util/suggest';
import { parseArgv, type OptionSpec } from './argv';
import { keyName, parseYamlDoc, describeNode } from '../util/yaml-doc';
import type { Config } from './config-types';
import { checkValue, ENV_PREFIX } from './setting-fields';
import { COMMAND_ENV, CONFIG_ENV, CONFIG_FLAG, SETTINGS, settingByEnv, settingByFlag, settingByKey } from './settings';
import { crossFieldProblems, deepFreeze, defaultConfig, getIn, setIn } from './values';

export interface LoadInput {
  /** Arguments after the program name (`process.argv.slice(2)`). */
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Relative paths (the config file, the brokers file) are resolved against this. */
  readonly cwd: string;
  /** Reads the config file; the only I/O here, injectable for tests. */
  readonly readFile?: (path: string) => string;
}

export interface Loaded {
  readonly config: Config;
  /** Arguments that are not flags, in order (a subcommand such as `demo`). */
  readonly positional: string[];
  /** `--help` or `-h` was given. Nothing else is validated then, so help always prints. */
  readonly help: boolean;
  /** `--version` or `-V` was given; like help, nothing else is validated then. */
  readonly version: boolean;
}

/** One raw value and where it came from, so a bad value can be traced to its source. */
interface Given {
  readonly raw: unknown;
  readonly from: 'text' | 'yaml';
  /** `flag --xds-port`, `env MQTT_XDS_XDS_PORT`, `config file /etc/x.yaml`. */
  readonly source: string;
  readonly line?: number;
}

/** Builds the config from flags, env, config file and defaults, in that precedence. */
export function loadConfig(input: LoadInput): Result<Loaded> {
  const problems: Problem[] = [];
  const flags = readFlags(input.argv, problems);
  if (flags.help || flags.version)
    return ok({ config: defaultConfig(input.cwd), positional: flags.positional, help: flags.help, version: flags.version });

  const env = readEnv(input.env, problems);
  const configPath = flags.configPath ?? env.configPath;
  const file =
    configPath === undefined
      ? new Map<string, Given>()
      : readConfigFile(resolve(input.cwd, configPath), input.readFile ?? defaultReadFile, problems);

  const defaults = defaultConfig(input.cwd);
  const tree: Record<string, unknown> = {};
  const origin = new Map<string, string>();
  for (const s of SETTINGS) {
    // Every given value is checked, not only the winner: a bad value hidden by a flag
    // today would surface the day the flag is dropped.
    const given = [flags.values.get(s.key), env.values.get(s.key), file.get(s.key)];
    let chosen = false;
    for (const g of given) {
      if (g === undefined) continue;
      const checked = checkValue(s, g.raw, g.from, input.cwd);
      if (!checked.ok) {
        const at = g.line === undefined ? {} : { line: g.line };
        problems.push({ code: checked.code, path: s.key, message: `${g.source}: ${checked.reason}`, ...at });
      } else if (!chosen) {
        setIn(tree, s.key, checked.value);
        origin.set(s.key, g.source);
        chosen = true;
      }
    }
    if (!chosen) setIn(tree, s.key, getIn(defaults, s.key));
  }
  if (problems.length > 0) return fail(problems);

  const config = deepFreeze(tree as unknown as Config);
  const cross = crossFieldProblems(config, (key) => origin.get(key) ?? 'default');
  if (cross.length > 0) return fail(cross);
  return ok({ config, positional: flags.positional, help: false, version: false });
}

interface Flags {
  values: Map<string, Given>;
  positional: string[];
  help: boolean;
  version: boolean;
  configPath?: string;
}

function readFlags(argv: readonly string[], problems: Problem[]): Flags {
  const specs: Record<string, OptionSpec> = {
    [CONFIG_FLAG.slice(2)]: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
    version: { type: 'boolean', short: 'V' },
  };
  for (const flag of settingByFlag.keys()) specs[flag.slice(2)] = { type: 'string' };
  const parsed = parseArgv(argv, specs);
  const out: Flags = {
    values: new Map(),
    positional: [...parsed.positionals],
    help: parsed.values.has('help'),
    version: parsed.values.has('version'),
  };
  for (const p of parsed.problems) {
    if (p.kind === 'missing-value')
      problems.push({ code: 'CONFIG_FLAG_WITHOUT_VALUE', path: p.flag, message: `flag ${p.flag} needs a value` });
    else if (p.kind === 'unexpected-value')
      problems.push({ code: 'CONFIG_FLAG_WITH_VALUE', path: p.flag, message: `${p.message}; see --help` });
    else
      problems.push({
        code: 'CONFIG_UNKNOWN_FLAG',
        path: p.flag,
        message: `${p.message.replace(/^unknown option/, 'unknown flag')}; see --help`,
      });
  }
  for (const [name, given] of parsed.values) {
    if (typeof given.value !== 'string') continue;
    const setting = settingByFlag.get(`--${name}`);
    if (setting === undefined) out.configPath = given.value;
    else out.values.set(setting.key, { raw: given.value, from: 'text', source: `flag ${given.flag}` });
  }
  return out;
}

function readEnv(env: LoadInput['env'], problems: Problem[]): { values: Map<string, Given>; configPath?: string } {
  const values = new Map<string, Given>();
  let configPath: string | undefined;
  const known = [CONFIG_ENV, ...settingByEnv.keys()];
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith(ENV_PREFIX)) continue;
    const value = env[name];
    const setting = settingByEnv.get(name);
    // Read by a sub-command (COMMAND_ENV), not by the server: allowed, and ignored here.
    if (setting === undefined && name in COMMAND_ENV) continue;
    if (setting === undefined && name !== CONFIG_ENV) {
      // Our prefix claims the namespace: a misspelt variable must not be silently ignored.
      problems.push({
        code: 'CONFIG_UNKNOWN_ENV',
        path: name,
        message: `unknown environment variable ${name}${didYouMean(name, known)}; see --help`,
      });
      continue;
    }
    // An empty variable counts as unset, as container tooling often exports empty values.
    if (value === undefined || value === '') continue;
    if (setting === undefined) configPath = value;
    else values.set(setting.key, { raw: value, from: 'text', source: `env ${name}` });
  }
  return { values, configPath };
}

function readConfigFile(path: string, readFile: (p: string) => string, problems: Problem[]): Map<string, Given> {
  const values = new Map<string, Given>();
  let text: string;
  try {
    text = readFile(path);
  } catch (err) {
    problems.push({
      code: 'CONFIG_FILE_UNREADABLE',
      path,
      message: `cannot read config file: ${err instanceof Error ? err.message : String(err)}`,
    });
    return values;
  }
  const yaml = parseYamlDoc(text, { path, code: 'CONFIG_FILE_SYNTAX' });
  if (yaml.syntaxProblems.length > 0) {
    problems.push(...yaml.syntaxProblems);
    return values;
  }
  if (yaml.empty) return values;
  const source = `config file ${path}`;
  const walk = (node: unknown, prefix: string): void => {
    if (!isMap(node)) {
      problems.push({
        code: 'CONFIG_FILE_NOT_A_MAPPING',
        path: prefix === '' ? path : prefix,
        message: `${source}: expected a mapping of settings, got ${describeNode(node)}`,
        line: yaml.lineOf(node),
      });
      return;
    }
    for (const pair of node.items) {
      const key = prefix === '' ? keyName(pair) : `${prefix}.${keyName(pair)}`;
      const line = yaml.lineOf(pair);
      if (settingByKey.has(key)) {
        if (isScalar(pair.value) && pair.value.value !== null) {
          values.set(key, { raw: pair.value.value, from: 'yaml', source: `${source} line ${line}`, line });
        } else {
          problems.push({
            code: 'CONFIG_WRONG_TYPE',
            path: key,
            message: `${source} line ${line}: expected a single value for ${key}, got ${describeNode(pair.value)}`,
            line,
          });
        }
      } else if (sectionNames(key).length > 0) {
        // `xds:` with nothing under it is an empty section, not an error.
        if (!(isScalar(pair.value) && pair.value.value === null) && pair.value !== null) walk(pair.value, key);
      } else {
        const siblings = sectionNames(prefix);
        problems.push({
          code: 'CONFIG_UNKNOWN_KEY',
          path: key,
          message: `${source} line ${line}: unknown key "${keyName(pair)}"${didYouMean(keyName(pair), siblings)}; known here: ${siblings.join(', ')}`,
          line,
        });
      }
    }
  };
  walk(yaml.doc.contents, '');
  return values;
}

/** The names one level below a dotted prefix (`cluster` → name, …, healthCheck). */
function sectionNames(prefix: string): string[] {
  const start = prefix === '' ? '' : `${prefix}.`;
  const names = new Set<string>();
  for (const s of SETTINGS) {
    if (s.key.startsWith(start) && s.key.length > start.length) names.add(s.key.slice(start.length).split('.')[0]);
  }
  return [...names];
}

function defaultReadFile(path: string): string {
  return readFileSync(path, 'utf8');
}
