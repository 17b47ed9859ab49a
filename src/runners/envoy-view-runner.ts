// The Envoy view's shell: takes the reports the LRS service hears, keeps them in the pure
// aggregator, names endpoints by broker, tells listeners a report came, and answers
// /status and /metrics. The clock is read here, never in the aggregator.
import { Gauge, type Registry } from 'prom-client';
import { endpointKey, type Broker, type EnvoyLoadReport } from '../domain';
import { servesBrokers } from '../xds/lrs-messages';
import { EnvoyViewAggregator, type AggregatorOptions, type EndpointView, type ReportRefusal } from '../envoy-view';
import { CLUSTER, type LoadReportSink, type SnapshotCache } from '../xds';

/** A report older than this many intervals is not counted (two lost reports are tolerated). */
export const STALE_AFTER_INTERVALS = 3;
/**
 * After the MQTT cluster is replaced, an Envoy's reports are read as the old cluster's for
 * this many intervals: it counts on the old one until the new one is warm (its EDS came).
 */
export const SETTLE_AFTER_INTERVALS = 5;

export interface EnvoyViewRunnerOptions {
  readonly reportIntervalMs: number;
  readonly registry: Registry;
  /** The brokers served now: their endpoints are listed even when no Envoy names them. */
  readonly brokers: () => readonly Broker[];
  readonly nowMs?: () => number;
  /** Reports arriving within this long reach listeners as one call: a fleet reports every interval. */
  readonly notifyDelayMs?: number;
  readonly limits?: Omit<AggregatorOptions, 'staleAfterMs'>;
}

export interface BrokerEnvoyView {
  readonly connections: number;
  readonly openedPerSec: number;
  readonly envoys: number;
  /** At most this many more the Envoys hold uncounted, since their cluster was replaced. */
  readonly uncounted: number;
  readonly freshAt?: string;
}

export interface EnvoyViewStatus {
  readonly reportIntervalMs: number;
  /** Envoys whose latest report is fresh, and those kept whose report is not. */
  readonly envoys: number;
  readonly staleEnvoys: number;
  readonly brokers: Readonly<Record<string, BrokerEnvoyView>>;
  /** Endpoints the Envoys name that are no broker served now (one just removed, say). */
  readonly unknownEndpoints: number;
}

export class EnvoyViewRunner implements LoadReportSink {
  private readonly aggregator: EnvoyViewAggregator;
  private readonly listeners = new Set<() => void>();
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private unfollow: (() => void) | undefined;

  constructor(private readonly opts: EnvoyViewRunnerOptions) {
    this.now = opts.nowMs ?? (() => Date.now());
    this.aggregator = new EnvoyViewAggregator({ ...opts.limits, staleAfterMs: STALE_AFTER_INTERVALS * opts.reportIntervalMs });
    this.registerMetrics(opts.registry);
  }

  report(stream: number, report: EnvoyLoadReport): ReportRefusal | undefined {
    const refusal = this.aggregator.record(stream, report, this.now());
    this.notify();
    return refusal;
  }

  /**
   * A Cluster update replaced that cluster in the Envoys: they stop counting what they hold
   * through it, and the view keeps it as uncounted (an upper bound) from here on.
   */
  clusterReplaced(cluster: string): void {
    this.aggregator.clusterReplaced(this.now(), SETTLE_AFTER_INTERVALS * this.opts.reportIntervalMs, cluster);
  }

  /**
   * Calls clusterReplaced whenever `cache` publishes a changed Cluster that serves the
   * brokers (the MQTT cluster `clusterName`, its tenants' pools, the WebSocket clusters),
   * or removes one: Envoy replaces a cluster whose content changed, and only then.
   */
  follow(cache: SnapshotCache, clusterName: string): void {
    const versions = (): Map<string, string> => {
      const out = new Map<string, string>();
      for (const [name, r] of cache.snapshot()?.resources[CLUSTER] ?? []) if (servesBrokers(name, clusterName)) out.set(name, r.version);
      return out;
    };
    let known = versions();
    this.unfollow?.();
    this.unfollow = cache.subscribe(() => {
      const next = versions();
      for (const [name, version] of next) {
        const before = known.get(name);
        if (before !== undefined && before !== version) this.clusterReplaced(name);
      }
      // A cluster gone (a tenant removed): its connections stay up until they close, and
      // no Envoy reports them any more.
      for (const name of known.keys()) if (!next.has(name)) this.clusterReplaced(name);
      known = next;
    });
  }

  closed(stream: number, nodeId: string): void {
    this.aggregator.drop(stream, nodeId);
    this.notify();
  }

