import * as grpc from '@grpc/grpc-js';
import type * as net from 'node:net';
import type { Logger } from '../util/log';
import { BurstLog } from './burst-log';
import { adsSocket, createAdsGrpcServer, listenWithBacklog, onStreamEnd, type AdsCall, type Decoded } from './ads-transport';
import type { SnapshotCache } from './cache';
import { DeltaStream } from './delta-stream';
import type { DeltaDiscoveryRequest, DiscoveryRequest, NodeInfo } from './messages';
import type { LrsService } from './lrs-server';
import type { XdsMetrics } from './metrics';
import { FanOut, HeldWriter } from './fan-out';
import type { NodeIdentityRule } from './node-identity';
import { randomNonce } from './nonce';
import { MAX_NAMES_PER_STREAM, MAX_NAMES_TOTAL, nodeRefusal, requestProblem, subscriptionProblem } from './request-limits';
import { SotwStream, type StreamDeps } from './sotw-stream';
import { StreamEvents } from './stream-events';
import { StreamLogger } from './stream-logger';
import type { OutgoingResponse, TypeStatus } from './stream-observer';
import { boundedTypes, type StreamKind, type StreamStatus } from './stream-status';
import { mayReceiveSecrets, withoutSecrets } from './secret-trust';
import { canonicalTypeUrl, PUSH_ORDER, SECRET, type TypeUrl } from './type-urls';
import type { StreamSync, TypeSync } from './sync-state';
import type { EncodedResource, Snapshot } from './snapshot';

/** What one Envoy (all its streams under one node id) is sent now. */
export interface NodeConfig {
  readonly nodeId: string;
  readonly cluster: string;
  readonly streams: ReadonlyArray<{ readonly id: number; readonly kind: StreamKind }>;
  readonly resources: Partial<Record<TypeUrl, readonly EncodedResource[]>>;
}

export interface AdsServerOptions {
  readonly host: string;
  readonly port: number;
  readonly maxRequestBytes: number;
  readonly cache: SnapshotCache;
  readonly logger: Logger;
  readonly metrics: XdsMetrics;
  readonly nowMs?: () => number;
  /** TLS or mTLS (tls-credentials.ts); plaintext when absent. */
  readonly credentials?: grpc.ServerCredentials;
  /** With mTLS: which claim of the node its client certificate must name. */
  readonly nodeIdentity?: NodeIdentityRule;
  /** Who may be sent Secrets (private keys); default mayReceiveSecrets: loopback or a verified client certificate. */
  readonly secretsTrust?: (peer: string, peerCertificatePresented: boolean) => boolean;
  /** Awaited after binding, before the port is reported (the TLS certificate reaching grpc-js). */
  readonly ready?: () => Promise<void>;
  readonly maxNamesPerStream?: number;
  readonly maxNamesTotal?: number;
  /** Envoy's load reports (LRS), served on this server so they share its port and TLS. */
  readonly loadStats?: Pick<LrsService, 'open' | 'endAll'>;
}

interface Machine {
  onRequest(typeUrl: TypeUrl, req: DiscoveryRequest & DeltaDiscoveryRequest): OutgoingResponse[];
  onSnapshot(changed?: ReadonlySet<TypeUrl>): OutgoingResponse[];
  status(): Partial<Record<TypeUrl, TypeStatus>>;
  sync(): Partial<Record<TypeUrl, TypeSync>>;
  selection(): Partial<Record<TypeUrl, readonly EncodedResource[]>>;
  subscriptionCount(): number;
}

interface LiveStream {
  readonly id: number;
  readonly kind: StreamKind;
  readonly call: AdsCall;
  readonly machine: Machine;
  readonly openedAtMs: number;
  node?: NodeInfo;
  /** The node label its stream metric was opened under. */
  nodeLabel?: string;
  /** Names it subscribes to, as last counted. */
  names: number;
  /** Its writes, held back while gRPC's buffer is full (fan-out.ts). */
  readonly writer: HeldWriter;
}

/**
 * The ADS gRPC server, State-of-the-World and Delta. It knows the cache only as a source
 * of snapshots and a change feed; the per-stream protocol lives in SotwStream/DeltaStream.
 * Responses are pre-encoded buffers, so the gRPC serialiser is the identity.
 */
export class AdsServer {
  private readonly server: grpc.Server;
  private readonly streams = new Map<number, LiveStream>();
  private nextId = 1;
  private unsubscribe?: () => void;
  private listener: net.Server | undefined;
  private totalNames = 0;
  private readonly nowMs: () => number;
  private readonly snapshot = (): Snapshot | undefined => this.opts.cache.snapshot();
  /** A snapshot's way to every stream: in batches, each stream at the pace it reads (fan-out.ts). */
  private readonly fanOut = new FanOut<LiveStream>({
    serve: (live, changed) => live.writer.snapshot(() => live.machine.onSnapshot(changed)),
  });

