// The Grafana dashboard in deploy/monitoring and the PromQL it runs, for the dashboard checks.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from './repo-root';

export const DASHBOARD = path.join(REPO_ROOT, 'deploy', 'monitoring', 'grafana-dashboard.json');

interface Panel {
  title?: string;
  targets?: Array<{ expr?: string; refId?: string }>;
  panels?: Panel[];
}
export interface Dashboard {
  panels?: Panel[];
  templating?: { list?: Array<{ name: string; type: string; query?: unknown }> };
}

export interface DashboardQuery {
  /** Where it is, for a failure message: `panel "Title" target A` or `variable broker`. */
  readonly where: string;
  readonly expr: string;
}

export function readDashboard(file = DASHBOARD): Dashboard {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Dashboard;
}

/**
 * The PromQL of a templating query: label_values(expr, label) and query_result(expr) run
 * expr; label_values(label) reads no metric.
 */
function variableExpr(query: string): string | undefined {
  const lv = /^\s*label_values\((.*),\s*[A-Za-z_][A-Za-z0-9_]*\s*\)\s*$/s.exec(query);
  if (lv) return lv[1];
  if (/^\s*label_values\(\s*[A-Za-z_][A-Za-z0-9_]*\s*\)\s*$/.test(query)) return undefined;
  const qr = /^\s*query_result\((.*)\)\s*$/s.exec(query);
  if (qr) return qr[1];
  throw new Error(`templating query ${JSON.stringify(query)}: not label_values(…) or query_result(…)`);
}

/** Every PromQL expression of the dashboard: panel targets (rows' nested panels too) and query variables. */
export function dashboardQueries(d: Dashboard): DashboardQuery[] {
  const out: DashboardQuery[] = [];
  const visit = (panels: readonly Panel[]): void => {
    for (const p of panels) {
      for (const t of p.targets ?? []) if (t.expr !== undefined) out.push({ where: `panel "${p.title}" target ${t.refId}`, expr: t.expr });
      visit(p.panels ?? []);
    }
  };
  visit(d.panels ?? []);
  for (const v of d.templating?.list ?? []) {
    if (v.type !== 'query') continue;
    const q = typeof v.query === 'string' ? v.query : (v.query as { query?: string } | undefined)?.query;
    if (q === undefined) throw new Error(`templating variable ${v.name}: no query`);
    const expr = variableExpr(q);
    if (expr !== undefined) out.push({ where: `variable ${v.name}`, expr });
  }
  return out;
}