  /**
   * Per endpoint `address:port` (endpointKey), what the Envoys with a fresh report hold:
   * every broker served now is listed, with 0 when no Envoy names it.
   */
  view(nowMs: number): ReadonlyMap<string, EndpointView> {
    return this.aggregator.view(
      nowMs,
      this.opts.brokers().map((b) => endpointKey(b.address, b.port)),
    );
  }

  /** A broker's endpoints: its MQTT port, and its WebSocket port when it has one. */
  private static keysOf(b: Broker): string[] {
    const mqtt = endpointKey(b.address, b.port);
    return b.websocketPort === undefined ? [mqtt] : [mqtt, endpointKey(b.address, b.websocketPort)];
  }

  /**
   * The same per broker name, its MQTT and WebSocket endpoints added up (its page counts
   * both); endpoints that are no broker served now are left out.
   */
  byBroker(nowMs: number): ReadonlyMap<string, EndpointView> {
    return this.byBrokerOf(this.view(nowMs)).brokers;
  }

  private byBrokerOf(view: ReadonlyMap<string, EndpointView>): { brokers: Map<string, EndpointView>; unknown: number } {
    const brokers = new Map<string, EndpointView>();
    const claimed = new Set<string>();
    for (const b of this.opts.brokers()) {
      let sum: EndpointView | undefined;
      for (const key of EnvoyViewRunner.keysOf(b)) {
        const v = view.get(key);
        if (!v) continue;
        claimed.add(key);
        sum = sum === undefined ? v : addViews(sum, v);
      }
      if (sum) brokers.set(b.name, sum);
    }
    return { brokers, unknown: [...view.keys()].filter((k) => !claimed.has(k)).length };
  }

  /** Calls `listener` soon after reports arrive (several at once make one call); returns the unsubscribe. */
  onReport(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  status(nowMs: number = this.now()): EnvoyViewStatus {
    const { brokers: byName, unknown } = this.byBrokerOf(this.view(nowMs));
    const summary = this.aggregator.summary(nowMs);
    const brokers: Record<string, BrokerEnvoyView> = {};
    for (const [name, v] of byName) {
      brokers[name] = {
        connections: v.connections,
        openedPerSec: Math.round(v.openedPerSec * 1000) / 1000,
        envoys: v.envoys,
        uncounted: v.uncounted,
        ...(v.freshAtMs === undefined ? {} : { freshAt: new Date(v.freshAtMs).toISOString() }),
      };
    }
    return {
      reportIntervalMs: this.opts.reportIntervalMs,
      envoys: summary.fresh,
      staleEnvoys: summary.nodes - summary.fresh,
      brokers,
      unknownEndpoints: unknown,
    };
  }

  stop(): void {
    this.unfollow?.();
    this.unfollow = undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private notify(): void {
    if (this.timer || this.listeners.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      for (const l of this.listeners) l();
    }, this.opts.notifyDelayMs ?? 100);
    this.timer.unref();
  }

  /** Gauges filled when scraped, so a broker that went loses its series. */
  private registerMetrics(registry: Registry): void {
    const byBroker = (): ReadonlyMap<string, EndpointView> => this.byBroker(this.now());
    new Gauge({
      name: 'mqtt_xds_envoy_view_connections',
      help: 'Connections the Envoys hold to each broker, as their fresh LRS reports say',
      labelNames: ['broker'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [broker, v] of byBroker()) this.set({ broker }, v.connections);
      },
    });
    new Gauge({
      name: 'mqtt_xds_envoy_view_opened_per_second',
      help: 'Connections the Envoys open to each broker per second, as their fresh LRS reports say',
      labelNames: ['broker'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [broker, v] of byBroker()) this.set({ broker }, v.openedPerSec);
      },
    });
    new Gauge({
      name: 'mqtt_xds_envoy_view_uncounted_connections',
      help: 'At most this many connections to each broker the Envoys hold but no longer count: made before their cluster was replaced',
      labelNames: ['broker'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [broker, v] of byBroker()) this.set({ broker }, v.uncounted);
      },
    });
    const summary = (): number => this.aggregator.summary(this.now()).fresh;
    new Gauge({
      name: 'mqtt_xds_envoy_view_envoys',
      help: 'Envoys whose latest LRS report is fresh (within 3 report intervals)',
      registers: [registry],
      collect() {
        this.set(summary());
      },
    });
  }
}

/** Two endpoints of one broker: the counts add up, the rest is the same fleet's. */
function addViews(a: EndpointView, b: EndpointView): EndpointView {
  return {
    connections: a.connections + b.connections,
    openedPerSec: a.openedPerSec + b.openedPerSec,
    envoys: a.envoys,
    freshAtMs: a.freshAtMs,
    uncounted: a.uncounted + b.uncounted,
    settling: a.settling || b.settling,
  };
}
