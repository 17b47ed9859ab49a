// The markdown tables `npm run bench:fleet` prints and writes next to its JSON.
import type { RunSummary } from './summary';

const n = (v: number | null, digits = 0): string => (v === null ? '–' : v.toLocaleString('en-US', { maximumFractionDigits: digits }));
const duration = (sec: number | null): string => (sec === null ? 'never' : sec < 120 ? `${sec} s` : `${(sec / 60).toFixed(1)} min`);

/** One row per peer, with each peer's imbalance and overload against mqtt-xds's. */
export function scenarioTable(runs: readonly RunSummary[]): string {
  const base = runs.find((r) => r.peer === 'mqtt-xds');
  const ratio = (v: number | null, b: number | null | undefined): string =>
    v === null || b === null || b === undefined || b === 0 ? '' : ` (${(v / b).toFixed(2)}x)`;
  const lines = [
    '| peer | imbalance mean | imbalance p99 | max util | overload broker-s | T90 | moved (rebalance / drain) | minimum | dropped (failure / pod stop) | failed connects | pushes/min | computeWeights CPU p50 / p99 ms | wall s |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of runs) {
    const t90 = Object.keys(r.fillAfter).length > 0 || r.minimumMoves !== null ? duration(r.t90Sec) : '–';
    lines.push(
      `| ${r.peer} | ${n(r.imbalanceMean, 3)}${ratio(r.imbalanceMean, base?.imbalanceMean)} | ${n(r.imbalanceP99, 3)} | ${n(r.maxUtilisation, 2)} | ` +
        `${n(r.overloadSec)}${ratio(r.overloadSec, base?.overloadSec)} | ${t90} | ${n(r.movedRebalance)} / ${n(r.movedDrain)} | ${n(r.minimumMoves)} | ` +
        `${n(r.droppedByFailure)} / ${n(r.droppedByStop)} | ${n(r.failedConnects)} | ${n(r.pushesPerMinute, 2)} | ` +
        `${r.computeCpu.calls > 0 ? `${n(r.computeCpu.p50Ms, 2)} / ${n(r.computeCpu.p99Ms, 2)}` : '–'} | ${n(r.wallSec, 1)} |`,
    );
  }
  const fills = runs.filter((r) => Object.keys(r.fillAfter).length > 0);
  if (fills.length > 0) {
    const marks = Object.keys(fills[0].fillAfter);
    lines.push('', `New brokers' fill (connections / capacity share) after the scale-out:`, '');
    lines.push(`| peer | ${marks.join(' | ')} |`, `|---|${marks.map(() => '---').join('|')}|`);
    for (const r of fills) lines.push(`| ${r.peer} | ${marks.map((m) => n(r.fillAfter[m] ?? null, 2)).join(' | ')} |`);
  }
  return lines.join('\n');
}

/** The control plane's cost per computation and per rebalance round, as the fleet grows. */
export function sweepTable(runs: readonly RunSummary[]): string {
  const lines = [
    '| brokers | clients | computeWeights calls | CPU p50 ms | CPU p99 ms | CPU max ms | rebalance round CPU p50 / p99 / max ms | wall s |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const r of runs) {
    const c = r.computeCpu;
    const q = r.rebalanceRoundCpu;
    lines.push(
      `| ${r.brokers} | ${n(r.clients)} | ${c.calls} | ${n(c.p50Ms, 2)} | ${n(c.p99Ms, 2)} | ${n(c.maxMs, 2)} | ` +
        `${n(q.p50Ms, 2)} / ${n(q.p99Ms, 2)} / ${n(q.maxMs, 2)} | ${n(r.wallSec, 1)} |`,
    );
  }
  return lines.join('\n');
}
