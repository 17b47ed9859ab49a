// Every query of the Grafana dashboard reads metrics that exist: ours as src/ declares them,
// the Node process metrics, HiveMQ's that the scraper reads, and Envoy's (a list checked
// against a running Envoy in test/integration/grafana-metrics.test.ts).
import { dashboardQueries, readDashboard, type Dashboard } from '../../support/dashboard';
import { ENVOY_STATS, MQTT_FILTER_STATS, promqlMetricNames, readableMetrics } from '../../support/metric-names';

function unknownMetrics(d: Dashboard): string[] {
  const readable = readableMetrics();
  return dashboardQueries(d).flatMap((q) =>
    promqlMetricNames(q.expr)
      .filter((m) => !readable.has(m))
      .map((m) => `${q.where}: ${m}`),
  );
}

describe('the Grafana dashboard', () => {
  it('reads only metrics that mqtt-xds, the brokers or Envoy export', () => {
    const d = readDashboard();
    expect(dashboardQueries(d).length).toBeGreaterThan(40);
    expect(unknownMetrics(d)).toEqual([]);
  });

  it('finds a misspelt metric in a panel and in a variable', () => {
    const d = readDashboard();
    const text = JSON.stringify(d)
      .replace('rate(mqtt_xds_rebalance_disconnects_total', 'rate(mqtt_xds_rebalance_disconects_total')
      .replaceAll('label_values(mqtt_xds_broker_weight,', 'label_values(mqtt_xds_broker_wieght,');
    expect(unknownMetrics(JSON.parse(text) as Dashboard)).toEqual([
      'panel "Clients disconnected on purpose" target A: mqtt_xds_rebalance_disconects_total',
      'variable broker: mqtt_xds_broker_wieght',
    ]);
  });

  it('reads Envoy stats only from the list the integration test checks against Envoy', () => {
    const envoy = dashboardQueries(readDashboard())
      .flatMap((q) => promqlMetricNames(q.expr))
      .filter((m) => m.startsWith('envoy_'));
    expect(new Set(envoy)).toEqual(new Set(ENVOY_STATS));
  });

  it("has a panel for each rebalance, drain, autoscaling, sync and tenant metric, and each of the MQTT filter's counters", () => {
    const used = new Set(dashboardQueries(readDashboard()).flatMap((q) => promqlMetricNames(q.expr)));
    for (const m of [
      'mqtt_xds_rebalance_disconnects_total',
      'mqtt_xds_rebalance_clients_to_move',
      'mqtt_xds_rebalance_missing_clients',
      'mqtt_xds_rebalance_agent_errors_total',
      'mqtt_xds_drain_state',
      'mqtt_xds_broker_overloaded',
      'mqtt_xds_fleet_utilisation',
      'mqtt_xds_recommended_brokers',
      'mqtt_xds_streams_sync',
      'mqtt_xds_tenant_pool_brokers',
      'mqtt_xds_tenant_tls_certificate_expiry_timestamp_seconds',
      'mqtt_xds_envoy_view_connections',
      ...MQTT_FILTER_STATS,
    ])
      expect(used).toContain(m);
  });
});

describe('promqlMetricNames', () => {
  it('reads metric names, not functions, labels, ranges, modifiers or variables', () => {
    expect(
      promqlMetricNames(
        'histogram_quantile(0.99, sum by (le, type) (rate(mqtt_xds_push_ack_seconds_bucket{type=~"$t"}[$__rate_interval]))) / on (pod) group_left (x) up or vector(0) - time() > bool 1e3',
      ),
    ).toEqual(['mqtt_xds_push_ack_seconds_bucket', 'up']);
  });
});
