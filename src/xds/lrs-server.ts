// Envoy's load reporting service (LRS), served beside ADS on the same gRPC server: each
// stream is asked once for per-endpoint reports of every cluster, then only listens. What
// it hears goes to a sink (the Envoy view) as plain reports; hostile streams are refused.
import * as grpc from '@grpc/grpc-js';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { EnvoyLoadReport } from '../domain';
import type { Logger } from '../util/log';
import { onStreamEnd, type AdsCall, type Decoded } from './ads-transport';
import {
  decodeLrsNode,
  encodeLoadStatsResponse,
  extractClusterReport,
  REPORT_LIMITS,
  SEND_ALL_CLUSTERS_FEATURE,
  type LoadStatsRequest,
  type LrsNode,
  type LrsRejectReason,
  type ReportLimits,
} from './lrs-messages';
import type { NodeIdentityRule } from './node-identity';
import { nodeRefusal } from './request-limits';

/** Where reports go. Its refusal (a stable code and why) ends the stream. */
export interface LoadReportSink {
  report(stream: number, report: EnvoyLoadReport): { readonly code: string; readonly message: string } | undefined;
  /** Stream `stream`, which reported as `nodeId`, ended. */
  closed(stream: number, nodeId: string): void;
}

export interface LrsOptions {
  /** The MQTT cluster: the only one whose endpoints are kept. */
  readonly clusterName: string;
  readonly reportIntervalMs: number;
  readonly sink: LoadReportSink;
  readonly logger: Logger;
  readonly metrics: LrsMetrics;
  /** With mTLS: the claim of the node its client certificate must name, as for ADS. */
  readonly nodeIdentity?: NodeIdentityRule;
  readonly maxStreams?: number;
  readonly limits?: ReportLimits;
}

/** One per Envoy; twice a fleet of 10,000 leaves room for reconnects before old streams are noticed gone. */
export const MAX_LRS_STREAMS = 20_000;

interface LrsStream {
  readonly call: AdsCall;
  nodeId?: string;
  /** Refused: whatever it still sends is ignored until gRPC closes it. */
  refused: boolean;
}

export class LrsService {
  private readonly streams = new Map<number, LrsStream>();
  private nextId = 1;
  /** The two responses there are (send all clusters or name ours), encoded once. */
  private readonly responses = new Map<boolean, Buffer>();

  constructor(private readonly opts: LrsOptions) {}

  /** The gRPC handler of StreamLoadStats. */
  readonly open = (call: AdsCall): void => {
    const { metrics, logger } = this.opts;
    if (this.streams.size >= (this.opts.maxStreams ?? MAX_LRS_STREAMS)) {
      metrics.rejected('too_many_streams');
      call.emit('error', { code: grpc.status.RESOURCE_EXHAUSTED, details: `more than ${this.streams.size} LRS streams are open` });
      return;
    }
    const id = this.nextId++;
    const live: LrsStream = { call, refused: false };
    this.streams.set(id, live);
    metrics.streamOpened();
    const refuse = (reason: LrsRejectReason, code: grpc.status, details: string): void => {
      live.refused = true;
      metrics.rejected(reason);
      logger.warn('refusing LRS stream', { node: live.nodeId, peer: call.getPeer(), reason, error: details });
      call.emit('error', { code, details });
    };
    call.on('data', (decoded: Decoded<LoadStatsRequest>) => {
      if (live.refused) return;
      if (!decoded.ok) return refuse('undecodable', grpc.status.INVALID_ARGUMENT, decoded.error);
      const req = decoded.msg;
      if (live.nodeId === undefined) {
        const node = this.node(call, req);
        if (!node.ok) return refuse(node.reason, node.code, node.details);
        live.nodeId = node.id;
        logger.debug('LRS stream opened', { node: live.nodeId, peer: call.getPeer() });
        // One small response per stream: back-pressure cannot build up.
        call.write(this.response(node.sendAll));
      } else {
        metrics.reported();
      }
      const extracted = extractClusterReport(req, this.opts.clusterName, this.opts.limits ?? REPORT_LIMITS);
      if (!extracted.ok) return refuse(extracted.reason, grpc.status.RESOURCE_EXHAUSTED, extracted.details);
      // The first request carries no stats; an Envoy without our cluster yet has none of it.
      if (!extracted.cluster) return;
      const { intervalMs, endpoints } = extracted.cluster;
      const refusal = this.opts.sink.report(id, { nodeId: live.nodeId, intervalMs: intervalMs ?? this.opts.reportIntervalMs, endpoints });
      if (refusal) refuse('refused_by_view', grpc.status.RESOURCE_EXHAUSTED, `${refusal.message} [${refusal.code}]`);
    });
    const close = (why: string): void => {
      if (!this.streams.delete(id)) return;
      metrics.streamClosed();
      if (live.nodeId !== undefined) this.opts.sink.closed(id, live.nodeId);
      logger.debug('LRS stream closed', { node: live.nodeId, why });
    };
    onStreamEnd(call, close);
  };

