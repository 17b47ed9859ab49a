// Load-balancing benchmark: the same scenario through each strategy in turn (Envoy round
// robin, Envoy least request, HAProxy leastconn, NGINX least_conn, their capacity-weighted
// variants, Envoy driven by mqtt-xds), with real MQTT clients over loopback and fresh
// capacity-model brokers, and a report of how evenly each spread the load.
// docs/lb-benchmark.md explains it all.
//
//   npm run build && npm run bench:lb -- test/bench/lb/scenarios/heterogeneous-1-2-4.yaml \
//       [--strategies envoy-rr,mqtt-xds] [--scrape both] [--out .local/bench/lb] [--keep-work]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../../../src/util/repo-root';
import { envoyBinary } from '../../support/envoy';
import { analyse, type StrategyResult } from './analysis';
import { isEnvoyStrategy } from './balancers/envoy';
import { writeReport } from './report';
import { defaultStrategies, planRuns, PRODUCTION_SCRAPE, readsMetrics, SCRAPE_CHOICES, type ScrapeChoice } from './run-plan';
import { runStrategy } from './run-strategy';
import { OPT_IN_STRATEGIES, STRATEGIES, type Scenario, type StrategyName } from './scenario';
import { describeProblems, parseScenario } from './scenario-parse';
import type { StrategyRun } from './samples';

const USAGE = `usage: npm run bench:lb -- <scenario.yaml> [--strategies ${STRATEGIES.join(',')}] [--scrape ${SCRAPE_CHOICES.join('|')}] [--out DIR] [--keep-work]

  --strategies  comma-separated subset, run in the order given (default: all in the order above but
                ${OPT_IN_STRATEGIES.join(' and ')}; the -weighted ones only when the brokers' capacities differ)
  --scrape      mqtt-xds's scrape interval: the scenario's, production (${PRODUCTION_SCRAPE.intervalMs} ms, row mqtt-xds@${PRODUCTION_SCRAPE.intervalMs / 1000}s),
                or both as two rows (default both; one row when they are the same)
  --out         where <scenario>-results.{md,json} and <scenario>.svg go (default .local/bench/lb)
  --keep-work   keep each run's configs and process logs (kept anyway when a strategy fails)`;

interface Args {
  readonly scenarioFile: string;
  /** undefined = the default list for the scenario (run-plan.ts). */
  readonly strategies?: readonly StrategyName[];
  readonly scrape: ScrapeChoice;
  readonly outDir: string;
  readonly keepWork: boolean;
}

function parseArgs(argv: readonly string[]): Args | string {
  let scenarioFile: string | undefined;
  let strategies: StrategyName[] | undefined;
  let scrape: ScrapeChoice = 'both';
  let outDir = path.join(REPO_ROOT, '.local', 'bench', 'lb');
  let keepWork = false;
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].startsWith('--') && argv[i].includes('=') ? argv[i].split(/=(.*)/s, 2) : [argv[i], undefined];
    const value = (): string | undefined => inline ?? argv[++i];
    if (flag === '--help' || flag === '-h') return USAGE;
    if (flag === '--strategies') {
      const list = (value() ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const unknown = list.filter((s) => !(STRATEGIES as readonly string[]).includes(s));
      if (list.length === 0 || unknown.length > 0)
        return `unknown strategy ${unknown.join(', ') || '(none given)'}; known: ${STRATEGIES.join(', ')}`;
      strategies = list as StrategyName[];
    } else if (flag === '--scrape') {
      const choice = value() ?? '';
      if (!(SCRAPE_CHOICES as readonly string[]).includes(choice)) return `--scrape takes ${SCRAPE_CHOICES.join(', ')}; got "${choice}"`;
      scrape = choice as ScrapeChoice;
    } else if (flag === '--out') {
      const dir = value();
      if (!dir) return '--out needs a directory';
      outDir = path.resolve(dir);
    } else if (flag === '--keep-work') {
      keepWork = true;
    } else if (flag.startsWith('-')) {
      return `unknown flag ${flag}\n\n${USAGE}`;
    } else if (scenarioFile === undefined) {
      scenarioFile = flag;
    } else {
      return `only one scenario file, got a second: ${flag}`;
    }
  }
  if (!scenarioFile) return `no scenario file given\n\n${USAGE}`;
  return { scenarioFile: path.resolve(scenarioFile), ...(strategies ? { strategies } : {}), scrape, outDir, keepWork };
}

function loadScenario(file: string): Scenario {
  if (!fs.existsSync(file)) throw new Error(`scenario file ${file} does not exist`);
  const parsed = parseScenario(fs.readFileSync(file, 'utf8'), file);
  if (!parsed.ok) throw new Error(`${file} is not a valid scenario:\n${describeProblems(parsed.problems, path.basename(file))}`);
  return parsed.value;
}

