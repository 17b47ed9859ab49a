// The packaging tools the helm and alert tests run, where scripts/setup-packaging leaves
// them (under ~/.cache/mqtt-xds/bin), and the chart and rule files they check.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from './repo-root';

const SETUP_SCRIPT = path.join(REPO_ROOT, 'scripts', 'setup-packaging');

function binDir(): string {
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'mqtt-xds', 'bin');
}

/** The helm version scripts/setup-packaging pins; read from the script so the pin lives in one place. */
export function helmVersion(): string {
  const m = /^HELM_VERSION="(v[0-9.]+)"$/m.exec(fs.readFileSync(SETUP_SCRIPT, 'utf8'));
  if (!m) throw new Error(`no HELM_VERSION="vX.Y.Z" line in ${SETUP_SCRIPT}`);
  return m[1];
}

/** Path of a tool scripts/setup-packaging installs; a clear error when it has not run. */
export function packagingTool(name: 'helm' | 'promtool'): string {
  const bin = name === 'helm' ? path.join(binDir(), `helm-${helmVersion()}`) : path.join(binDir(), 'promtool');
  try {
    fs.accessSync(bin, fs.constants.X_OK);
  } catch {
    throw new Error(`${name} not found or not executable at ${bin}. Run scripts/setup-packaging to install it.`);
  }
  return bin;
}

export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a tool to its end (60 s at most); never throws for a non-zero exit. */
export function run(bin: string, args: readonly string[], cwd = REPO_ROOT): Promise<Run> {
  return new Promise((resolve) => {
    execFile(bin, args, { cwd, timeout: 60_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

export const PROMETHEUS_RULE = path.join(REPO_ROOT, 'deploy', 'monitoring', 'prometheusrule.yaml');
export const CHART_DIR = path.join(REPO_ROOT, 'deploy', 'helm', 'mqtt-xds');
export const CHART_ALERTS = path.join(CHART_DIR, 'files', 'alerts.yaml');

/** The rule groups of deploy/monitoring/prometheusrule.yaml, as a plain Prometheus rules file would hold them. */
export function ruleGroups(file = PROMETHEUS_RULE): { groups: unknown[] } {
  const rule = parse(fs.readFileSync(file, 'utf8')) as { kind?: string; spec?: { groups?: unknown[] } };
  if (rule.kind !== 'PrometheusRule' || !Array.isArray(rule.spec?.groups))
    throw new Error(`${file}: not a PrometheusRule with spec.groups`);
  return { groups: rule.spec.groups };
}
