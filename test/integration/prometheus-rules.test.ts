// The alert rules through the real promtool (Debian's prometheus package, or built from the
// Go module proxy: scripts/setup-packaging): the PrometheusRule's spec.groups as a plain
// rules file, checked, then unit-tested against test/alerts/alerts.test.yaml, which feeds
// series and names the alerts that must and must not fire.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { REPO_ROOT } from '../support/repo-root';
import { packagingTool, ruleGroups, run } from '../support/packaging';

const UNIT_TESTS = path.join(REPO_ROOT, 'test', 'alerts', 'alerts.test.yaml');

describe('alert rules (promtool)', () => {
  let promtool: string;
  let dir: string;

  beforeAll(() => {
    promtool = packagingTool('promtool');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mqtt-xds-rules-'));
  });

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Writes `groups` as rules.yaml beside a copy of the unit tests; returns the directory. */
  function stage(name: string, groups: { groups: unknown[] }): string {
    const d = path.join(dir, name);
    fs.mkdirSync(d);
    fs.writeFileSync(path.join(d, 'rules.yaml'), stringify(groups));
    fs.copyFileSync(UNIT_TESTS, path.join(d, 'alerts.test.yaml'));
    return d;
  }

  it('passes promtool check rules', async () => {
    const d = stage('check', ruleGroups());
    const r = await run(promtool, ['check', 'rules', 'rules.yaml'], d);
    expect(r.stdout + r.stderr).toMatch(/SUCCESS: 12 rules found/);
    expect(r.code).toBe(0);
  });

  it('fires the alerts the unit tests expect at each time, and stays silent where they expect none', async () => {
    const d = stage('test', ruleGroups());
    const r = await run(promtool, ['test', 'rules', 'alerts.test.yaml'], d);
    expect(r.stdout + r.stderr).not.toMatch(/FAILED/);
    expect(r.code).toBe(0);
  });

  it('fails the unit tests when a rule fires too early (the check can fail)', async () => {
    const groups = ruleGroups() as { groups: Array<{ rules: Array<{ alert: string; for?: string }> }> };
    for (const rule of groups.groups[0].rules) if (rule.alert === 'MqttXdsEnvoyStale') rule.for = '3m';
    const d = stage('mutated', groups);
    const r = await run(promtool, ['test', 'rules', 'alerts.test.yaml'], d);
    expect(r.stdout + r.stderr).toMatch(/alertname: MqttXdsEnvoyStale, time: 9m/);
    expect(r.code).not.toBe(0);
  });

  it('refuses a rule whose expression does not parse (the check can fail)', async () => {
    const groups = ruleGroups() as { groups: Array<{ rules: Array<{ expr: string }> }> };
    groups.groups[0].rules[0].expr = 'mqtt_xds_ready ==';
    const d = stage('broken', groups);
    const r = await run(promtool, ['check', 'rules', 'rules.yaml'], d);
    expect(r.code).not.toBe(0);
  });
});