/** What must exist before anything starts, so a missing build fails in a second, not after a run. */
function checkPrerequisites(strategies: readonly StrategyName[]): void {
  for (const file of ['dist/test/tools/testbroker/capacity-broker.js', 'dist/src/cli.js']) {
    if (!fs.existsSync(path.join(REPO_ROOT, file))) throw new Error(`${file} is missing; run \`npm run build\` first`);
  }
  if (strategies.some(isEnvoyStrategy)) envoyBinary();
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (typeof args === 'string') {
    const help = args === USAGE;
    (help ? process.stdout : process.stderr).write(`${args}\n`);
    return help ? 0 : 2;
  }
  const scenario = loadScenario(args.scenarioFile);
  const plans = planRuns(args.strategies ?? defaultStrategies(scenario), scenario, args.scrape);
  checkPrerequisites(plans.map((p) => p.strategy));
  const log = (m: string): void => void process.stderr.write(`[bench:lb] ${m}\n`);

  let aborted = false;
  const interrupt = (signal: NodeJS.Signals): void => {
    if (aborted) process.exit(130);
    aborted = true;
    log(`${signal}: stopping the current run and its processes (again to quit at once)`);
  };
  // SIGTERM too: NGINX workers have no parent-death signal, so they must be stopped by their master.
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);

  const workRoot = fs.mkdtempSync(path.join(os.tmpdir(), `mqtt-xds-lb-${scenario.name}-`));
  const runs: StrategyRun[] = [];
  const results: StrategyResult[] = [];
  const failures = new Map<string, string>();
  for (const plan of plans) {
    if (aborted) break;
    const label = plan.label;
    log(`${scenario.name}: ${label} (${scenario.durationSec} s${plan.scrape ? `, scrape every ${plan.scrape.intervalMs} ms` : ''})`);
    try {
      const run = await runStrategy({ scenario, plan, workDir: path.join(workRoot, label), log, aborted: () => aborted });
      runs.push(run);
      const result = analyse(scenario, run);
      results.push(result);
      log(
        `${label}: imbalance ${result.imbalance?.toFixed(2) ?? '–'}, oscillation ${result.oscillation?.amplitudePp ?? '–'} pp, overload ${result.overloadSec.toFixed(0)} s, ` +
          `failed ${result.clients.failed}, disconnects ${result.clients.disconnects}`,
      );
      const warning = staticWeightsWarning(scenario, run);
      if (warning) log(warning);
      for (const line of moveSummary(result)) log(line);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      failures.set(label, message);
      log(`${label} failed: ${message}`);
    }
  }
  const files = writeReport(args.outDir, scenario, runs, results, failures);
  process.stdout.write(`\n${fs.readFileSync(files.markdown, 'utf8')}\n`);
  process.stdout.write(`Wrote ${files.markdown}, ${files.json} and ${files.svg}\n`);
  if (args.keepWork || failures.size > 0) process.stdout.write(`Configs and process logs: ${workRoot}\n`);
  else fs.rmSync(workRoot, { recursive: true, force: true });
  return failures.size > 0 || aborted ? 1 : 0;
}

/**
 * mqtt-xds whose weights never left "all equal" is not balancing on metrics at all; equal
 * brokers without joins or load events may rightly keep equal weights.
 */
function staticWeightsWarning(scenario: Scenario, run: StrategyRun): string | undefined {
  if (!readsMetrics(run.strategy)) return undefined;
  const equal = new Set(scenario.brokers.map((b) => b.capacity)).size === 1;
  const stirred = scenario.events.some((e) => e.kind === 'broker-join' || e.kind === 'overload' || e.kind === 'extra-load');
  if (equal && !stirred) return undefined;
  const moved = run.samples.some((s) => (s.views ?? []).some((v) => new Set(Object.values(v.weights).filter((w) => w > 0)).size > 1));
  return moved ? undefined : `${run.label}: the weights Envoy held never differed between brokers; is metrics mode wired in src/main.ts?`;
}

/** One line per move, drain or kill result, for the log while the next strategy runs. */
function moveSummary(r: StrategyResult): string[] {
  return [
    ...(r.joinMoves ?? []).map(
      (j) =>
        `${r.label}: ${j.broker} joined: T90 ${j.t90Sec === null ? 'never' : `${j.t90Sec} s`}, ` +
        `disconnects ${j.disconnects} of minimum ${j.minimumMoves}, peak share ${pct(j.peakShare.share)}, at the end ${pct(j.endShare.share)}`,
    ),
    ...(r.drainResults ?? []).map((d) =>
      d.error !== undefined
        ? `${r.label}: drain ${d.broker}: ${d.error}`
        : `${r.label}: drain ${d.broker}: empty after ${d.emptyAfterSec === null ? 'never' : `${d.emptyAfterSec} s`}, routed after ACK ${d.routedAfterAck ?? '–'}, ` +
          `peak ${d.peakRate.count}/s (ratePerSec ${d.configuredRatePerSec}), failed ${d.failedAfter}`,
    ),
    ...(r.killResults ?? []).map(
      (k) =>
        `${r.label}: kill ${k.broker}: 99 % back after ${k.mostBackSec ?? '–'} s, all ${k.allBackSec === null ? 'never' : `after ${k.allBackSec} s`}, failed ${k.failedAfter}, ` +
        `fullest ${k.peak.broker ?? '–'} ${k.peak.connections}${k.perHostLimit === undefined ? '' : ` (limit ${k.perHostLimit})`}`,
    ),
  ];
}

function pct(share: number | null): string {
  return share === null ? '–' : `${Math.round(share * 100)}%`;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench:lb: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
