// Every metric the alert rules read is one mqtt-xds exports: a renamed gauge must not leave
// an alert that can never fire.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from '../../support/repo-root';
import { ruleGroups } from '../../support/packaging';

/** Metric names declared in src/ (name: 'mqtt_xds_…' or a `${prefix}_…` with a literal prefix). */
function exportedMetrics(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'generated') walk(p);
      } else if (e.name.endsWith('.ts')) {
        const text = fs.readFileSync(p, 'utf8');
        for (const m of text.matchAll(/name: '(mqtt_xds_[a-z_]+)'/g)) names.add(m[1]);
        for (const m of text.matchAll(/metricPrefix: '(mqtt_xds_[a-z_]+)'/g)) {
          names.add(`${m[1]}_certificate_expiry_timestamp_seconds`);
          names.add(`${m[1]}_refused_total`);
        }
      }
    }
  };
  walk(path.join(REPO_ROOT, 'src'));
  return names;
}

function ruleMetrics(): string[] {
  const exprs = (ruleGroups().groups as Array<{ rules: Array<{ expr: string }> }>).flatMap((g) => g.rules.map((r) => r.expr));
  return [...new Set(exprs.flatMap((e) => [...e.matchAll(/\b(mqtt_xds_[a-z_]+)/g)].map((m) => m[1])))].sort();
}

describe('alert rules', () => {
  it('read only metrics the code exports', () => {
    const exported = exportedMetrics();
    const used = ruleMetrics();
    expect(used.length).toBeGreaterThan(8);
    expect(used.filter((m) => !exported.has(m))).toEqual([]);
  });

  it('finds the gauges the alerts were added for (the check can fail)', () => {
    const exported = exportedMetrics();
    for (const m of ['mqtt_xds_ready', 'mqtt_xds_streams_sync', 'mqtt_xds_broker_overloaded', 'mqtt_xds_drain_state'])
      expect(exported).toContain(m);
    expect(exported).not.toContain('mqtt_xds_not_a_metric');
  });
});
