import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hivemqSignals, parsePrometheusText, readHivemqPage, type Sample, type Scrape } from '../../../src/scraping';

const fixture = (name: string): string => readFileSync(join(__dirname, '../../fixtures/metrics', name), 'utf8');

function scrape(text: string, atMs: number): Scrape {
  const r = parsePrometheusText(text);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return { samples: r.value, atMs };
}

/** Replaces the value of every unlabelled sample of `name` on a page. */
function withValue(text: string, name: string, value: string): string {
  const re = new RegExp(`^${name} .*$`, 'm');
  if (!re.test(text)) throw new Error(`${name} not on the page`);
  return text.replace(re, `${name} ${value}`);
}

describe('hivemqSignals on one scrape', () => {
  it('maps the Enterprise page to gauges, CPU and heap', () => {
    const signals = hivemqSignals(scrape(fixture('hivemq-enterprise.txt'), 1000), undefined);
    expect(signals).toEqual({
      connections: 48211,
      notWritable: 12,
      overloadLevel: 3,
      backpressureClients: 214,
      creditsPerTick: 30000,
      cpu: 0.625,
      cpuSource: 'system',
      heapUsedRatio: 0.75,
    });
  });

  it('maps the Community Edition page, which has no overload protection', () => {
    const signals = hivemqSignals(scrape(fixture('hivemq-ce.txt'), 1000), undefined);
    expect(signals).toEqual({ connections: 1342, heapUsedRatio: 0.25 });
  });

  it('gives no rates from a single scrape', () => {
    const signals = hivemqSignals(scrape(fixture('hivemq-ce.txt'), 1000), undefined);
    expect(signals.incomingPublishRate).toBeUndefined();
    expect(signals.droppedRate).toBeUndefined();
  });

  it('returns empty signals for a page without HiveMQ metrics', () => {
    expect(hivemqSignals(scrape('# nothing here\nup 1\n', 0), undefined)).toEqual({});
  });
});

describe('hivemqSignals rates between two scrapes', () => {
  const ce = fixture('hivemq-ce.txt');

  it('turns Dropwizard counters exported as gauges into per-second rates', () => {
    let later = withValue(ce, 'com_hivemq_messages_incoming_publish_count', '5.2236E7'); // +5000
    later = withValue(later, 'com_hivemq_messages_outgoing_publish_count', '1.04472E8'); // +10000
    later = withValue(later, 'com_hivemq_messages_dropped_count', '27.0'); // +10
    const signals = hivemqSignals(scrape(later, 20_000), scrape(ce, 10_000));
    expect(signals.incomingPublishRate).toBeCloseTo(500, 9);
    expect(signals.outgoingPublishRate).toBeCloseTo(1000, 9);
    expect(signals.droppedRate).toBeCloseTo(1, 9);
  });

  it('reads the _count_total variant of newer Prometheus clients', () => {
    const ent = fixture('hivemq-enterprise.txt');
    let later = withValue(ent, 'com_hivemq_messages_incoming_publish_count_total', '1.2005E9');
    later = withValue(later, 'com_hivemq_messages_dropped_count_total', '4531.0');
    const signals = hivemqSignals(scrape(later, 5_000), scrape(ent, 0));
    expect(signals.incomingPublishRate).toBeCloseTo(100_000, 6);
    expect(signals.outgoingPublishRate).toBe(0);
    expect(signals.droppedRate).toBeCloseTo(2, 9);
  });

  it('falls back to the meter exported as a _total counter', () => {
    const page = (v: string): string => `com_hivemq_messages_incoming_publish_rate_total ${v}\n`;
    const signals = hivemqSignals(scrape(page('300.0'), 2_000), scrape(page('100.0'), 0));
    expect(signals.incomingPublishRate).toBe(100);
  });

  it('skips a variant missing from the earlier scrape and uses one present in both', () => {
    const before = scrape('com_hivemq_messages_incoming_publish_rate_total 100\n', 0);
    const now = scrape('com_hivemq_messages_incoming_publish_count 900\ncom_hivemq_messages_incoming_publish_rate_total 200\n', 1_000);
    expect(hivemqSignals(now, before).incomingPublishRate).toBe(100);
  });

  it('gives no rate, rather than a negative one, when a counter went down (broker restart)', () => {
    const restarted = withValue(ce, 'com_hivemq_messages_incoming_publish_count', '12.0');
    const signals = hivemqSignals(scrape(restarted, 20_000), scrape(ce, 10_000));
    expect(signals.incomingPublishRate).toBeUndefined();
    expect(signals.outgoingPublishRate).toBe(0);
  });

  it('gives no rate when no time passed between the scrapes', () => {
    const signals = hivemqSignals(scrape(ce, 10_000), scrape(ce, 10_000));
    expect(signals.incomingPublishRate).toBeUndefined();
  });
});

