import { capacityBrokerFamilies, javaDouble, renderExposition, sanitizeMetricName } from '../../tools/testbroker/capacity-metrics';
import { CapacitySimulation, type CapacitySnapshot } from '../../tools/testbroker/capacity-simulation';
import type { ProxyCounts } from '../../tools/testbroker/proxy-ledger';
import { hivemqSignals, parsePrometheusText, type Scrape } from '../../../src/scraping';

describe('javaDouble', () => {
  it.each([
    [0, '0.0'],
    [-0, '-0.0'],
    [1, '1.0'],
    [42, '42.0'],
    [-3, '-3.0'],
    [0.125, '0.125'],
    [0.001, '0.001'],
    [1234567.5, '1234567.5'],
    [9999999, '9999999.0'],
    [1e7, '1.0E7'],
    [52231000, '5.2231E7'],
    [4345298944, '4.345298944E9'],
    [0.0001, '1.0E-4'],
    [-0.00012, '-1.2E-4'],
    [1e21, '1.0E21'],
    [Number.NaN, 'NaN'],
    [Number.POSITIVE_INFINITY, '+Inf'],
    [Number.NEGATIVE_INFINITY, '-Inf'],
  ])('writes %p as %p', (value, text) => {
    expect(javaDouble(value)).toBe(text);
  });
});

describe('metrics rendering', () => {
  it('derives Prometheus names from Dropwizard names like simpleclient', () => {
    expect(sanitizeMetricName('com.hivemq.overload-protection.clients.backpressure-active')).toBe(
      'com_hivemq_overload_protection_clients_backpressure_active',
    );
  });

  it('writes HELP and TYPE lines and a comma after every label', () => {
    const text = renderExposition([
      {
        name: 'x_size',
        help: 'a \\ b\nc',
        type: 'summary',
        samples: [
          { labels: [['quantile', '0.5']], value: 3 },
          {
            labels: [
              ['a', 'q"v'],
              ['b', 'w'],
            ],
            value: 1,
          },
          { suffix: '_count', value: 2 },
        ],
      },
    ]);
    expect(text).toBe(
      [
        '# HELP x_size a \\\\ b\\nc',
        '# TYPE x_size summary',
        'x_size{quantile="0.5",} 3.0',
        'x_size{a="q\\"v",b="w",} 1.0',
        'x_size_count 2.0',
        '',
      ].join('\n'),
    );
  });

  it('exports the HiveMQ metrics the scraper reads, with CPU in percent', () => {
    const sim = new CapacitySimulation(
      { capacity: 1000, connectionCost: 1, messageCost: 1, noise: 0, windowMs: 5000, bucketMs: 250, seed: 1, cores: 1 },
      0,
    );
    sim.ledger.connect('c1', 0, true);
    sim.setExtraLoad(249, undefined, 0);
    sim.forceOverload(3, undefined, 0);
    const text = renderExposition(
      capacityBrokerFamilies({
        snapshot: sim.tick(0),
        heapUsedBytes: 52231000,
        heapMaxBytes: 4345298944,
        payloadSizes: sim.payloadSizeQuantiles(),
        processStartSeconds: 1700000000.5,
      }),
    );
    const value = (name: string): string | undefined =>
      text
        .split('\n')
        .find((l) => l.startsWith(`${name} `))
        ?.slice(name.length + 1);
    expect(value('com_hivemq_networking_connections_current')).toBe('1.0');
    expect(value('com_hivemq_system_os_global_cpu_total_total')).toBe('25.0');
    expect(value('com_hivemq_overload_protection_level')).toBe('3.0');
    expect(value('com_hivemq_overload_protection_credits_per_tick')).toBe('146.0');
    expect(value('com_hivemq_jvm_memory_heap_used')).toBe('5.2231E7');
    expect(value('com_hivemq_jvm_memory_heap_max')).toBe('4.345298944E9');
    expect(value('testbroker_utilisation')).toBe('0.25');
    expect(value('testbroker_capacity')).toBe('1000.0');
    expect(value('process_start_time_seconds')).toBe('1.7000000005E9');
    expect(value('mqtt_xds_agent_cpu_limit_cores')).toBe('1.0');
    for (const name of [
      'com_hivemq_mqtt_connection_not_writable_current',
      'com_hivemq_messages_incoming_publish_count',
      'com_hivemq_messages_outgoing_publish_count',
      'com_hivemq_messages_dropped_count',
      'com_hivemq_overload_protection_clients_backpressure_active',
      'process_cpu_seconds_total',
    ]) {
      expect(value(name)).toBe('0.0');
    }
    // Dropwizard counters are gauges in this exporter.
    expect(text).toContain('# TYPE com_hivemq_messages_incoming_publish_count gauge\n');
    expect(text).toContain(
      '# HELP com_hivemq_overload_protection_level Generated from Dropwizard metric import ' +
        '(metric=com.hivemq.overload-protection.level, type=com.codahale.metrics.Gauge)\n',
    );
    expect(text).toContain('com_hivemq_messages_incoming_publish_size{quantile="0.999",} 0.0\n');
    expect(text).toContain('# TYPE process_cpu_seconds_total counter\n');
  });
});

