// HiveMQ's metrics page → LoadSignals. Pure: two parsed scrapes and their times in,
// signals out. What we assume about HiveMQ's format is stated next to each name.
import type { CpuSource, LoadSignals, WeighedSignal } from '../domain/broker-load';
import type { Sample } from './prom-text';

/** One successful scrape: its samples and when it completed (ms since epoch). */
export interface Scrape {
  readonly samples: readonly Sample[];
  readonly atMs: number;
}

export interface SignalOptions {
  /**
   * CPU cores of the broker, when the operator knows them: process CPU is divided by them
   * when the page has neither the agent's CPU limit nor the system CPU.
   */
  readonly cores?: number;
}

/**
 * The names we read. HiveMQ registers Dropwizard metrics and the Prometheus extension
 * exports them with dots and dashes turned into underscores. Dropwizard *counters* come
 * out as Prometheus gauges under their own name (`…_count`); *meters* come out as
 * counters with `_total` appended (the extension's README shows
 * `com_hivemq_messages_incoming_publish_rate_total`), and newer Prometheus clients append
 * `_total` to counters, giving `…_count_total`. Each rate lists its variants in order of
 * preference; the first one present in both scrapes is used.
 */
export const HIVEMQ_METRICS = {
  connections: 'com_hivemq_networking_connections_current',
  notWritable: 'com_hivemq_mqtt_connection_not_writable_current',
  incomingPublish: [
    'com_hivemq_messages_incoming_publish_count',
    'com_hivemq_messages_incoming_publish_count_total',
    'com_hivemq_messages_incoming_publish_rate_total',
  ],
  outgoingPublish: [
    'com_hivemq_messages_outgoing_publish_count',
    'com_hivemq_messages_outgoing_publish_count_total',
    'com_hivemq_messages_outgoing_publish_rate_total',
  ],
  dropped: ['com_hivemq_messages_dropped_count', 'com_hivemq_messages_dropped_count_total'],
  incomingConnect: ['com_hivemq_messages_incoming_connect_count', 'com_hivemq_messages_incoming_connect_count_total'],
  overloadLevel: 'com_hivemq_overload_protection_level',
  backpressureClients: 'com_hivemq_overload_protection_clients_backpressure_active',
  creditsPerTick: 'com_hivemq_overload_protection_credits_per_tick',
  /**
   * Whole-machine CPU use in PERCENT (0..100). HiveMQ documents the group it belongs to
   * (`com.hivemq.system.os.global.cpu.total.usage.*`: user, sys, iowait, …) as percentages
   * of CPU time, and this is their total. We divide by 100 and clamp to 0..1. We do not
   * guess "ratio or percent" from the value: 0.8 would be ambiguous. It is the host's CPU,
   * not the container's, so the agent's limit-based CPU is preferred to it.
   */
  systemCpuPercent: 'com_hivemq_system_os_global_cpu_total_total',
  /** Seconds of CPU the process used (Prometheus client convention); a rate of it is cores in use. */
  processCpuSeconds: 'process_cpu_seconds_total',
  /**
   * Cores, when the page says so: `os_available_processors`, or the name the JMX exporter
   * gives the JVM's OperatingSystem.AvailableProcessors attribute. Used only when the
   * caller passes no `cores`.
   */
  cores: ['os_available_processors', 'java_lang_OperatingSystem_AvailableProcessors'],
  heapUsed: 'com_hivemq_jvm_memory_heap_used',
  heapMax: 'com_hivemq_jvm_memory_heap_max',
} as const;

/**
 * What the mqtt-xds agent adds to HiveMQ's names on its /metrics (docs/hivemq-agent.md).
 * The JVM rounds a fractional CPU quota up to one processor, so process CPU over the
 * JVM's processor count makes a broker capped at 0.15 cores look 85% idle at its limit;
 * the agent reads the quota from the cgroup instead. It also exports
 * `mqtt_xds_agent_cpu_limit_info{source="cgroup-v2"|"cgroup-v1"|"host"}` and
 * `mqtt_xds_agent_cpu_throttled_seconds_total`, which nothing here needs.
 */
