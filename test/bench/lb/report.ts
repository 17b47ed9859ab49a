// The benchmark's outputs: a Markdown summary (printed and written), the JSON with every
// sample for later analysis, and the SVG plot.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { StrategyResult } from './analysis';
import { renderSvg } from './plot';
import type { StrategyRun } from './samples';
import { METRICS_EVENT_KINDS, type Scenario } from './scenario';
import { OSCILLATION_SMOOTHING_SAMPLES } from './window-metrics';

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
      `scenario's scrape interval ${scenario.scrapeIntervalMs} ms (each mqtt-xds row states the one it ran with), ` +
      `${scenario.envoys} balancer instance(s), ${scenario.populations.reduce((n, p) => n + p.count, 0)} clients, seed ${scenario.seed}.`,
    '',
    '| strategy | scrape every (timeout) | imbalance (max/mean util) | oscillation (pp) | T90 after join (s) | overload-s | peak util | attempts | failed (refused) | disconnects | EDS pushes/5 s steady (max) | 2 instances: same weights |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    const t90 = r.joins.length === 0 ? '–' : r.joins.map((j) => `${j.broker}: ${j.t90Sec === null ? 'never' : j.t90Sec}`).join(', ');
    const eds = r.eds ? `${r.eds.per5sSteady ?? '–'} (${r.eds.max5s})` : '–';
    const two = r.twoEnvoys ? `${r.twoEnvoys.identical}/${r.twoEnvoys.compared}` : '–';
    const osc = r.oscillation ? `${r.oscillation.amplitudePp.toFixed(1)} (${r.oscillation.broker})` : '–';
    lines.push(
      `| ${r.label} | ${scrapeCell(r)} | ${r.imbalance === null ? '–' : r.imbalance.toFixed(2)} | ${osc} | ${t90} | ${r.overloadSec.toFixed(0)} | ` +
        `${(r.peakUtilisation * 100).toFixed(0)}% | ${r.clients.attempts} | ${r.clients.failed} (${r.clients.refused}) | ` +
        `${r.clients.disconnects} | ${eds} | ${two} |`,
    );
  }
  for (const [label, why] of failures) lines.push(`| ${label} | | failed: ${why.split('\n')[0].replace(/\|/g, '/')} | | | | | | | | | |`);
  lines.push(
    '',
    `Oscillation: per broker, max − min of its utilisation in the steady window after a ${OSCILLATION_SMOOTHING_SAMPLES} s trailing moving average; the broker that swung most, in percentage points.`,
  );

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
    lines.push(`| ${r.label} | ${cells.join(' | ')} |`);
  }
  const accepted = results.filter((r) => r.twoEnvoys);
  if (accepted.length > 0) {
    lines.push('', 'Client connections accepted per instance (the kernel spreads them over the shared port):', '');
    for (const r of accepted) lines.push(`- ${r.label}: ${r.twoEnvoys!.accepted.join(' / ')}`);
  }
  lines.push(
    ...stickinessTable(results),
    ...spikeTable(scenario, results),
    ...suspectTable(scenario, results),
    ...capacityTable(scenario, results),
    ...moveTables(results),
  );
  return lines.join('\n') + '\n';
}

/** mqtt-xds rows: the scrape interval and timeout that run used; "–" for strategies that read no metrics. */
function scrapeCell(r: StrategyResult): string {
  return r.scrape ? `${r.scrape.intervalMs} ms (${r.scrape.timeoutMs} ms)` : '–';
}

const pct = (share: number | null): string => (share === null ? '–' : `${(share * 100).toFixed(1)}%`);

/** Stickiness (stickiness.ts): how many reconnects came back to the id's previous broker. */
export function stickinessTable(results: readonly StrategyResult[]): string[] {
  const withPlacements = results.filter((r) => r.stickiness);
  if (withPlacements.length === 0) return [];
  const lines = [
    '',
    "Stickiness: reconnects (an id's next connection, as GET /admin/clients showed it once a second) that reached the broker of its previous connection.",
    '',
    '| strategy | reconnects | same broker | while the broker set was stable | across a change: reconnects / moved (to a joined broker) |',
    '|---|---|---|---|---|',
  ];
  for (const r of withPlacements) {
    const s = r.stickiness!;
    const a = s.acrossChanges;
    lines.push(
      `| ${r.label} | ${s.reconnects} | ${pct(s.share)} | ${pct(s.stable.share)} (${s.stable.same}/${s.stable.reconnects}) | ${a.reconnects} / ${a.moved} (${a.movedToJoined}) |`,
    );
  }
  return lines;
}

