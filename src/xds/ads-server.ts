import * as grpc from '@grpc/grpc-js';
import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import type { Logger } from '../util/log';
import { nodeIdentityProblem, type NodeIdentityRule } from './node-identity';
import type { SnapshotCache } from './cache';
import { DeltaStream } from './delta-stream';
import {
  decodeDeltaDiscoveryRequest,
  decodeDiscoveryRequest,
  type DeltaDiscoveryRequest,
  type DiscoveryRequest,
  type NodeInfo,
} from './messages';
import type { XdsMetrics } from './metrics';
import { FanOut, HeldWriter } from './fan-out';
import { SotwStream } from './sotw-stream';
import type { OutgoingResponse, StreamObserver, TypeStatus } from './stream-observer';
import { isTypeUrl, SHORT_NAME, type TypeUrl } from './type-urls';

const SERVICE = '/envoy.service.discovery.v3.AggregatedDiscoveryService/';
/** Bounds on one request, besides the byte limit gRPC enforces. */
const MAX_NAMES_PER_REQUEST = 10_000;
const MAX_NAME_LENGTH = 1_024;
/** Envoy node ids are host or pod names; a longer one is refused rather than stored and labelled. */
export const MAX_NODE_ID_BYTES = 256;
/** Names subscribed by one stream, and by all streams together (issue: 600,000 names made /status 56 MB). */
export const MAX_NAMES_PER_STREAM = 10_000;
export const MAX_NAMES_TOTAL = 200_000;
/** Names shown per type and stream in /status; the count is always shown. */
export const STATUS_NAMES = 50;

export type StreamKind = 'sotw' | 'delta';

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
  /** Awaited after binding, before the port is reported (the TLS certificate reaching grpc-js). */
  readonly ready?: () => Promise<void>;
  readonly maxNamesPerStream?: number;
  readonly maxNamesTotal?: number;
}

/** Pending connections the xDS socket queues (a reconnect storm); the kernel caps it at net.core.somaxconn. */
export const LISTEN_BACKLOG = 8192;

export interface StreamStatus {
  readonly id: number;
  readonly kind: StreamKind;
  readonly nodeId: string;
  readonly peer: string;
  readonly openedAt: string;
  readonly types: Partial<Record<TypeUrl, TypeStatus>>;
}

type Decoded<T> = { ok: true; msg: T } | { ok: false; error: string };
type Call = grpc.ServerDuplexStream<Decoded<unknown>, Buffer>;

interface Machine {
  onRequest(typeUrl: TypeUrl, req: DiscoveryRequest & DeltaDiscoveryRequest): OutgoingResponse[];
  onSnapshot(changed?: ReadonlySet<TypeUrl>): OutgoingResponse[];
  status(): Partial<Record<TypeUrl, TypeStatus>>;
  subscriptionCount(): number;
}

interface LiveStream {
  readonly id: number;
  readonly kind: StreamKind;
  readonly call: Call;
  readonly machine: Machine;
  readonly openedAt: Date;
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
  /** A snapshot's way to every stream: in batches, each stream at the pace it reads (fan-out.ts). */
  private readonly fanOut = new FanOut<LiveStream>({
    serve: (live, changed) => live.writer.snapshot(() => live.machine.onSnapshot(changed)),
  });

  constructor(private readonly opts: AdsServerOptions) {
    this.nowMs = opts.nowMs ?? (() => Date.now());
    this.server = new grpc.Server({
      'grpc.max_receive_message_length': opts.maxRequestBytes,
      // Envoy keeps ADS streams open for days; notice dead peers.
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_timeout_ms': 10_000,
      'grpc.keepalive_permit_without_calls': 1,
      'grpc.http2.min_ping_interval_without_data_ms': 5_000,
    });
    this.server.addService(serviceDefinition(), {
      StreamAggregatedResources: (call: Call) => this.open('sotw', call),
      DeltaAggregatedResources: (call: Call) => this.open('delta', call),
    });
  }