describe('PROXY protocol metrics', () => {
  const families = (proxy?: ProxyCounts): string => {
    const sim = new CapacitySimulation(
      { capacity: 1000, connectionCost: 1, messageCost: 1, noise: 0, windowMs: 5000, bucketMs: 250, seed: 1, cores: 1 },
      0,
    );
    return renderExposition(
      capacityBrokerFamilies({
        snapshot: sim.tick(0),
        heapUsedBytes: 1,
        heapMaxBytes: 2,
        payloadSizes: { quantiles: [], count: 0 },
        processStartSeconds: 0,
        ...(proxy ? { proxy } : {}),
      }),
    );
  };

  it('exports the counts by version and refusal code while the protocol is on', () => {
    const text = families({
      connections: 9,
      headers: 6,
      v1: 1,
      v2: 5,
      local: 2,
      absent: 0,
      refused: { PROXY_BAD_SIGNATURE: 2, PROXY_TIMEOUT: 1 },
      refusedTotal: 3,
    });
    expect(text).toContain('testbroker_proxy_connections_total 9.0\n');
    expect(text).toContain('testbroker_proxy_headers_total{version="1",} 1.0\ntestbroker_proxy_headers_total{version="2",} 5.0\n');
    expect(text).toContain('testbroker_proxy_local_total 2.0\n');
    expect(text).toContain('testbroker_proxy_refused_total{code="PROXY_BAD_SIGNATURE",} 2.0\n');
    expect(text).toContain('testbroker_proxy_refused_total{code="PROXY_TIMEOUT",} 1.0\n');
    expect(text).toContain('# TYPE testbroker_proxy_refused_total counter\n');
  });

  it('exports none of them while it is off', () => {
    expect(families()).not.toContain('testbroker_proxy_');
  });
});

describe('CPU as the control plane reads it', () => {
  const render = (snapshot: CapacitySnapshot): Scrape => {
    const text = renderExposition(
      capacityBrokerFamilies({
        snapshot,
        heapUsedBytes: 1,
        heapMaxBytes: 2,
        payloadSizes: { quantiles: [], count: 0 },
        processStartSeconds: 0,
      }),
    );
    const parsed = parsePrometheusText(text);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    return { samples: parsed.value, atMs: snapshot.atMs };
  };

  it.each([1, 4])('gives the model CPU from process CPU seconds over the limit, with %p cores', (cores) => {
    const sim = new CapacitySimulation(
      { capacity: 1000, connectionCost: 1, messageCost: 1, noise: 0, windowMs: 5000, bucketMs: 250, seed: 1, cores },
      0,
    );
    sim.setExtraLoad(370, undefined, 0);
    sim.tick(0);
    const first = render(sim.tick(100));
    for (let t = 200; t <= 5100; t += 100) sim.tick(t);
    const signals = hivemqSignals(render(sim.last), first);
    expect(signals.cpuSource).toBe('limit');
    expect(signals.cpu).toBeCloseTo(0.37, 9);
  });
});