describe('hivemqSignals CPU', () => {
  it('reads the system CPU total as a percentage and normalises it to 0..1', () => {
    expect(hivemqSignals(scrape('com_hivemq_system_os_global_cpu_total_total 12.5\n', 0), undefined).cpu).toBe(0.125);
    expect(hivemqSignals(scrape('com_hivemq_system_os_global_cpu_total_total 0.5\n', 0), undefined).cpu).toBe(0.005);
  });

  it('clamps a CPU percentage outside 0..100', () => {
    expect(hivemqSignals(scrape('com_hivemq_system_os_global_cpu_total_total 130\n', 0), undefined).cpu).toBe(1);
    expect(hivemqSignals(scrape('com_hivemq_system_os_global_cpu_total_total -4\n', 0), undefined).cpu).toBe(0);
  });

  it('prefers the system CPU total over process CPU seconds', () => {
    const before = scrape('com_hivemq_system_os_global_cpu_total_total 40\nprocess_cpu_seconds_total 0\n', 0);
    const now = scrape('com_hivemq_system_os_global_cpu_total_total 50\nprocess_cpu_seconds_total 10\n', 10_000);
    expect(hivemqSignals(now, before, { cores: 4 })).toMatchObject({ cpu: 0.5, cpuSource: 'system' });
  });

  it('divides the process CPU-seconds rate by the cores the caller passes', () => {
    const ce = fixture('hivemq-ce.txt');
    const later = withValue(ce, 'process_cpu_seconds_total', '8135.45'); // +12 s of CPU in 10 s
    const signals = hivemqSignals(scrape(later, 10_000), scrape(ce, 0), { cores: 4 });
    expect(signals.cpu).toBeCloseTo(0.3, 9);
    expect(signals.cpuSource).toBe('process-cores');
  });

  it('takes the cores from os_available_processors when the caller passes none', () => {
    const page = (cpu: number): string => `os_available_processors 8\nprocess_cpu_seconds_total ${cpu}\n`;
    expect(hivemqSignals(scrape(page(20), 5_000), scrape(page(0), 0)).cpu).toBe(0.5);
  });

  it('has no CPU from process seconds when the cores are unknown', () => {
    const page = (cpu: number): string => `process_cpu_seconds_total ${cpu}\n`;
    expect(hivemqSignals(scrape(page(20), 5_000), scrape(page(0), 0)).cpu).toBeUndefined();
  });

  it('caps the process CPU at 1 when scrape timing makes it overshoot', () => {
    const page = (cpu: number): string => `process_cpu_seconds_total ${cpu}\n`;
    expect(hivemqSignals(scrape(page(2.2), 1_000), scrape(page(0), 0), { cores: 2 }).cpu).toBe(1);
  });
});

