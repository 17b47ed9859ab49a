// The fleet's connections as the Envoys count them: the latest load report of every Envoy,
// added up per endpoint. Pure: no I/O, no clock (every call is given `nowMs`).
import type { EndpointLoad, EnvoyLoadReport } from '../domain';

/** One endpoint (a broker's address:port) as the Envoys with a fresh report see it. */
export interface EndpointView {
  /** Connections the Envoys hold to it now: the sum of their latest in-progress counts. */
  readonly connections: number;
  /** Connections they open to it per second: each Envoy's issued count over its interval, summed. */
  readonly openedPerSec: number;
  /** Envoys whose fresh report is counted (one that does not name the endpoint counts 0 for it). */
  readonly envoys: number;
  /** The receive time of the oldest report counted: everything here is at least this fresh. */
  readonly freshAtMs: number | undefined;
  /**
   * At most this many connections more are held that the Envoys no longer count: those
   * established before their cluster was replaced or removed (`clusterReplaced`). 0 when none.
   */
  readonly uncounted: number;
  /**
   * Some Envoy counted may still be on its old cluster (within its settle window): its
   * count and its uncounted part may hold the same connections.
   */
  readonly settling: boolean;
}

export interface AggregatorOptions {
  /** A report older than this is not counted: its Envoy stopped reporting, or is stuck. */
  readonly staleAfterMs: number;
  /** Envoys remembered at once; a report from one more is refused. */
  readonly maxNodes?: number;
  /** Endpoints one report may name. */
  readonly maxEndpointsPerReport?: number;
  /** Endpoint entries kept over all Envoys together. */
  readonly maxEntries?: number;
}

export type RefusalCode = 'ENVOY_VIEW_TOO_MANY_NODES' | 'ENVOY_VIEW_TOO_MANY_ENDPOINTS' | 'ENVOY_VIEW_TOO_MANY_ENTRIES';

/** Why a report was not kept; the Envoy's earlier report (if any) is dropped with it. */
export interface ReportRefusal {
  readonly code: RefusalCode;
  readonly message: string;
}

export interface AggregatorSummary {
  /** Envoys with a report kept, fresh or not. */
  readonly nodes: number;
  /** Of those, the ones whose report is fresh. */
  readonly fresh: number;
  readonly entries: number;
}

/** A fleet of 10,000 Envoys; past it, someone is inventing node ids. */
export const MAX_NODES = 10_000;
/** Far above any broker cluster; the MQTT cluster's endpoints are ours (EDS). */
export const MAX_ENDPOINTS_PER_REPORT = 4_096;
/** 10,000 Envoys × 50 brokers. */
export const MAX_ENTRIES = 500_000;

/**
 * What one Envoy no longer counts. Envoy replaces a cluster on every Cluster update, and the
 * new cluster's hosts count from zero, while the connections made through the old one stay
 * up uncounted (measured in test/integration/limits.test.ts). So at a replacement, what the
 * Envoy held becomes uncounted: the most it reported per endpoint from its last report
 * before until `untilMs`, when it has surely switched (it keeps reporting the old cluster
 * until the new one is warm). An upper bound: some of those connections close, unseen.
 */
interface Uncounted {
  readonly settled: Map<string, number>;
  /** Open windows by cluster name ('' for a report that names none), peaks per endpoint. */
  readonly windows: Map<string, Window>;
}

interface Window {
  readonly untilMs: number;
  readonly peak: Map<string, number>;
}

/** The cluster a load was counted in; '' when the report names none. */
const clusterOf = (e: EndpointLoad): string => e.cluster ?? '';

interface Kept {
  /** Which stream sent it: only that stream's end drops it. */
  readonly owner: number;
  readonly receivedAtMs: number;
  readonly intervalMs: number;
  readonly endpoints: readonly EndpointLoad[];
}