  /**
   * Binds and starts serving; resolves to the bound port. The socket is ours, handed to
   * grpc-js connection by connection, because grpc-js listens with Node's default backlog
   * of 511: a reconnect storm of thousands of Envoys overflowed it, and each refused
   * connect cost that Envoy a backoff. LISTEN_BACKLOG (the kernel caps it at somaxconn)
   * takes a fleet's storm.
   */
  async start(): Promise<number> {
    const injector = this.server.createConnectionInjector(this.opts.credentials ?? grpc.ServerCredentials.createInsecure());
    const listener = net.createServer((socket) => injector.injectConnection(socket));
    this.listener = listener;
    const port = await new Promise<number>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen({ host: this.opts.host, port: this.opts.port, backlog: LISTEN_BACKLOG }, () => {
        listener.off('error', reject);
        resolve((listener.address() as net.AddressInfo).port);
      });
    });
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
  }

  status(): StreamStatus[] {
    return [...this.streams.values()].map((s) => ({
      id: s.id,
      kind: s.kind,
      nodeId: s.node?.id ?? 'unknown',
      peer: s.call.getPeer(),
      openedAt: s.openedAt.toISOString(),
      types: boundedTypes(s.machine.status()),
    }));
  }

  private open(kind: StreamKind, call: Call): void {
    const id = this.nextId++;
    const log = this.opts.logger.child({ stream: id, kind, peer: call.getPeer() });
    const live: LiveStream = {
      id,
      kind,
      call,
      openedAt: new Date(),
      names: 0,
      machine: this.machine(kind, () => live, log),
      writer: new HeldWriter(
        call,
        () => live.machine.onSnapshot(),
        () => this.streams.has(id),
      ),
    };
    this.streams.set(id, live);
    log.debug('xds stream opened');

    call.on('data', (decoded: Decoded<DiscoveryRequest & DeltaDiscoveryRequest>) => {
      const problem = decoded.ok ? this.checkRequest(decoded.msg) : decoded.error;
      if (problem !== undefined || !decoded.ok) {
        this.opts.metrics.badRequest(kind);
        log.warn('rejecting xds request', { node: live.node?.id, error: problem });
        call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: problem });
        return;
      }
      const req = decoded.msg;
      if (!live.node && req.node) {
        const refused = this.checkNode(req.node, call);
        if (refused) {
          this.opts.metrics.badRequest(kind);
          log.warn('refusing xds stream', { error: refused.details });
          call.emit('error', refused);
          return;
        }
        live.node = req.node;
        live.nodeLabel = this.opts.metrics.streamOpened(kind, req.node.id ?? 'unknown');
        log.info('envoy connected', { node: req.node.id, cluster: req.node.cluster, version: req.node.user_agent_version });
      }
      const responses = live.machine.onRequest(req.type_url as TypeUrl, req);
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
      log.info('xds stream closed', { node: live.node?.id, why });
    };
    call.on('end', () => {
      close('client ended');
      call.end();
    });
    call.on('cancelled', () => close('cancelled'));
    call.on('error', (err: Error) => close(err.message));
    call.on('close', () => close('closed'));
  }

  private machine(kind: StreamKind, live: () => LiveStream, log: Logger): Machine {
    const metrics = this.opts.metrics;
    const node = (): string => live().node?.id ?? 'unknown';
    const observer: StreamObserver = {
      pushed: (t, version, count, removed) => {
        metrics.pushed(t);
        log.debug('xds push', { node: node(), type: SHORT_NAME[t], version, resources: count, removed });
      },
      acked: (t, version, latencyMs) => metrics.acked(t, latencyMs),
      nacked: (t, version, message) => {
        metrics.nacked(t);
        log.error('envoy rejected config (NACK); it stays on its last accepted version', {
          node: node(),
          type: SHORT_NAME[t],
          rejectedVersion: version,
          error: message,
        });
      },
      stale: (t, nonce) => log.debug('stale nonce ignored', { node: node(), type: SHORT_NAME[t], nonce }),
    };
    const deps = {
      snapshot: () => this.opts.cache.snapshot(),
      nonce: () => randomBytes(8).toString('hex'),
      nowMs: this.nowMs,
      observer,
    };
    return kind === 'sotw' ? new SotwStream(deps) : new DeltaStream(deps);
  }

  /** Recounts a stream's subscribed names; why it is over a bound, if it is. */
  private countNames(live: LiveStream): string | undefined {
    const n = live.machine.subscriptionCount();
    this.totalNames += n - live.names;
    live.names = n;
    const perStream = this.opts.maxNamesPerStream ?? MAX_NAMES_PER_STREAM;
    const total = this.opts.maxNamesTotal ?? MAX_NAMES_TOTAL;
    if (n > perStream) return `this stream subscribes to ${n} resource names, over the limit of ${perStream}`;
    if (this.totalNames > total) return `all streams together subscribe to ${this.totalNames} resource names, over the limit of ${total}`;
    return undefined;
  }

  /** Why this node may not open a stream: an oversized id, or a claim its certificate does not name. */
  private checkNode(node: NodeInfo, call: Call): { code: grpc.status; details: string } | undefined {
    const id = node.id ?? '';
    if (Buffer.byteLength(id) > MAX_NODE_ID_BYTES) {
      return { code: grpc.status.INVALID_ARGUMENT, details: `node id longer than ${MAX_NODE_ID_BYTES} bytes` };
    }
    const rule = this.opts.nodeIdentity ?? 'off';
    if (rule === 'off') return undefined;
    const san = call.getAuthContext?.()?.sslPeerCertificate?.subjectaltname;
    const problem = nodeIdentityProblem(rule, { id, cluster: node.cluster ?? '' }, san);
    return problem === undefined ? undefined : { code: grpc.status.PERMISSION_DENIED, details: problem };
  }

  private checkRequest(req: DiscoveryRequest & DeltaDiscoveryRequest): string | undefined {
    const t = req.type_url ?? '';
    if (!isTypeUrl(t))
      return `unsupported type_url "${t.slice(0, 200)}"; this server serves Cluster, ClusterLoadAssignment, TypedExtensionConfig and Listener`;
    const names = [
      ...(req.resource_names ?? []),
      ...(req.resource_names_subscribe ?? []),
      ...(req.resource_names_unsubscribe ?? []),
      ...Object.keys(req.initial_resource_versions ?? {}),
    ];
    if (names.length > MAX_NAMES_PER_REQUEST) return `too many resource names (${names.length} > ${MAX_NAMES_PER_REQUEST})`;
    const long = names.find((n) => n.length > MAX_NAME_LENGTH);
    if (long !== undefined) return `resource name longer than ${MAX_NAME_LENGTH} characters`;
    return undefined;
  }

  private broadcast(changed: ReadonlySet<TypeUrl>): void {
    this.fanOut.start(this.streams.values(), changed);
  }

  private write(live: LiveStream, responses: OutgoingResponse[]): void {
    live.writer.write(responses);
  }
}

