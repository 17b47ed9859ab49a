// The Helm chart renders its PrometheusRule from its own copy of the alert groups (a chart
// cannot read files outside its directory): it must stay equal to deploy/monitoring's.
import * as fs from 'node:fs';
import { parse } from 'yaml';
import { CHART_ALERTS, ruleGroups } from '../../support/packaging';

describe("the chart's alert rules", () => {
  it('equal the groups of deploy/monitoring/prometheusrule.yaml', () => {
    expect(parse(fs.readFileSync(CHART_ALERTS, 'utf8'))).toEqual(ruleGroups());
  });
});