export class EnvoyViewAggregator {
  private readonly nodes = new Map<string, Kept>();
  private readonly uncounted = new Map<string, Uncounted>();
  private entries = 0;
  /** Endpoint entries of `uncounted`, over all Envoys; bounded by maxEntries like the reports. */
  private uncountedEntries = 0;
  private readonly maxNodes: number;
  private readonly maxEndpoints: number;
  private readonly maxEntries: number;

  constructor(private readonly opts: AggregatorOptions) {
    this.maxNodes = opts.maxNodes ?? MAX_NODES;
    this.maxEndpoints = opts.maxEndpointsPerReport ?? MAX_ENDPOINTS_PER_REPORT;
    this.maxEntries = opts.maxEntries ?? MAX_ENTRIES;
  }

  /**
   * Keeps `report` as its Envoy's latest, replacing the one before: Envoy leaves out the
   * endpoints it has nothing to say about, so a report is the whole picture, not a delta.
   * Two streams under one node id take turns; the id is the Envoy's identity.
   */
  record(owner: number, report: EnvoyLoadReport, nowMs: number): ReportRefusal | undefined {
    const previous = this.nodes.get(report.nodeId);
    // Zeros say nothing an absent endpoint does not, and would cost an entry each.
    const endpoints = report.endpoints.filter((e) => e.inProgress > 0 || e.issued > 0);
    const refusal = this.refusal(report, endpoints.length, previous);
    if (refusal) {
      this.forget(report.nodeId);
      return refusal;
    }
    this.entries += endpoints.length - (previous?.endpoints.length ?? 0);
    this.nodes.set(report.nodeId, { owner, receivedAtMs: nowMs, intervalMs: report.intervalMs, endpoints });
    const u = this.uncounted.get(report.nodeId);
    if (u) {
      for (const [cluster, w] of u.windows) {
        if (nowMs > w.untilMs) this.settle(u, cluster);
        else for (const e of endpoints) if (clusterOf(e) === cluster) this.raise(w.peak, e.endpoint, e.inProgress);
      }
    }
    return undefined;
  }

  /**
   * The cluster of that name was replaced in every Envoy (a changed Cluster was published):
   * what each holds through it goes uncounted once it applies the change, within `settleMs`.
   * `cluster` '' is the one of reports that name no cluster.
   */
  clusterReplaced(nowMs: number, settleMs: number, cluster = ''): void {
    for (const [nodeId, kept] of this.nodes) {
      let u = this.uncounted.get(nodeId);
      if (!u) this.uncounted.set(nodeId, (u = { settled: new Map(), windows: new Map() }));
      if (u.windows.has(cluster)) this.settle(u, cluster);
      const peak = new Map<string, number>();
      u.windows.set(cluster, { untilMs: nowMs + settleMs, peak });
      for (const e of kept.endpoints) if (clusterOf(e) === cluster) this.raise(peak, e.endpoint, e.inProgress);
    }
  }

  /** The stream `owner` ended: its Envoy's counts go, unless a newer stream reports for it. */
  drop(owner: number, nodeId: string): void {
    if (this.nodes.get(nodeId)?.owner === owner) this.forget(nodeId);
  }

  /**
   * Per endpoint, the sum over Envoys with a fresh report. `endpoints` are listed even when
   * no Envoy names them (0 connections, with the fresh Envoys' count): the brokers we serve.
   */
  view(nowMs: number, endpoints: Iterable<string> = []): ReadonlyMap<string, EndpointView> {
    type Sum = { connections: number; openedPerSec: number; uncounted: number; settling: boolean };
    const sums = new Map<string, Sum>();
    const sumOf = (key: string): Sum => {
      let sum = sums.get(key);
      if (!sum) sums.set(key, (sum = { connections: 0, openedPerSec: 0, uncounted: 0, settling: false }));
      return sum;
    };
    for (const key of endpoints) sumOf(key);
    let envoys = 0;
    let oldest: number | undefined;
    for (const [nodeId, kept] of this.nodes) {
      if (!this.fresh(kept, nowMs)) continue;
      envoys++;
      oldest = oldest === undefined ? kept.receivedAtMs : Math.min(oldest, kept.receivedAtMs);
      const perSec = kept.intervalMs > 0 ? 1000 / kept.intervalMs : 0;
      for (const e of kept.endpoints) {
        const sum = sumOf(e.endpoint);
        sum.connections += e.inProgress;
        sum.openedPerSec += e.issued * perSec;
      }
      const u = this.uncounted.get(nodeId);
      if (u) {
        for (const [key, n] of u.settled) sumOf(key).uncounted += n;
        for (const w of u.windows.values()) {
          for (const [key, n] of w.peak) {
            const sum = sumOf(key);
            sum.uncounted += n;
            sum.settling ||= nowMs <= w.untilMs;
          }
        }
      }
    }
    const out = new Map<string, EndpointView>();
    for (const [key, sum] of sums) out.set(key, { ...sum, envoys, freshAtMs: oldest });
    return out;
  }

