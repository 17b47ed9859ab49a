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
  /** Dropped messages per second, from com_hivemq_messages_dropped_count. */
  readonly droppedRate?: number;
  /** com_hivemq_overload_protection_level (Enterprise; 0 = none). */
  readonly overloadLevel?: number;
  /** com_hivemq_overload_protection_clients_backpressure_active: clients under back-pressure. */
  readonly backpressureClients?: number;
  /** com_hivemq_overload_protection_credits_per_tick */
  readonly creditsPerTick?: number;
  /**
   * CPU utilisation 0..1: com_hivemq_system_os_global_cpu_total_total when present,
   * else the rate of process_cpu_seconds_total divided by the broker's cores (when known).
   */
  readonly cpu?: number;
  /** com_hivemq_jvm_memory_heap_used / com_hivemq_jvm_memory_heap_max, 0..1 */
  readonly heapUsedRatio?: number;
}

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
  /** The most recent attempt failed: why. Signals above are older. */
  readonly error?: ScrapeError;
  readonly consecutiveFailures: number;
  /** Set by the scraper when the last success is older than its staleness limit. */
  readonly stale: boolean;
}