/** The spike window's own numbers, where the steady window would show only the recovery. */
export function spikeTable(scenario: Scenario, results: readonly StrategyResult[]): string[] {
  const w = scenario.spikeWindow;
  if (!w) return [];
  const lines = [
    '',
    `Spike window ${w.fromSec}–${w.toSec} s.`,
    '',
    '| strategy | imbalance (max/mean util) | peak util | overload-s |',
    '|---|---|---|---|',
  ];
  for (const r of results) {
    if (!r.spike) continue;
    lines.push(
      `| ${r.label} | ${r.spike.imbalance === null ? '–' : r.spike.imbalance.toFixed(2)} | ${(r.spike.peakUtilisation * 100).toFixed(0)}% | ${r.spike.overloadSec.toFixed(0)} |`,
    );
  }
  return lines;
}

/**
 * When mqtt-xds first called each broker suspect (GET /status, decisions[].suspect), and
 * how long after the metrics event aimed at it. Shown when the scenario has bad metrics
 * or anything was called suspect.
 */
export function suspectTable(scenario: Scenario, results: readonly StrategyResult[]): string[] {
  const withSuspects = results.filter((r) => r.suspects);
  const badMetrics = scenario.events.filter((e) => METRICS_EVENT_KINDS.includes(e.kind));
  const anyFlag = withSuspects.some((r) => Object.keys(r.suspects!).length > 0);
  if (withSuspects.length === 0 || (badMetrics.length === 0 && !anyFlag)) return [];
  const names = scenario.brokers.map((b) => b.name);
  const lines = [
    '',
    'Suspect brokers: the first second GET /status called each broker `suspect` (seconds after the first metrics event aimed at it), and why.',
    '',
    `| strategy | ${names.join(' | ')} |`,
    `|---|${names.map(() => '---').join('|')}|`,
  ];
  for (const r of withSuspects) {
    const cells = names.map((n) => {
      const s = r.suspects![n];
      if (!s) return 'never';
      const cause = badMetrics.find((e) => (e as { broker?: string }).broker === n && e.atSec <= s.atSec);
      const after = cause ? ` (+${round1(s.atSec - cause.atSec)} s)` : '';
      return `${s.atSec} s${after}: ${s.reason.replace(/\|/g, '/')}`;
    });
    lines.push(`| ${r.label} | ${cells.join(' | ')} |`);
  }
  return lines;
}

/** The capacities mqtt-xds assumed against the brokers' true ones, over the steady window. */
export function capacityTable(scenario: Scenario, results: readonly StrategyResult[]): string[] {
  const withCapacity = results.filter((r) => r.capacity && Object.keys(r.capacity).length > 0);
  if (withCapacity.length === 0) return [];
  const names = scenario.brokers.map((b) => b.name);
  const lines = [
    '',
    'Capacity mqtt-xds assumed against the truth, steady window: connections at utilisation 1, assumed / true (ratio). The truth is connections over modelled utilisation.',
    '',
    `| strategy | ${names.join(' | ')} |`,
    `|---|${names.map(() => '---').join('|')}|`,
  ];
  for (const r of withCapacity) {
    const cells = names.map((n) => {
      const c = r.capacity![n];
      return c ? `${Math.round(c.assumed)} / ${Math.round(c.truth)} (${c.ratio.toFixed(2)})` : '–';
    });
    lines.push(`| ${r.label} | ${cells.join(' | ')} |`);
  }
  return lines;
}

const dash = (x: number | null | undefined, unit = ''): string => (x === null || x === undefined ? '–' : `${x}${unit}`);