describe('hivemqSignals CPU of the container limit (the mqtt-xds agent)', () => {
  const agent = fixture('hivemq-ce-agent.txt');
  /** The agent's page 10 s later, with the counters moved on. */
  const later = (counters: Record<string, string>): string =>
    Object.entries(counters).reduce((text, [name, value]) => withValue(text, name, value), agent);

  it('divides the process CPU rate by the fractional limit: 0.15 cores used of 0.15 reads 1, not 0.15', () => {
    const page = later({ process_cpu_seconds_total: '414.0' }); // +1.5 s of CPU in 10 s = 0.15 cores
    const signals = hivemqSignals(scrape(page, 10_000), scrape(agent, 0));
    expect(signals.cpu).toBeCloseTo(1, 9);
    expect(signals.cpuSource).toBe('limit');
    // The JVM rounds the 0.15 quota up to 1 processor; even told so, the limit wins.
    expect(hivemqSignals(scrape(page, 10_000), scrape(agent, 0), { cores: 1 }).cpu).toBeCloseTo(1, 9);
    // What the processor count gives without the agent's limit: a starved broker looks idle.
    const noLimit = (text: string): string => text.replace(/^mqtt_xds_agent_cpu_limit_cores .*\n/m, '');
    const rounded = hivemqSignals(scrape(noLimit(page), 10_000), scrape(noLimit(agent), 0), { cores: 1 });
    expect(rounded).toMatchObject({ cpuSource: 'process-cores' });
    expect(rounded.cpu).toBeCloseTo(0.15, 9);
  });

  it('prefers the limit to the whole machine CPU and to the cores passed', () => {
    const page = (cpuSeconds: number): string =>
      `com_hivemq_system_os_global_cpu_total_total 20\nprocess_cpu_seconds_total ${cpuSeconds}\nmqtt_xds_agent_cpu_limit_cores 0.5\n`;
    expect(hivemqSignals(scrape(page(4), 10_000), scrape(page(0), 0), { cores: 8 })).toMatchObject({ cpu: 0.8, cpuSource: 'limit' });
  });

  it('waits for a second scrape rather than fall back to the whole machine CPU', () => {
    const page = 'com_hivemq_system_os_global_cpu_total_total 20\nprocess_cpu_seconds_total 4\nmqtt_xds_agent_cpu_limit_cores 0.5\n';
    const reading = readHivemqPage(scrape(page, 0), undefined);
    expect(reading.signals.cpu).toBeUndefined();
    expect(reading.signals.cpuSource).toBeUndefined();
    expect(reading.unavailable).not.toContain('cpu');
  });

  it('falls back to the system CPU when the limit is not a positive number', () => {
    const page = (cpuSeconds: number): string =>
      `com_hivemq_system_os_global_cpu_total_total 20\nprocess_cpu_seconds_total ${cpuSeconds}\nmqtt_xds_agent_cpu_limit_cores 0\n`;
    expect(hivemqSignals(scrape(page(4), 10_000), scrape(page(0), 0))).toMatchObject({ cpu: 0.2, cpuSource: 'system' });
  });

  it('clamps a limit-based CPU that scrape timing pushes past 1', () => {
    const page = later({ process_cpu_seconds_total: '414.2' }); // 0.17 cores over a 0.15 limit
    expect(hivemqSignals(scrape(page, 10_000), scrape(agent, 0)).cpu).toBe(1);
  });

  it('reads throttled periods over periods and GC pause seconds per second', () => {
    const page = later({
      process_cpu_seconds_total: '413.25',
      mqtt_xds_agent_cpu_periods_total: '36100.0', // 100 periods of 100 ms in 10 s
      mqtt_xds_agent_cpu_throttled_periods_total: '1240.0', // 40 of them throttled
      mqtt_xds_agent_gc_pause_seconds_total: '3.8', // 50 ms of pauses
    });
    const signals = hivemqSignals(scrape(page, 10_000), scrape(agent, 0));
    expect(signals.cpu).toBeCloseTo(0.5, 9);
    expect(signals.throttledRatio).toBeCloseTo(0.4, 9);
    expect(signals.gcPauseRatio).toBeCloseTo(0.005, 9);
  });

  it('has a throttled ratio of 0 when no period ran, and none after a counter reset', () => {
    expect(hivemqSignals(scrape(agent, 10_000), scrape(agent, 0)).throttledRatio).toBe(0);
    const reset = later({ mqtt_xds_agent_cpu_periods_total: '10.0', mqtt_xds_agent_cpu_throttled_periods_total: '0.0' });
    expect(hivemqSignals(scrape(reset, 10_000), scrape(agent, 0)).throttledRatio).toBeUndefined();
  });

  it('has no throttled ratio without a quota (no cpu.stat counters) and no rates from one scrape', () => {
    const noQuota = agent.replace(/^mqtt_xds_agent_cpu_(throttled_)?periods_total .*\n/gm, '');
    expect(hivemqSignals(scrape(noQuota, 10_000), scrape(noQuota, 0)).throttledRatio).toBeUndefined();
    expect(hivemqSignals(scrape(agent, 0), undefined)).toEqual({ connections: 212, notWritable: 0 });
  });

  it('caps the GC pause ratio at 1', () => {
    const page = later({ mqtt_xds_agent_gc_pause_seconds_total: '23.75' });
    expect(hivemqSignals(scrape(page, 10_000), scrape(agent, 0)).gcPauseRatio).toBe(1);
  });
});

