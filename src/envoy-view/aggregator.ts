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

interface Kept {
  /** Which stream sent it: only that stream's end drops it. */
  readonly owner: number;
  readonly receivedAtMs: number;
  readonly intervalMs: number;
  readonly endpoints: readonly EndpointLoad[];
}

export class EnvoyViewAggregator {
  private readonly nodes = new Map<string, Kept>();
  private entries = 0;
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
    return undefined;
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
    const sums = new Map<string, { connections: number; openedPerSec: number }>();
    for (const key of endpoints) sums.set(key, { connections: 0, openedPerSec: 0 });
    let envoys = 0;
    let oldest: number | undefined;
    for (const kept of this.nodes.values()) {
      if (!this.fresh(kept, nowMs)) continue;
      envoys++;
      oldest = oldest === undefined ? kept.receivedAtMs : Math.min(oldest, kept.receivedAtMs);
      const perSec = kept.intervalMs > 0 ? 1000 / kept.intervalMs : 0;
      for (const e of kept.endpoints) {
        let sum = sums.get(e.endpoint);
        if (!sum) sums.set(e.endpoint, (sum = { connections: 0, openedPerSec: 0 }));
        sum.connections += e.inProgress;
        sum.openedPerSec += e.issued * perSec;
      }
    }
    const out = new Map<string, EndpointView>();
    for (const [key, sum] of sums) out.set(key, { ...sum, envoys, freshAtMs: oldest });
    return out;
  }

  summary(nowMs: number): AggregatorSummary {
    let fresh = 0;
    for (const kept of this.nodes.values()) if (this.fresh(kept, nowMs)) fresh++;
    return { nodes: this.nodes.size, fresh, entries: this.entries };
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
  }
}
