// The MQTT filter's counters become Prometheus labels only through the bootstrap's stats_tags
// (docs/mqtt-filter.md#metrics). Four checked-in bootstraps carry them: the two the integration
// tests start Envoy from, and the Kustomize edge and sidecar ones (the Helm chart's are compared
// with those in test/integration/helm-chart.test.ts). A tag added to one and not the others
// would leave a dashboard panel empty in one layout only.
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

const ROOT = path.join(__dirname, '..', '..', '..');
const BOOTSTRAPS = [
  'envoy/bootstrap-sotw.yaml',
  'envoy/bootstrap-delta.yaml',
  'deploy/envoy/bootstrap.yaml',
  'deploy/components/envoy-sidecar/bootstrap.yaml',
];

interface StatsTag {
  readonly tag_name: string;
  readonly regex: string;
}

function statsTags(file: string): StatsTag[] {
  const doc = parse(fs.readFileSync(path.join(ROOT, file), 'utf8')) as { stats_config?: { stats_tags?: StatsTag[] } };
  const tags = doc.stats_config?.stats_tags;
  if (!tags) throw new Error(`${file}: no stats_config.stats_tags`);
  return tags;
}

/** What Envoy does with a tag: the first group is cut from the name, the second is the value. */
function extract(tags: readonly StatsTag[], name: string): { name: string; labels: Record<string, string> } {
  const labels: Record<string, string> = {};
  let rest = name;
  for (const t of tags) {
    const m = new RegExp(t.regex).exec(rest);
    if (!m || m[1] === undefined || m[2] === undefined) continue;
    labels[t.tag_name] = m[2];
    rest = rest.replace(m[1], '');
  }
  return { name: rest, labels };
}

describe('the MQTT filter stats tags in the checked-in bootstraps', () => {
  const [first, ...others] = BOOTSTRAPS;

  it.each(others)('%s has the same stats tags as envoy/bootstrap-sotw.yaml', (file) => {
    expect(statsTags(file)).toEqual(statsTags(first));
  });

  it('turns a tenant counter with a protocol version into a metric name and two labels', () => {
    expect(extract(statsTags(first), 'wasmcustom.mqtt_connect_total.tenant.acme.protocol_version.5')).toEqual({
      name: 'wasmcustom.mqtt_connect_total',
      labels: { mqtt_tenant: 'acme', mqtt_protocol_version: '5' },
    });
  });

  it('turns the listener-wide refusal, close and placement counters into one label each', () => {
    const tags = statsTags(first);
    expect(extract(tags, 'wasmcustom.mqtt_connect_refused_total.reason.not_mqtt')).toEqual({
      name: 'wasmcustom.mqtt_connect_refused_total',
      labels: { mqtt_refusal_reason: 'not_mqtt' },
    });
    expect(extract(tags, 'wasmcustom.mqtt_stream_closed_total.tenant.t-1.reason.subscription_not_allowed')).toEqual({
      name: 'wasmcustom.mqtt_stream_closed_total',
      labels: { mqtt_tenant: 't-1', mqtt_close_reason: 'subscription_not_allowed' },
    });
    expect(extract(tags, 'wasmcustom.mqtt_placement_total.result.hashed')).toEqual({
      name: 'wasmcustom.mqtt_placement_total',
      labels: { mqtt_placement_result: 'hashed' },
    });
  });
});