describe('readHivemqPage: what a page cannot give', () => {
  it.each<[string, string, string[]]>([
    ['Community Edition without the agent: no CPU it can use', fixture('hivemq-ce.txt'), ['cpu']],
    ['Community Edition with the agent: everything', fixture('hivemq-ce-agent.txt'), []],
    ['Enterprise with the Prometheus extension: everything', fixture('hivemq-enterprise.txt'), []],
    ['a page without HiveMQ metrics: nothing', 'up 1\n', ['connections', 'publishRate', 'cpu']],
    [
      'process CPU with the JVM processor count',
      'process_cpu_seconds_total 1\nos_available_processors 2\n',
      ['connections', 'publishRate'],
    ],
  ])('%s', (_, text, unavailable) => {
    expect(readHivemqPage(scrape(text, 0), undefined).unavailable).toEqual(unavailable);
  });

  it('counts process CPU as available when the caller passes the cores', () => {
    expect(readHivemqPage(scrape('process_cpu_seconds_total 1\n', 0), undefined, { cores: 2 }).unavailable).not.toContain('cpu');
  });
});

describe('hivemqSignals heap', () => {
  it('has no heap ratio when the JVM reports no maximum (-1)', () => {
    const page = 'com_hivemq_jvm_memory_heap_used 1.0E8\ncom_hivemq_jvm_memory_heap_max -1.0\n';
    expect(hivemqSignals(scrape(page, 0), undefined).heapUsedRatio).toBeUndefined();
  });
});

describe('hivemqSignals with labelled and odd samples', () => {
  const at0 = (samples: Sample[]): Scrape => ({ samples, atMs: 0 });
  const sample = (name: string, value: number, labels: Record<string, string> = {}): Sample => ({
    name,
    labels,
    value,
    line: 1,
  });

  it('sums per-listener series when there is no unlabelled one', () => {
    const signals = hivemqSignals(
      scrape(
        'com_hivemq_networking_connections_current{listener="tcp-1883",} 100\n' +
          'com_hivemq_networking_connections_current{listener="tls-8883",} 50\n',
        0,
      ),
      undefined,
    );
    expect(signals.connections).toBe(150);
  });

  it('takes the unlabelled series when it is present next to labelled ones', () => {
    const signals = hivemqSignals(
      at0([
        sample('com_hivemq_networking_connections_current', 100, { listener: 'a' }),
        sample('com_hivemq_networking_connections_current', 130),
        sample('com_hivemq_networking_connections_current', 30, { listener: 'b' }),
      ]),
      undefined,
    );
    expect(signals.connections).toBe(130);
  });

  it('treats NaN and infinite samples as absent', () => {
    const signals = hivemqSignals(
      at0([
        sample('com_hivemq_overload_protection_level', NaN),
        sample('com_hivemq_overload_protection_credits_per_tick', Infinity),
        sample('com_hivemq_system_os_global_cpu_total_total', NaN),
      ]),
      undefined,
    );
    expect(signals).toEqual({});
  });
});