  /** Connects and closes, one line each when they come alone, summarised when a fleet comes (burst-log.ts). */
  private readonly connects: BurstLog;
  private readonly closes: BurstLog;

  constructor(private readonly opts: AdsServerOptions) {
    this.nowMs = opts.nowMs ?? (() => Date.now());
    this.connects = new BurstLog(opts.logger, { message: 'envoy connected', summary: 'envoys connected' });
    this.closes = new BurstLog(opts.logger, { message: 'xds stream closed', summary: 'xds streams closed' });
    this.server = createAdsGrpcServer(opts.maxRequestBytes, {
      sotw: (call) => this.open('sotw', call),
      delta: (call) => this.open('delta', call),
      ...(opts.loadStats ? { loadStats: opts.loadStats.open } : {}),
    });
  }

  /**
   * Binds and starts serving; resolves to the bound port. The socket is ours, handed to
   * grpc-js connection by connection, so its backlog takes a reconnect storm (ads-transport.ts).
   */
  async start(): Promise<number> {
    const listener = adsSocket(this.server, this.opts.credentials);
    this.listener = listener;
    const port = await listenWithBacklog(listener, this.opts.host, this.opts.port);
    listener.on('error', (err) => this.opts.logger.error('xDS listener failed', { error: err.message }));
    await this.opts.ready?.();
    this.unsubscribe = this.opts.cache.subscribe((_snapshot, changed) => this.broadcast(changed));
    return port;
  }

  /**
   * Ends every stream with OK so each Envoy reconnects (to another replica, or to us after
   * a restart), then shuts down. Envoy keeps its last config meanwhile: no MQTT connection
   * notices.
   */
  async stop(graceMs: number): Promise<void> {
    this.unsubscribe?.();
    this.fanOut.clear();
    this.listener?.close();
    for (const s of this.streams.values()) s.call.end();
    this.opts.loadStats?.endAll();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      timer.unref();
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.connects.flush();
    this.closes.flush();
  }

  status(): StreamStatus[] {
    return [...this.streams.values()].map((s) => ({
      id: s.id,
      kind: s.kind,
      nodeId: s.node?.id ?? 'unknown',
      peer: s.call.getPeer(),
      openedAt: new Date(s.openedAtMs).toISOString(),
      types: boundedTypes(s.machine.status()),
    }));
  }

  /**
   * Streams, per type: whether each one's Envoy holds the latest (sync-state.ts classifies
   * it). Sorted by node id, then stream; only the first `limit` are computed, so a page
   * over a fleet of 10,000 costs one page of work. `total` counts all that matched.
   */
  sync(filter: { readonly nodeId?: string; readonly limit?: number } = {}): { streams: StreamSync[]; total: number } {
    const matched = [...this.streams.values()]
      .filter((s) => filter.nodeId === undefined || s.node?.id === filter.nodeId)
      .sort((a, b) => compareIds(a.node?.id ?? 'unknown', b.node?.id ?? 'unknown') || a.id - b.id);
    const streams = matched.slice(0, filter.limit ?? matched.length).map((s) => ({
      id: s.id,
      kind: s.kind,
      nodeId: s.node?.id ?? 'unknown',
      cluster: s.node?.cluster ?? '',
      peer: s.call.getPeer(),
      openedAt: new Date(s.openedAtMs).toISOString(),
      types: s.machine.sync(),
    }));
    return { streams, total: matched.length };
  }

  /** The node ids of the open streams, each once, sorted. */
  nodeIds(): string[] {
    return [...new Set([...this.streams.values()].map((s) => s.node?.id ?? 'unknown'))].sort(compareIds);
  }

