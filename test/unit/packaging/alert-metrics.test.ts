// Every metric the alert rules read is one mqtt-xds exports: a renamed gauge must not leave
// an alert that can never fire.
import { declaredMetrics as exportedMetrics } from '../../support/metric-names';
import { ruleGroups } from '../../support/packaging';

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
