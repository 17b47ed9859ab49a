// Metric names the monitoring files (alert rules, the Grafana dashboard) may read, and the
// names a PromQL expression reads. Shared by the alert and dashboard checks so both judge
// by the same list.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import { HIVEMQ_METRICS } from '../../src/scraping/hivemq-signals';
import { REPO_ROOT } from './repo-root';

/**
 * Envoy statistics the dashboard reads, as Envoy 1.40's /stats/prometheus names them for a
 * cluster and listener of our config. test/integration/grafana-metrics.test.ts checks each
 * against a running Envoy, so a name added here must be one that Envoy really exports.
 */
export const ENVOY_STATS: readonly string[] = [
  'envoy_listener_downstream_cx_active',
  'envoy_listener_downstream_cx_total',
  'envoy_cluster_upstream_cx_active',
  'envoy_cluster_upstream_cx_connect_fail',
  'envoy_cluster_upstream_cx_overflow',
  'envoy_cluster_membership_healthy',
  'envoy_cluster_membership_total',
];

/**
 * The MQTT Wasm filter's counters as /stats/prometheus names them (Envoy drops the `envoy_`
 * prefix and the `wasmcustom.` scope of custom stats; their tags become labels through the
 * bootstrap's stats_tags). test/integration/mqtt-publish-inspection.test.ts checks each
 * against a running Envoy.
 */
export const MQTT_FILTER_STATS: readonly string[] = [
  'mqtt_connections_total',
  'mqtt_connect_total',
  'mqtt_connect_refused_total',
  'mqtt_placement_total',
  'mqtt_publish_inspected_total',
  'mqtt_stream_closed_total',
];

/** The names of prom-client's default metrics (process_…, nodejs_…), as main.ts registers them. */
export function defaultProcessMetrics(): Set<string> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const names = new Set<string>();
  for (const m of registry.getMetricsAsArray()) {
    names.add(m.name);
    if (m instanceof Histogram) for (const s of ['_bucket', '_sum', '_count']) names.add(m.name + s);
  }
  return names;
}

/**
 * mqtt_xds_… names declared in src/ (`name: 'mqtt_xds_…'`, or `metricPrefix: '…'` for the
 * certificate gauges of src/tls/watched-pair.ts), with a histogram's _bucket, _sum and _count.
 */
export function declaredMetrics(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'generated') walk(p);
      } else if (e.name.endsWith('.ts')) {
        const text = fs.readFileSync(p, 'utf8');
        for (const m of text.matchAll(/name: '(mqtt_xds_[a-z_]+)'/g)) names.add(m[1]);
        for (const m of text.matchAll(/new Histogram\(\{\s*name: '(mqtt_xds_[a-z_]+)'/g))
          for (const s of ['_bucket', '_sum', '_count']) names.add(m[1] + s);
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

/** Every name a dashboard query may read: ours, the process metrics, HiveMQ's that the scraper reads, ENVOY_STATS and MQTT_FILTER_STATS. */
export function readableMetrics(): Set<string> {
  const hivemq = Object.values(HIVEMQ_METRICS).flatMap((v) => (typeof v === 'string' ? [v] : [...v]));
  return new Set([...declaredMetrics(), ...defaultProcessMetrics(), ...hivemq, ...ENVOY_STATS, ...MQTT_FILTER_STATS]);
}

// Words in PromQL that are not metric names: keywords and the modifiers that do not take a label list.
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan']);

/**
 * The metric names a PromQL expression reads. Strings, label matchers ({…}), ranges ([…])
 * and label lists (by, without, on, ignoring, group_left, group_right) are removed first;
 * what remains that is not a function call, a keyword or a number is a metric name.
 */
export function promqlMetricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\{?[A-Za-z_][A-Za-z0-9_]*\}?/g, ' ');
  const names = new Set<string>();
  for (const m of bare.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*(?=\s*(\()?)/g)) {
    const word = m[0];
    if (m[1] || KEYWORDS.has(word.toLowerCase())) continue;
    const before = bare[(m.index ?? 0) - 1];
    if (before !== undefined && /[0-9.]/.test(before)) continue; // 1h, 0.99e3
    names.add(word);
  }
  return [...names].sort();
}