  /**
   * What the Envoy with this node id is sent now: per type, every resource its streams
   * subscribe to, as each stream sees the snapshot (no Secrets to an untrusted stream).
   * Undefined when no stream has that node id.
   */
  configOf(nodeId: string): NodeConfig | undefined {
    const streams = [...this.streams.values()].filter((s) => s.node?.id === nodeId);
    if (streams.length === 0) return undefined;
    const byType = new Map<TypeUrl, Map<string, EncodedResource>>();
    for (const s of streams) {
      for (const [t, resources] of Object.entries(s.machine.selection()) as Array<[TypeUrl, readonly EncodedResource[]]>) {
        const into = byType.get(t) ?? new Map<string, EncodedResource>();
        byType.set(t, into);
        for (const r of resources) into.set(r.name, r);
      }
    }
    const resources: Partial<Record<TypeUrl, readonly EncodedResource[]>> = {};
    for (const t of PUSH_ORDER) {
      const found = byType.get(t);
      if (found) resources[t] = [...found.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    }
    return {
      nodeId,
      cluster: streams[0].node?.cluster ?? '',
      streams: streams.map((s) => ({ id: s.id, kind: s.kind })),
      resources,
    };
  }

  private open(kind: StreamKind, call: AdsCall): void {
    const id = this.nextId++;
    const log = new StreamLogger(this.opts.logger, id, kind, call.getPeer());
    const events = new StreamEvents(this.opts.metrics, log);
    const trusted = (this.opts.secretsTrust ?? mayReceiveSecrets)(
      call.getPeer(),
      call.getAuthContext?.()?.sslPeerCertificate !== undefined,
    );
    let secretsRefused = false;
    const live: LiveStream = {
      id,
      kind,
      call,
      openedAtMs: Date.now(),
      node: undefined,
      nodeLabel: undefined,
      names: 0,
      machine: this.machine(kind, events, trusted),
      writer: new HeldWriter(
        call,
        () => live.machine.onSnapshot(),
        () => this.streams.has(id),
      ),
    };
    this.streams.set(id, live);
    log.debug('xds stream opened');

    call.on('data', (decoded: Decoded<DiscoveryRequest & DeltaDiscoveryRequest>) => {
      const problem = decoded.ok ? requestProblem(decoded.msg) : decoded.error;
      if (problem !== undefined || !decoded.ok) {
        this.opts.metrics.badRequest(kind);
        log.warn('rejecting xds request', { node: live.node?.id, error: problem });
        call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: problem });
        return;
      }
      const req = decoded.msg;
      if (!live.node && req.node) {
        const refused = nodeRefusal(
          req.node,
          this.opts.nodeIdentity ?? 'off',
          () => call.getAuthContext?.()?.sslPeerCertificate?.subjectaltname,
        );
        if (refused) {
          this.opts.metrics.badRequest(kind);
          log.warn('refusing xds stream', { error: refused.details });
          call.emit('error', refused);
          return;
        }
        // Only what is used is kept: a real Envoy's node carries its extensions and metadata.
        live.node = { id: req.node.id, cluster: req.node.cluster };
        events.node = req.node.id ?? 'unknown';
        live.nodeLabel = this.opts.metrics.streamOpened(kind, events.node);
        this.connects.note(log, { node: req.node.id, cluster: req.node.cluster, version: req.node.user_agent_version }, events.node);
      }
      const typeUrl = canonicalTypeUrl(req.type_url as TypeUrl);
      if (typeUrl === SECRET && !trusted && !secretsRefused) {
        secretsRefused = true;
        this.opts.metrics.secretsRefused();
        log.warn('not sending certificates to this stream: it is neither from loopback nor over mTLS', { node: live.node?.id });
      }
      const responses = live.machine.onRequest(typeUrl, req);
      const exhausted = this.countNames(live);
      if (exhausted !== undefined) {
        this.opts.metrics.badRequest(kind);
        log.warn('refusing xds stream', { node: live.node?.id, error: exhausted });
        call.emit('error', { code: grpc.status.RESOURCE_EXHAUSTED, details: exhausted });
        return;
      }
      this.write(live, responses);
    });
    const close = (why: string): void => {
      if (!this.streams.delete(id)) return;
      this.fanOut.remove(live);
      this.totalNames -= live.names;
      if (live.nodeLabel !== undefined) this.opts.metrics.streamClosed(kind, live.nodeLabel);
      this.closes.note(log, { node: live.node?.id, why }, events.node, why);
    };
    onStreamEnd(call, close);
  }

  private machine(kind: StreamKind, observer: StreamEvents, trusted: boolean): Machine {
    const snapshot = trusted ? this.snapshot : () => withoutSecrets(this.snapshot());
    const deps: StreamDeps = { snapshot, nonce: randomNonce, nowMs: this.nowMs, observer };
    return kind === 'sotw' ? new SotwStream(deps) : new DeltaStream(deps);
  }

  /** Recounts a stream's subscribed names; why it is over a bound, if it is. */
  private countNames(live: LiveStream): string | undefined {
    const n = live.machine.subscriptionCount();
    this.totalNames += n - live.names;
    live.names = n;
    const perStream = this.opts.maxNamesPerStream ?? MAX_NAMES_PER_STREAM;
    const total = this.opts.maxNamesTotal ?? MAX_NAMES_TOTAL;
    return subscriptionProblem(n, this.totalNames, perStream, total);
  }

  private broadcast(changed: ReadonlySet<TypeUrl>): void {
    this.fanOut.start(this.streams.values(), changed);
  }

  private write(live: LiveStream, responses: OutgoingResponse[]): void {
    live.writer.write(responses);
  }
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
