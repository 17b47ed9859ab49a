// The benchmark's outputs: a Markdown summary (printed and written), the JSON with every
// sample for later analysis, and the SVG plot.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { StrategyResult } from './analysis';
import { renderSvg } from './plot';
import type { StrategyRun } from './samples';
import type { Scenario } from './scenario';

export interface ReportFiles {
  readonly markdown: string;
  readonly json: string;
  readonly svg: string;
}

export function machineLine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown cpu';
  return `${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}`;
}

export function renderMarkdown(scenario: Scenario, results: readonly StrategyResult[], failures: ReadonlyMap<string, string>): string {
  const lines: string[] = [
    `## ${scenario.name}`,
    '',
    `Machine: ${machineLine()}. Duration ${scenario.durationSec} s, steady-state window ${scenario.steadyState.fromSec}–${scenario.steadyState.toSec} s, ` +
      `scrape interval ${scenario.scrapeIntervalMs} ms, ${scenario.envoys} balancer instance(s), ` +
      `${scenario.populations.reduce((n, p) => n + p.count, 0)} clients, seed ${scenario.seed}.`,
    '',
    '| strategy | imbalance (max/mean util) | T90 after join (s) | overload-s | peak util | attempts | failed (refused) | disconnects | EDS pushes/5 s steady (max) | 2 instances: same weights |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    const t90 = r.joins.length === 0 ? '–' : r.joins.map((j) => `${j.broker}: ${j.t90Sec === null ? 'never' : j.t90Sec}`).join(', ');
    const eds = r.eds ? `${r.eds.per5sSteady ?? '–'} (${r.eds.max5s})` : '–';
    const two = r.twoEnvoys ? `${r.twoEnvoys.identical}/${r.twoEnvoys.compared}` : '–';
    lines.push(
      `| ${r.strategy} | ${r.imbalance === null ? '–' : r.imbalance.toFixed(2)} | ${t90} | ${r.overloadSec.toFixed(0)} | ` +
        `${(r.peakUtilisation * 100).toFixed(0)}% | ${r.clients.attempts} | ${r.clients.failed} (${r.clients.refused}) | ` +
        `${r.clients.disconnects} | ${eds} | ${two} |`,
    );
  }
  for (const [strategy, why] of failures) lines.push(`| ${strategy} | failed: ${why.split('\n')[0].replace(/\|/g, '/')} | | | | | | | | |`);

  const names = scenario.brokers.map((b) => b.name);
  lines.push(
    '',
    'Steady state per broker: mean utilisation (mean connections).',
    '',
    `| strategy | ${scenario.brokers.map((b) => `${b.name} (cap ${b.capacity})`).join(' | ')} |`,
    `|---|${names.map(() => '---').join('|')}|`,
  );
  for (const r of results) {
    const cells = names.map((n) => {
      const s = r.steady[n];
      return s ? `${(s.utilisation * 100).toFixed(0)}% (${s.connections.toFixed(0)})` : '–';
    });
    lines.push(`| ${r.strategy} | ${cells.join(' | ')} |`);
  }
  const accepted = results.filter((r) => r.twoEnvoys);
  if (accepted.length > 0) {
    lines.push('', 'Client connections accepted per instance (the kernel spreads them over the shared port):', '');
    for (const r of accepted) lines.push(`- ${r.strategy}: ${r.twoEnvoys!.accepted.join(' / ')}`);
  }
  return lines.join('\n') + '\n';
}

export function writeReport(
  outDir: string,
  scenario: Scenario,
  runs: readonly StrategyRun[],
  results: readonly StrategyResult[],
  failures: ReadonlyMap<string, string>,
): ReportFiles {
  fs.mkdirSync(outDir, { recursive: true });
  const base = path.join(outDir, `${scenario.name}-results`);
  const markdown = renderMarkdown(scenario, results, failures);
  fs.writeFileSync(`${base}.md`, markdown);
  const json = {
    scenario,
    machine: machineLine(),
    generatedAt: new Date().toISOString(),
    results,
    failures: Object.fromEntries(failures),
    runs,
  };
  fs.writeFileSync(`${base}.json`, JSON.stringify(json, null, 1) + '\n');
  const svgFile = path.join(outDir, `${scenario.name}.svg`);
  fs.writeFileSync(svgFile, renderSvg(scenario, runs, results));
  return { markdown: `${base}.md`, json: `${base}.json`, svg: svgFile };
}
