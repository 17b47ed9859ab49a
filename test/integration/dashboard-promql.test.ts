// Every PromQL expression of the Grafana dashboard parses with Prometheus' own parser: each
// becomes a recording rule that promtool (scripts/setup-packaging) checks. Grafana's variables
// are replaced by values of their kind first, as Grafana would before sending the query.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { dashboardQueries, readDashboard } from '../support/dashboard';
import { packagingTool, run } from '../support/packaging';

function withVariables(expr: string): string {
  return expr
    .replaceAll('$__rate_interval', '1m')
    .replaceAll('$broker_label', 'pod')
    .replace(/\$\{?[A-Za-z_][A-Za-z0-9_]*\}?/g, 'x');
}

describe("the dashboard's PromQL (promtool)", () => {
  let dir: string;
  beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mqtt-xds-dashboard-'))));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const check = async (exprs: readonly string[]): Promise<{ code: number; out: string }> => {
    const rules = exprs.map((e, i) => ({ record: `dashboard:query_${i}`, expr: withVariables(e) }));
    fs.writeFileSync(path.join(dir, 'rules.yaml'), stringify({ groups: [{ name: 'dashboard', rules }] }));
    const r = await run(packagingTool('promtool'), ['check', 'rules', 'rules.yaml'], dir);
    return { code: r.code, out: r.stdout + r.stderr };
  };

  it('parses every query of the panels and variables', async () => {
    const exprs = dashboardQueries(readDashboard()).map((q) => q.expr);
    const r = await check(exprs);
    expect(r.out).toContain(`SUCCESS: ${exprs.length} rules found`);
    expect(r.code).toBe(0);
  });

  it('refuses an expression that does not parse (the check can fail)', async () => {
    const r = await check(['sum by (broker (mqtt_xds_broker_weight)']);
    expect(r.code).not.toBe(0);
  });
});