  summary(nowMs: number): AggregatorSummary {
    let fresh = 0;
    for (const kept of this.nodes.values()) if (this.fresh(kept, nowMs)) fresh++;
    return { nodes: this.nodes.size, fresh, entries: this.entries + this.uncountedEntries };
  }

  private fresh(kept: Kept, nowMs: number): boolean {
    return nowMs - kept.receivedAtMs <= this.opts.staleAfterMs;
  }

  private refusal(report: EnvoyLoadReport, kept: number, previous: Kept | undefined): ReportRefusal | undefined {
    if (!previous && this.nodes.size >= this.maxNodes) {
      return {
        code: 'ENVOY_VIEW_TOO_MANY_NODES',
        message: `${this.maxNodes} Envoys report already; node "${report.nodeId}" is one too many`,
      };
    }
    if (report.endpoints.length > this.maxEndpoints) {
      return {
        code: 'ENVOY_VIEW_TOO_MANY_ENDPOINTS',
        message: `the report names ${report.endpoints.length} endpoints, over the limit of ${this.maxEndpoints}`,
      };
    }
    if (this.entries - (previous?.endpoints.length ?? 0) + kept > this.maxEntries) {
      return { code: 'ENVOY_VIEW_TOO_MANY_ENTRIES', message: `all Envoys together would report over ${this.maxEntries} endpoints` };
    }
    return undefined;
  }

  private forget(nodeId: string): void {
    const kept = this.nodes.get(nodeId);
    if (!kept) return;
    this.entries -= kept.endpoints.length;
    this.nodes.delete(nodeId);
    const u = this.uncounted.get(nodeId);
    if (u) this.uncountedEntries -= u.settled.size + [...u.windows.values()].reduce((n, w) => n + w.peak.size, 0);
    this.uncounted.delete(nodeId);
  }

  /** The cluster's window is over: its peaks join what stays uncounted. */
  private settle(u: Uncounted, cluster: string): void {
    const peak = u.windows.get(cluster)?.peak;
    u.windows.delete(cluster);
    if (!peak) return;
    this.uncountedEntries -= peak.size;
    for (const [key, n] of peak) this.add(u.settled, key, n);
  }

  private raise(map: Map<string, number>, key: string, n: number): void {
    const had = map.get(key);
    if (had !== undefined) map.set(key, Math.max(had, n));
    else if (n > 0 && this.room(map)) map.set(key, n);
  }

  private add(map: Map<string, number>, key: string, n: number): void {
    const had = map.get(key);
    if (had !== undefined) map.set(key, had + n);
    else if (n > 0 && this.room(map)) map.set(key, n);
  }

  /**
   * Whether one more uncounted entry fits: per Envoy as many as a report may name, and over
   * all as many as the reports. Past that, connections go uncounted without a bound: the
   * page is then judged as if the Envoys counted everything.
   */
  private room(map: Map<string, number>): boolean {
    if (map.size >= this.maxEndpoints || this.uncountedEntries >= this.maxEntries) return false;
    this.uncountedEntries++;
    return true;
  }
}
