// GET /metrics of the test broker, in the text a HiveMQ node with the HiveMQ Prometheus
// extension serves: Dropwizard metrics exported by Prometheus simpleclient 0.x. Its quirks
// are reproduced on purpose so scrapers are tested against them:
//   - names are the Dropwizard names with every character outside [a-zA-Z0-9:_] turned
//     into "_" (com.hivemq.overload-protection.level → com_hivemq_overload_protection_level);
//   - Dropwizard counters are exported as *gauges* (they may go down), histograms as
//     summaries with quantiles 0.5 … 0.999 and a `_count` but no `_sum`;
//   - HELP reads "Generated from Dropwizard metric import (metric=…, type=…)";
//   - every label is followed by a comma, also the last: {quantile="0.5",};
//   - values are Java doubles: 0.0, 42.0, 0.125, 5.2231E7, 1.0E-4, NaN, +Inf.
import type { CapacitySnapshot } from './capacity-simulation';
import type { ProxyCounts } from './proxy-ledger';
import type { ClusterStatus } from './cluster-link';

export type MetricType = 'gauge' | 'counter' | 'summary';

export interface MetricSample {
  /** Appended to the family name, e.g. `_count`. */
  readonly suffix?: string;
  readonly labels?: ReadonlyArray<readonly [string, string]>;
  readonly value: number;
}

export interface MetricFamily {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  readonly samples: readonly MetricSample[];
}

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * A number as Java's Double.toString writes it (and simpleclient's doubleToGoString for
 * the non-finite ones): plain decimal with at least one fractional digit for magnitudes
 * in [10⁻³, 10⁷), otherwise d.dddE±n with the shortest digits that round-trip.
 */
export function javaDouble(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e-3 && magnitude < 1e7) {
    // JavaScript writes this range without an exponent, with the same shortest digits.
    const text = String(value);
    return text.includes('.') ? text : `${text}.0`;
  }
  const [mantissa, exponent] = value.toExponential().split('e');
  return `${mantissa.includes('.') ? mantissa : `${mantissa}.0`}E${Number(exponent)}`;
}

/** The Prometheus name simpleclient derives from a Dropwizard name. */
export function sanitizeMetricName(dropwizardName: string): string {
  return dropwizardName.replace(/[^a-zA-Z0-9:_]/g, '_');
}

export function dropwizardHelp(dropwizardName: string, javaType: string): string {
  return `Generated from Dropwizard metric import (metric=${dropwizardName}, type=${javaType})`;
}

const escapeHelp = (s: string): string => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const escapeLabel = (s: string): string => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