export const AGENT_METRICS = {
  /** The container's CPU limit in cores, fractional (0.15), from the cgroup quota; the host's CPUs without one. */
  cpuLimitCores: 'mqtt_xds_agent_cpu_limit_cores',
  /** cgroup cpu.stat counters (nr_periods, nr_throttled); absent without a quota. */
  cpuPeriods: 'mqtt_xds_agent_cpu_periods_total',
  cpuThrottledPeriods: 'mqtt_xds_agent_cpu_throttled_periods_total',
  /** Seconds the JVM spent in GC pauses. */
  gcPauseSeconds: 'mqtt_xds_agent_gc_pause_seconds_total',
} as const;

type Index = ReadonlyMap<string, readonly Sample[]>;
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export function indexSamples(samples: readonly Sample[]): Index {
  const index = new Map<string, Sample[]>();
  for (const s of samples) {
    const list = index.get(s.name);
    if (list) list.push(s);
    else index.set(s.name, [s]);
  }
  return index;
}

/**
 * One value for a name. HiveMQ exports these unlabelled; a page may still carry labelled
 * series of the same name (per listener, or the extension's static `labels` setting on
 * every sample). Rule: an unlabelled sample wins; otherwise the labelled ones are summed,
 * which is right for per-listener splits and harmless for a single static label.
 * NaN and infinite samples count as absent.
 */
export function valueOf(index: Index, name: string): number | undefined {
  const samples = index.get(name);
  if (!samples) return undefined;
  const finite = samples.filter((s) => Number.isFinite(s.value));
  if (finite.length === 0) return undefined;
  const bare = finite.find((s) => Object.keys(s.labels).length === 0);
  if (bare) return bare.value;
  return finite.reduce((sum, s) => sum + s.value, 0);
}

/**
 * Per-second rate of a monotonic count between two scrapes. Undefined when there is no
 * earlier scrape, no time passed, or the count went down (the broker restarted): one
 * round without a rate is better than a negative or a huge one.
 */
export function rateBetween(
  current: Index,
  currentAtMs: number,
  previous: Index | undefined,
  previousAtMs: number | undefined,
  names: readonly string[],
): number | undefined {
  if (!previous || previousAtMs === undefined) return undefined;
  const seconds = (currentAtMs - previousAtMs) / 1000;
  if (!(seconds > 0)) return undefined;
  for (const name of names) {
    const now = valueOf(current, name);
    const before = valueOf(previous, name);
    if (now === undefined || before === undefined) continue;
    if (now < before) return undefined;
    return (now - before) / seconds;
  }
  return undefined;
}

/** What one page says about its broker. */
export interface PageReading {
  readonly signals: LoadSignals;
  /** Weighable signals the page has no series for (BrokerLoad.unavailable). */
  readonly unavailable: readonly WeighedSignal[];
}

/** Maps one scrape (and the one before it, for rates) to the signals balancing reads. */
export function hivemqSignals(current: Scrape, previous: Scrape | undefined, opts: SignalOptions = {}): LoadSignals {
  return readHivemqPage(current, previous, opts).signals;
}

/** The signals, and which weighable signals the page cannot give at all. */
export function readHivemqPage(current: Scrape, previous: Scrape | undefined, opts: SignalOptions = {}): PageReading {
  const cur = indexSamples(current.samples);
  const prev = previous && indexSamples(previous.samples);
  const rate = (names: readonly string[]): number | undefined => rateBetween(cur, current.atMs, prev, previous?.atMs, names);
  const m = HIVEMQ_METRICS;
  const out: Mutable<LoadSignals> = {};
  const set = <K extends keyof LoadSignals>(key: K, value: LoadSignals[K] | undefined): void => {
    if (value !== undefined) out[key] = value;
  };

  set('connections', valueOf(cur, m.connections));
  set('notWritable', valueOf(cur, m.notWritable));
  set('incomingPublishRate', rate(m.incomingPublish));
  set('outgoingPublishRate', rate(m.outgoingPublish));
  set('droppedRate', rate(m.dropped));
  set('connectRate', rate(m.incomingConnect));
  set('overloadLevel', valueOf(cur, m.overloadLevel));
  set('backpressureClients', valueOf(cur, m.backpressureClients));
  set('creditsPerTick', valueOf(cur, m.creditsPerTick));
  const cpuSource = cpuSourceOf(cur, opts.cores);
  const cpu = cpuSource === undefined ? undefined : cpuFrom(cpuSource, cur, rate, opts.cores);
  if (cpu !== undefined) {
    set('cpu', cpu);
    set('cpuSource', cpuSource);
  }
  set('throttledRatio', throttledRatioOf(rate));
  set('gcPauseRatio', ratioOf(rate([AGENT_METRICS.gcPauseSeconds])));
  set('heapUsedRatio', heapRatio(cur));

  const unavailable: WeighedSignal[] = [];
  if (out.connections === undefined) unavailable.push('connections');
  if (![...m.incomingPublish, ...m.outgoingPublish].some((n) => valueOf(cur, n) !== undefined)) unavailable.push('publishRate');
  if (cpuSource === undefined) unavailable.push('cpu');
  return { signals: out, unavailable };
}