/** The "Moving connections" tables: joins with agents, drains, kills (move-results.ts). */
export function moveTables(results: readonly StrategyResult[]): string[] {
  const lines: string[] = [];
  if (results.some((r) => r.joinMoves)) {
    lines.push(
      '',
      'Scale-out: moving established connections to the new broker (fair share and shares by connections).',
      '',
      '| strategy | broker | T90 (s) | disconnects / minimum (ratio) | agent disconnects | peak share during move | highest share at the end | peak disconnects in 1 s | failed attempts | last disconnect after (s) |',
      '|---|---|---|---|---|---|---|---|---|---|',
    );
    for (const r of results) {
      for (const j of r.joinMoves ?? []) {
        const peak =
          j.peakShare.share === null ? '–' : `${Math.round(j.peakShare.share * 100)}% (${j.peakShare.broker} at ${j.peakShare.atSec} s)`;
        const end = j.endShare.share === null ? '–' : `${Math.round(j.endShare.share * 100)}% (${j.endShare.broker})`;
        lines.push(
          `| ${r.label} | ${j.broker} | ${j.t90Sec === null ? 'never' : j.t90Sec} | ${j.disconnects} / ${j.minimumMoves} (${j.ratio === null ? '–' : j.ratio.toFixed(2)}) | ` +
            `${dash(j.agentDisconnects)} | ${peak} | ${end} | ${j.peakRate.count} | ${j.failedAfter} | ${dash(j.lastMoveSec)} |`,
        );
      }
    }
  }
  if (results.some((r) => r.drainResults)) {
    lines.push(
      '',
      'Drains (times from the POST /drain; "routed after ACK": new client sessions the drained broker accepted after every Envoy showed it DRAINING, by its own counter / by Envoy\'s cx_total).',
      '',
      '| strategy | broker (clients) | failed attempts | routed after ACK | ACK seen after (s) | peak disconnects in 1 s (ratePerSec) | empty after (s) | "drained" after (s) | moved | end imbalance of the rest |',
      '|---|---|---|---|---|---|---|---|---|---|',
    );
    for (const r of results) {
      for (const d of r.drainResults ?? []) {
        if (d.error !== undefined) {
          lines.push(`| ${r.label} | ${d.broker} | ${d.error.replace(/\|/g, '/')} | | | | | | | |`);
          continue;
        }
        lines.push(
          `| ${r.label} | ${d.broker} (${dash(d.connectionsAtRequest)}) | ${d.failedAfter} | ${dash(d.routedAfterAck)} / ${dash(d.envoyRoutedAfterAck)} | ` +
            `${dash(d.ackAfterSec)} | ${d.peakRate.count} (${d.configuredRatePerSec}) | ${dash(d.emptyAfterSec)} | ${dash(d.drainedAfterSec)} | ` +
            `${dash(d.moved)} | ${dash(d.endImbalance)} |`,
        );
      }
    }
    for (const r of results) {
      for (const d of r.drainResults ?? []) {
        if (d.phases.length > 0)
          lines.push(
            '',
            `${r.label}, ${d.broker}: phases ${d.phases.map((p) => `${p.phase} at ${round1(p.atSec - d.requestedAtSec)} s${p.note ? ` (${p.note})` : ''}`).join(', ')}.`,
          );
      }
    }
  }
  if (results.some((r) => r.killResults)) {
    lines.push(
      '',
      'Killed brokers (SIGKILL; times from the kill; the limit is the per-broker connection limit mqtt-xds derives from the policy, enforced by Envoy for mqtt-xds only).',
      '',
      '| strategy | broker (clients) | 99 % / all back after (s) | failed attempts | of which Envoy: rate-limited / connect failed / breaker | disconnects | fullest remaining broker | per-host limit | over it? |',
      '|---|---|---|---|---|---|---|---|---|',
    );
    for (const r of results) {
      for (const k of r.killResults ?? []) {
        lines.push(
          `| ${r.label} | ${k.broker} (${dash(k.connectionsAtKill)}) | ${dash(k.mostBackSec)} / ${k.allBackSec === null ? 'not by the end' : k.allBackSec} | ${k.failedAfter} | ` +
            `${shedCell(k.envoyCounters)} | ${k.disconnectsAfter} | ${k.peak.broker ?? '–'} ${k.peak.connections} | ${dash(k.perHostLimit)} | ${k.overLimit === undefined ? '–' : k.overLimit ? '**yes**' : 'no'} |`,
        );
      }
    }
  }
  return lines;
}

/** Envoy's reasons for closing clients early; a circuit breaker counts overflow and pending overflow. */
function shedCell(c: Readonly<Record<string, number>> | undefined): string {
  if (!c) return '–';
  return `${c.rateLimited ?? 0} / ${c.connectFail ?? 0} / ${(c.overflow ?? 0) + (c.pendingOverflow ?? 0)}`;
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
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
