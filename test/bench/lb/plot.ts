// A hand-written SVG of one scenario: one panel per strategy, each broker's utilisation
// over time (the capacity model's truth), the 100 % line, the steady-state window shaded
// grey (the spike window, if any, orange) and the scenario's events marked. No dependency; the output is plain text.
import type { StrategyResult } from './analysis';
import type { StrategyRun } from './samples';
import type { Scenario } from './scenario';

const WIDTH = 1000;
const PANEL_HEIGHT = 230;
const MARGIN = { left: 56, right: 200, top: 34, bottom: 34 };
const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22'];
const MAX_Y = 3;

export function renderSvg(scenario: Scenario, runs: readonly StrategyRun[], results: readonly StrategyResult[]): string {
  const peak = Math.max(1.2, ...results.map((r) => r.peakUtilisation));
  const yMax = Math.min(MAX_Y, Math.ceil(peak * 4) / 4);
  const colour = new Map(scenario.brokers.map((b, i) => [b.name, PALETTE[i % PALETTE.length]]));
  const height = 40 + runs.length * PANEL_HEIGHT;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${WIDTH}" height="${height}" fill="white"/>`,
    `<text x="${MARGIN.left}" y="22" font-size="15" font-weight="bold">${esc(scenario.name)}: broker utilisation (cost / capacity) per strategy</text>`,
  ];
  runs.forEach((run, i) => {
    const result = results.find((r) => r.label === run.label);
    parts.push(panel(scenario, run, result, 40 + i * PANEL_HEIGHT, yMax, colour));
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

function panel(
  scenario: Scenario,
  run: StrategyRun,
  result: StrategyResult | undefined,
  top: number,
  yMax: number,
  colour: ReadonlyMap<string, string>,
): string {
  const x0 = MARGIN.left;
  const x1 = WIDTH - MARGIN.right;
  const y0 = top + MARGIN.top;
  const y1 = top + PANEL_HEIGHT - MARGIN.bottom;
  const x = (t: number): number => x0 + ((x1 - x0) * t) / scenario.durationSec;
  const y = (u: number): number => y1 - ((y1 - y0) * Math.min(u, yMax)) / yMax;
  const out: string[] = [];
  const scrape = run.scrape ? `, scrape ${run.scrape.intervalMs / 1000} s` : '';
  const title = `${run.label}${scrape}${result?.imbalance != null ? ` (imbalance ${result.imbalance.toFixed(2)}, overload ${result.overloadSec.toFixed(0)} s)` : ''}`;
  out.push(`<text x="${x0}" y="${top + 20}" font-size="13" font-weight="bold">${esc(title)}</text>`);
  const steady = scenario.steadyState;
  out.push(
    `<rect x="${f(x(steady.fromSec))}" y="${y0}" width="${f(x(steady.toSec) - x(steady.fromSec))}" height="${y1 - y0}" fill="#f2f2f2"/>`,
  );
  const spike = scenario.spikeWindow;
  if (spike) {
    out.push(
      `<rect x="${f(x(spike.fromSec))}" y="${y0}" width="${f(x(spike.toSec) - x(spike.fromSec))}" height="${y1 - y0}" fill="#fde3c8" opacity="0.7"/>`,
    );
  }
  out.push(`<rect x="${x0}" y="${y0}" width="${x1 - x0}" height="${y1 - y0}" fill="none" stroke="#999"/>`);
  for (let u = 0; u <= yMax + 1e-9; u += 0.5) {
    out.push(`<line x1="${x0 - 4}" y1="${f(y(u))}" x2="${x0}" y2="${f(y(u))}" stroke="#999"/>`);
    out.push(`<text x="${x0 - 6}" y="${f(y(u) + 4)}" text-anchor="end">${Math.round(u * 100)}%</text>`);
  }
  const step = scenario.durationSec > 120 ? 30 : 10;
  for (let t = 0; t <= scenario.durationSec; t += step) {
    out.push(`<line x1="${f(x(t))}" y1="${y1}" x2="${f(x(t))}" y2="${y1 + 4}" stroke="#999"/>`);
    out.push(`<text x="${f(x(t))}" y="${y1 + 16}" text-anchor="middle">${t}s</text>`);
  }
  out.push(`<line x1="${x0}" y1="${f(y(1))}" x2="${x1}" y2="${f(y(1))}" stroke="#d62728" stroke-dasharray="6 4"/>`);
  // Events at the same second share one marker and one label.
  const labels = new Map<number, string[]>();
  for (const e of scenario.events) {
    labels.set(e.atSec, [...(labels.get(e.atSec) ?? []), `${e.kind}${'broker' in e && e.broker ? ` ${e.broker}` : ''}`]);
  }
  for (const [atSec, names] of labels) {
    const ex = f(x(atSec));
    out.push(`<line x1="${ex}" y1="${y0}" x2="${ex}" y2="${y1}" stroke="#555" stroke-dasharray="2 3"/>`);
    out.push(`<text x="${ex}" y="${y0 - 3}" font-size="10" fill="#555">${esc(names.join(', '))}</text>`);
  }
  for (const e of scenario.events) {
    const ex = f(x(e.atSec));
    if ('durationSec' in e && e.durationSec !== undefined) {
      const end = f(x(Math.min(scenario.durationSec, e.atSec + e.durationSec)));
      out.push(`<line x1="${ex}" y1="${y0 + 2}" x2="${end}" y2="${y0 + 2}" stroke="#555" stroke-width="3" opacity="0.5"/>`);
    }
  }
  scenario.brokers.forEach((b, i) => {
    const segments: string[][] = [];
    let current: string[] | undefined;
    for (const s of run.samples) {
      const bs = s.brokers.find((x) => x.name === b.name && x.present);
      if (!bs) {
        current = undefined;
        continue;
      }
      if (!current) segments.push((current = []));
      current.push(`${f(x(s.tSec))},${f(y(bs.utilisation))}`);
    }
    for (const seg of segments) {
      out.push(`<polyline points="${seg.join(' ')}" fill="none" stroke="${colour.get(b.name)}" stroke-width="1.6"/>`);
    }
    const ly = y0 + 14 * i + 8;
    const steadyU = result?.steady[b.name]?.utilisation;
    out.push(`<line x1="${x1 + 10}" y1="${ly - 4}" x2="${x1 + 28}" y2="${ly - 4}" stroke="${colour.get(b.name)}" stroke-width="3"/>`);
    out.push(
      `<text x="${x1 + 32}" y="${ly}">${esc(`${b.name} (cap ${b.capacity})${steadyU === undefined ? '' : ` ${Math.round(steadyU * 100)}%`}`)}</text>`,
    );
  });
  return out.join('\n');
}

function f(n: number): string {
  return n.toFixed(1);
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