/**
 * Where this page's CPU comes from, chosen by the series on it, not by whether a rate can
 * be taken yet: on a first scrape the limit-based reading is absent for one round rather
 * than replaced by the whole machine's CPU, another quantity that would seed capacity
 * inference wrongly.
 */
function cpuSourceOf(cur: Index, cores: number | undefined): CpuSource | undefined {
  const process = valueOf(cur, HIVEMQ_METRICS.processCpuSeconds) !== undefined;
  if (process && positive(valueOf(cur, AGENT_METRICS.cpuLimitCores)) !== undefined) return 'limit';
  if (valueOf(cur, HIVEMQ_METRICS.systemCpuPercent) !== undefined) return 'system';
  if (process && (positive(cores) ?? coresOf(cur)) !== undefined) return 'process-cores';
  return undefined;
}

function cpuFrom(
  source: CpuSource,
  cur: Index,
  rate: (names: readonly string[]) => number | undefined,
  cores: number | undefined,
): number | undefined {
  const processRate = rate([HIVEMQ_METRICS.processCpuSeconds]);
  switch (source) {
    case 'limit':
      // A process under a quota cannot use more than its limit; a reading above 1 is the
      // scrape interval not matching the kernel's accounting, which the clamp absorbs.
      return cpuFromProcessSeconds(processRate, valueOf(cur, AGENT_METRICS.cpuLimitCores));
    case 'system': {
      const percent = valueOf(cur, HIVEMQ_METRICS.systemCpuPercent);
      return percent === undefined ? undefined : clamp01(percent / 100);
    }
    case 'process-cores':
      return cpuFromProcessSeconds(processRate, positive(cores) ?? coresOf(cur));
  }
}

/** Throttled periods over periods; 0 when no period ran (nothing was there to throttle). */
function throttledRatioOf(rate: (names: readonly string[]) => number | undefined): number | undefined {
  const periods = rate([AGENT_METRICS.cpuPeriods]);
  const throttled = rate([AGENT_METRICS.cpuThrottledPeriods]);
  if (periods === undefined || throttled === undefined) return undefined;
  return periods > 0 ? clamp01(throttled / periods) : 0;
}

/** CPU-seconds per second divided by cores; clamped, as scrape timing jitter can push it past 1. */
export function cpuFromProcessSeconds(cpuSecondsPerSecond: number | undefined, cores: number | undefined): number | undefined {
  if (cpuSecondsPerSecond === undefined || cores === undefined || !(cores > 0)) return undefined;
  return clamp01(cpuSecondsPerSecond / cores);
}

function coresOf(cur: Index): number | undefined {
  for (const name of HIVEMQ_METRICS.cores) {
    const v = valueOf(cur, name);
    if (v !== undefined && v > 0) return v;
  }
  return undefined;
}

function heapRatio(cur: Index): number | undefined {
  const used = valueOf(cur, HIVEMQ_METRICS.heapUsed);
  const max = valueOf(cur, HIVEMQ_METRICS.heapMax);
  // The JVM reports max -1 when the heap has no defined limit: no ratio then.
  if (used === undefined || max === undefined || !(max > 0) || used < 0) return undefined;
  return clamp01(used / max);
}

function clamp01(v: number): number {
  return Math.min(1, Math.max(0, v));
}

const ratioOf = (v: number | undefined): number | undefined => (v === undefined ? undefined : clamp01(v));
const positive = (v: number | undefined): number | undefined => (v !== undefined && v > 0 ? v : undefined);
