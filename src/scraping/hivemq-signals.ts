// HiveMQ's metrics page → LoadSignals. Pure: two parsed scrapes and their times in,
// signals out. What we assume about HiveMQ's format is stated next to each name.
import type { LoadSignals } from '../domain/broker-load';
import type { Sample } from './prom-text';

/** One successful scrape: its samples and when it completed (ms since epoch). */
export interface Scrape {
  readonly samples: readonly Sample[];
  readonly atMs: number;
}

export interface SignalOptions {
  /** CPU cores of the broker, when the operator knows them; see `cpuFromProcessSeconds`. */
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
  overloadLevel: 'com_hivemq_overload_protection_level',
  backpressureClients: 'com_hivemq_overload_protection_clients_backpressure_active',
  creditsPerTick: 'com_hivemq_overload_protection_credits_per_tick',
  /**
   * Whole-machine CPU use in PERCENT (0..100). HiveMQ documents the group it belongs to
   * (`com.hivemq.system.os.global.cpu.total.usage.*`: user, sys, iowait, …) as percentages
   * of CPU time, and this is their total. We divide by 100 and clamp to 0..1. We do not
   * guess "ratio or percent" from the value: 0.8 would be ambiguous.
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

/** Maps one scrape (and the one before it, for rates) to the signals balancing reads. */
export function hivemqSignals(current: Scrape, previous: Scrape | undefined, opts: SignalOptions = {}): LoadSignals {
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
  set('overloadLevel', valueOf(cur, m.overloadLevel));
  set('backpressureClients', valueOf(cur, m.backpressureClients));
  set('creditsPerTick', valueOf(cur, m.creditsPerTick));
  set('cpu', cpuOf(cur, rate, opts.cores));
  set('heapUsedRatio', heapRatio(cur));
  return out;
}

function cpuOf(cur: Index, rate: (names: readonly string[]) => number | undefined, cores: number | undefined): number | undefined {
  const percent = valueOf(cur, HIVEMQ_METRICS.systemCpuPercent);
  if (percent !== undefined) return clamp01(percent / 100);
  return cpuFromProcessSeconds(rate([HIVEMQ_METRICS.processCpuSeconds]), cores ?? coresOf(cur));
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