  /** Ends every stream with OK (on shutdown): each Envoy reconnects, to us or another replica. */
  endAll(): void {
    for (const s of this.streams.values()) s.call.end();
  }

  streamCount(): number {
    return this.streams.size;
  }

  /** The first request's node: who reports, and whether it takes send_all_clusters; or why it may not. */
  private node(
    call: AdsCall,
    req: LoadStatsRequest,
  ): { ok: true; id: string; sendAll: boolean } | { ok: false; reason: LrsRejectReason; code: grpc.status; details: string } {
    let node: LrsNode | undefined;
    try {
      node = req.nodeBytes && decodeLrsNode(req.nodeBytes);
    } catch (err) {
      return {
        ok: false,
        reason: 'undecodable',
        code: grpc.status.INVALID_ARGUMENT,
        details: `undecodable node: ${(err as Error).message}`,
      };
    }
    if (!node?.id)
      return { ok: false, reason: 'no_node', code: grpc.status.INVALID_ARGUMENT, details: 'the first LoadStatsRequest must carry node.id' };
    const refused = nodeRefusal(node, this.opts.nodeIdentity ?? 'off', () => call.getAuthContext?.()?.sslPeerCertificate?.subjectaltname);
    if (refused) return { ok: false, reason: 'node_refused', ...refused };
    return { ok: true, id: node.id, sendAll: node.client_features?.includes(SEND_ALL_CLUSTERS_FEATURE) ?? false };
  }

  private response(sendAll: boolean): Buffer {
    let bytes = this.responses.get(sendAll);
    if (!bytes) {
      bytes = encodeLoadStatsResponse({ sendAll, clusterName: this.opts.clusterName, intervalMs: this.opts.reportIntervalMs });
      this.responses.set(sendAll, bytes);
    }
    return bytes;
  }
}

/** LRS's Prometheus metrics. */
export class LrsMetrics {
  private readonly streams: Gauge;
  private readonly reports: Counter;
  private readonly rejections: Counter<'reason'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.streams = new Gauge({ name: 'mqtt_xds_lrs_streams', help: 'Open LRS (load report) streams from Envoys', registers });
    this.reports = new Counter({ name: 'mqtt_xds_lrs_reports_total', help: 'Load reports received from Envoys over LRS', registers });
    this.rejections = new Counter({
      name: 'mqtt_xds_lrs_rejected_total',
      help: 'LRS streams refused (and ended), by reason',
      labelNames: ['reason'],
      registers,
    });
  }

  streamOpened(): void {
    this.streams.inc();
  }
  streamClosed(): void {
    this.streams.dec();
  }
  reported(): void {
    this.reports.inc();
  }
  rejected(reason: LrsRejectReason): void {
    this.rejections.inc({ reason });
  }
}
