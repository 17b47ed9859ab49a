/**
 * What scraping learned about one broker. Counters are already turned into rates by the
 * scraper (it keeps the previous sample); balancing never sees raw counters.
 * Every signal is optional: a broker exposes what its edition and extensions export.
 */
export interface LoadSignals {
  /** com_hivemq_networking_connections_current */
  readonly connections?: number;
  /** com_hivemq_mqtt_connection_not_writable_current: clients the broker cannot write to. */
  readonly notWritable?: number;
  /** PUBLISH messages per second, from com_hivemq_messages_incoming_publish_count. */
  readonly incomingPublishRate?: number;
  /** PUBLISH messages per second, from com_hivemq_messages_outgoing_publish_count. */
  readonly outgoingPublishRate?: number;
  /**
   * MQTT CONNECT packets per second, from com_hivemq_messages_incoming_connect_count: how
   * fast clients arrive, which sets how fast weights can close a gap (docs/policy.md).
   */
  readonly connectRate?: number;
  /** Dropped messages per second, from com_hivemq_messages_dropped_count. */
  readonly droppedRate?: number;
  /** com_hivemq_overload_protection_level (Enterprise; 0 = none). */
  readonly overloadLevel?: number;
  /** com_hivemq_overload_protection_clients_backpressure_active: clients under back-pressure. */
  readonly backpressureClients?: number;
  /** com_hivemq_overload_protection_credits_per_tick */
  readonly creditsPerTick?: number;
  /**
   * CPU utilisation 0..1, from the first source the page has (`cpuSource` says which):
   * the rate of process_cpu_seconds_total over mqtt_xds_agent_cpu_limit_cores (the
   * container's own limit, from the mqtt-xds agent); else
   * com_hivemq_system_os_global_cpu_total_total (the whole machine's); else the rate of
   * process_cpu_seconds_total over the broker's cores (configured, or as the JVM counts them).
   */
  readonly cpu?: number;
  /** Where `cpu` came from; set whenever `cpu` is. */
  readonly cpuSource?: CpuSource;
  /**
   * Share 0..1 of the CPU periods in which the container was throttled at its quota:
   * rate(mqtt_xds_agent_cpu_throttled_periods_total) / rate(mqtt_xds_agent_cpu_periods_total).
   * Absent without a quota. A throttled broker's CPU reads as its limit whatever its load.
   */
  readonly throttledRatio?: number;
  /** Seconds per second 0..1 the JVM spent in GC pauses: rate(mqtt_xds_agent_gc_pause_seconds_total). */
  readonly gcPauseRatio?: number;
  /** com_hivemq_jvm_memory_heap_used / com_hivemq_jvm_memory_heap_max, 0..1 */
  readonly heapUsedRatio?: number;
}

/**
 * Where a broker's CPU reading came from: `limit`, its own CPU over its container's limit
 * (the mqtt-xds agent); `system`, the whole machine's CPU (HiveMQ Enterprise's Prometheus
 * extension), which is the host's and not the container's; `process-cores`, its own CPU
 * over a core count, which the JVM rounds up for a fractional quota.
 */
export type CpuSource = 'limit' | 'system' | 'process-cores';

/** The numeric signals: every LoadSignals field but `cpuSource`. */
export type NumericSignal = Exclude<keyof LoadSignals, 'cpuSource'>;

/** The signals a policy can weigh (its `signals` section). */
export const WEIGHED_SIGNALS = ['connections', 'publishRate', 'cpu'] as const;
export type WeighedSignal = (typeof WEIGHED_SIGNALS)[number];

export interface ScrapeError {
  /** Stable code: SCRAPE_TIMEOUT, SCRAPE_HTTP_STATUS, SCRAPE_CONNECT, SCRAPE_PARSE, SCRAPE_TOO_LARGE. */
  readonly code: string;
  readonly message: string;
}

export interface BrokerLoad {
  /** Broker.name */
  readonly broker: string;
  /** When the last successful scrape completed (ms since epoch); undefined if none yet. */
  readonly scrapedAtMs?: number;
  /** From the last successful scrape; empty when there was none. */
  readonly signals: LoadSignals;
  /**
   * Weighable signals the last successful page has no series for at all, so they will not
   * come with the next scrape either. A rate that waits for a second scrape, or for a
   * counter to count again after a restart, is not listed. Absent when none.
   */
  readonly unavailable?: readonly WeighedSignal[];
  /** The most recent attempt failed: why. Signals above are older. */
  readonly error?: ScrapeError;
  readonly consecutiveFailures: number;
  /** Set by the scraper when the last success is older than its staleness limit. */
  readonly stale: boolean;
}