/** /status shows at most STATUS_NAMES names per type and stream, and how many there are. */
function boundedTypes(types: Partial<Record<TypeUrl, TypeStatus>>): Partial<Record<TypeUrl, TypeStatus>> {
  const out: Partial<Record<TypeUrl, TypeStatus>> = {};
  for (const [t, st] of Object.entries(types) as Array<[TypeUrl, TypeStatus]>) {
    out[t] =
      st.subscribed === 'wildcard' || st.subscribed.length <= STATUS_NAMES
        ? st
        : { ...st, subscribed: st.subscribed.slice(0, STATUS_NAMES), subscribedCount: st.subscribed.length };
  }
  return out;
}

function serviceDefinition(): grpc.ServiceDefinition {
  const method = <T>(name: string, decode: (b: Buffer) => T): grpc.MethodDefinition<Decoded<T>, Buffer> => ({
    path: SERVICE + name,
    requestStream: true,
    responseStream: true,
    // Never throw from here: a garbage message becomes a value the handler rejects cleanly.
    requestDeserialize: (b: Buffer): Decoded<T> => {
      try {
        return { ok: true, msg: decode(b) };
      } catch (err) {
        return { ok: false, error: `undecodable request: ${(err as Error).message}` };
      }
    },
    requestSerialize: () => {
      throw new Error('server only');
    },
    responseSerialize: (b: Buffer) => b,
    responseDeserialize: (b: Buffer) => b,
  });
  return {
    StreamAggregatedResources: method('StreamAggregatedResources', decodeDiscoveryRequest),
    DeltaAggregatedResources: method('DeltaAggregatedResources', decodeDeltaDiscoveryRequest),
  } as grpc.ServiceDefinition;
}