export function renderExposition(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  for (const family of families) {
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`);
    lines.push(`# TYPE ${family.name} ${family.type}`);
    for (const sample of family.samples) {
      const labels = sample.labels?.length ? `{${sample.labels.map(([k, v]) => `${k}="${escapeLabel(v)}",`).join('')}}` : '';
      lines.push(`${family.name}${sample.suffix ?? ''}${labels} ${javaDouble(sample.value)}`);
    }
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

const GAUGE = 'com.codahale.metrics.Gauge';
const COUNTER = 'com.codahale.metrics.Counter';
const HISTOGRAM = 'com.codahale.metrics.Histogram';

function dropwizard(dropwizardName: string, javaType: string, value: number): MetricFamily {
  return {
    name: sanitizeMetricName(dropwizardName),
    help: dropwizardHelp(dropwizardName, javaType),
    type: 'gauge',
    samples: [{ value }],
  };
}

function plain(name: string, type: MetricType, help: string, value: number): MetricFamily {
  return { name, help, type, samples: [{ value }] };
}

/** The rest of the agent's CPU series (docs/hivemq-agent.md, "CPU"), with the realistic model's values. */
function agentCpuFamilies(s: CapacitySnapshot): MetricFamily[] {
  return [
    {
      name: 'mqtt_xds_agent_cpu_limit_info',
      help: 'Where mqtt_xds_agent_cpu_limit_cores came from: cgroup-v2, cgroup-v1 or host (test broker: --cpu-view).',
      type: 'gauge',
      samples: [{ labels: [['source', s.cpuLimitSource]], value: 1 }],
    },
    // Whole periods, as cpu.stat counts them; floors of a growing total stay monotonic.
    plain('mqtt_xds_agent_cpu_periods_total', 'counter', 'CFS periods in which the broker had work.', Math.floor(s.cpuPeriods)),
    plain(
      'mqtt_xds_agent_cpu_throttled_periods_total',
      'counter',
      'CFS periods in which the broker used its whole quota and was throttled.',
      Math.floor(s.cpuThrottledPeriods),
    ),
    plain(
      'mqtt_xds_agent_cpu_throttled_seconds_total',
      'counter',
      "Seconds the broker's threads were held back by its quota.",
      s.cpuThrottledSeconds,
    ),
    plain('mqtt_xds_agent_gc_pause_seconds_total', 'counter', 'Seconds spent in (modelled) GC pauses.', s.gcPauseSeconds),
  ];
}

export interface MetricsInput {
  readonly snapshot: CapacitySnapshot;
  readonly heapUsedBytes: number;
  readonly heapMaxBytes: number;
  readonly payloadSizes: { readonly quantiles: ReadonlyArray<readonly [number, number]>; readonly count: number };
  readonly processStartSeconds: number;
  /** The PROXY protocol counts; absent while --proxy-protocol is off, and so are their families. */
  readonly proxy?: ProxyCounts;
  /** The cluster link's counts (GET /admin/cluster); absent without --cluster-port, and so are their families. */
  readonly cluster?: ClusterStatus;
}

/** The cluster link's counters and gauges, the same numbers as GET /admin/cluster. */
function clusterFamilies(c: ClusterStatus): MetricFamily[] {
  return [
    plain('testbroker_cluster_forwarded_total', 'counter', 'Test broker: messages sent to cluster peers, one per peer.', c.forwarded),
    plain('testbroker_cluster_received_total', 'counter', 'Test broker: messages received from cluster peers.', c.received),
    {
      name: 'testbroker_cluster_dropped_total',
      help: 'Test broker: messages to cluster peers dropped, by reason (queue_full, too_large, peer_removed).',
      type: 'counter',
      samples: [
        { labels: [['reason', 'queue_full']] as const, value: c.dropped.queueFull },
        { labels: [['reason', 'too_large']] as const, value: c.dropped.tooLarge },
        { labels: [['reason', 'peer_removed']] as const, value: c.dropped.peerRemoved },
      ],
    },
    plain(
      'testbroker_cluster_refused_links_total',
      'counter',
      'Test broker: inbound cluster links refused (over the peer limit, or a bad frame).',
      c.refusedLinks,
    ),
    plain('testbroker_cluster_peers', 'gauge', 'Test broker: cluster peers set by POST /admin/cluster.', c.peers.length),
    plain(
      'testbroker_cluster_peers_connected',
      'gauge',
      'Test broker: cluster peers whose outbound link is up.',
      c.peers.filter((p) => p.connected).length,
    ),
    plain('testbroker_cluster_inbound_links', 'gauge', 'Test broker: inbound links from cluster peers open now.', c.inboundLinks),
    plain(
      'testbroker_cluster_queued',
      'gauge',
      "Test broker: messages waiting in the peers' queues.",
      c.peers.reduce((n, p) => n + p.queued, 0),
    ),
  ];
}

/** The PROXY protocol front's counts (GET /admin/proxy has the same and each connection). */
function proxyFamilies(c: ProxyCounts): MetricFamily[] {
  return [
    plain('testbroker_proxy_connections_total', 'counter', 'Test broker: MQTT connections whose PROXY header was decided.', c.connections),
    {
      name: 'testbroker_proxy_headers_total',
      help: 'Test broker: valid PROXY headers, by protocol version.',
      type: 'counter',
      samples: [
        { labels: [['version', '1']], value: c.v1 },
        { labels: [['version', '2']], value: c.v2 },
      ],
    },
    plain('testbroker_proxy_local_total', 'counter', 'Test broker: PROXY v2 headers with the LOCAL command.', c.local),
    plain(
      'testbroker_proxy_absent_total',
      'counter',
      'Test broker: connections without a header, taken as plain MQTT (optional).',
      c.absent,
    ),
    {
      name: 'testbroker_proxy_refused_total',
      help: 'Test broker: connections closed for their PROXY header, by error code.',
      type: 'counter',
      samples: Object.entries(c.refused).map(([code, value]) => ({ labels: [['code', code]] as const, value })),
    },
  ];
}

/** Every family the test broker exports, HiveMQ's first, then the benchmark's truth. */
export function capacityBrokerFamilies(input: MetricsInput): MetricFamily[] {
  const s = input.snapshot;
  const payloadName = 'com.hivemq.messages.incoming.publish.size';
  return [
    dropwizard('com.hivemq.networking.connections.current', COUNTER, s.connections),
    dropwizard('com.hivemq.mqtt.connection.not-writable.current', COUNTER, s.notWritable),
    // HiveMQ counts every CONNECT; health-check sessions are left out here, a few per minute.
    dropwizard('com.hivemq.messages.incoming.connect.count', COUNTER, s.clientConnects),
    dropwizard('com.hivemq.messages.incoming.publish.count', COUNTER, s.incomingPublishes),
    dropwizard('com.hivemq.messages.outgoing.publish.count', COUNTER, s.outgoingPublishes),
    dropwizard('com.hivemq.messages.dropped.count', COUNTER, s.droppedMessages),
    dropwizard('com.hivemq.overload-protection.level', GAUGE, s.overloadLevel),
    dropwizard('com.hivemq.overload-protection.clients.backpressure-active', GAUGE, s.backpressureClients),
    dropwizard('com.hivemq.overload-protection.credits.per-tick', GAUGE, s.creditsPerTick),
    // Percent (0–100), as HiveMQ reports it: its own Grafana dashboard plots this metric
    // unscaled on a percent axis (hivemq/hivemq-grafana-dashboards, panel "CPU %").
    dropwizard('com.hivemq.system.os.global.cpu.total.total', GAUGE, s.viewedCpu * 100),
    dropwizard('com.hivemq.jvm.memory.heap.used', GAUGE, input.heapUsedBytes),
    dropwizard('com.hivemq.jvm.memory.heap.max', GAUGE, input.heapMaxBytes),
    {
      name: sanitizeMetricName(payloadName),
      help: dropwizardHelp(payloadName, HISTOGRAM),
      type: 'summary',
      samples: [
        ...input.payloadSizes.quantiles.map(([q, v]) => ({ labels: [['quantile', String(q)]] as const, value: v })),
        { suffix: '_count', value: input.payloadSizes.count },
      ],
    },
    plain('process_cpu_seconds_total', 'counter', 'Total user and system CPU time spent in seconds.', s.processCpuSeconds),
    // What the mqtt-xds agent adds: the CPU limit. The control plane reads CPU as
    // rate(process_cpu_seconds_total) / this, preferred to the percent gauge above. The
    // failure views (--cpu-view host, rounded) put the wrong divisor here, as a reading
    // that misses the quota would.
    plain(
      'mqtt_xds_agent_cpu_limit_cores',
      'gauge',
      "CPU limit of the broker's container in cores (test broker: --cores, or what --cpu-view reads instead).",
      s.cpuLimitCores,
    ),
    // The ideal model keeps the page it always had: a node without a quota, so no throttling.
    ...(s.cpuModel === 'realistic' ? agentCpuFamilies(s) : []),
    plain('process_start_time_seconds', 'gauge', 'Start time of the process since unix epoch in seconds.', input.processStartSeconds),
    plain('testbroker_capacity', 'gauge', 'Test broker: capacity in cost units per second (--capacity).', s.capacity),
    plain('testbroker_cost', 'gauge', 'Test broker: modelled cost in units per second, extra load included.', s.cost),
    plain('testbroker_utilisation', 'gauge', 'Test broker: cost / capacity, the truth the CPU metric is derived from.', s.utilisation),
    ...(input.proxy ? proxyFamilies(input.proxy) : []),
    ...(input.cluster ? clusterFamilies(input.cluster) : []),
  ];
}
