// The gRPC side of ADS: the server's options, the two streaming methods with their
// never-throwing decoders (and LRS's, on the same server), and the listening socket we own
// so its backlog is ours.
import * as grpc from '@grpc/grpc-js';
import * as net from 'node:net';
import { decodeLoadStatsRequest } from './lrs-messages';
import { decodeDeltaDiscoveryRequest, decodeDiscoveryRequest } from './messages';

const SERVICE = '/envoy.service.discovery.v3.AggregatedDiscoveryService/';
const LRS_SERVICE = '/envoy.service.load_stats.v3.LoadReportingService/';

/** Pending connections the xDS socket queues (a reconnect storm); the kernel caps it at net.core.somaxconn. */
export const LISTEN_BACKLOG = 8192;

/** A request as the handler sees it: decoded, or why it could not be. */
export type Decoded<T> = { ok: true; msg: T } | { ok: false; error: string };
export type AdsCall = grpc.ServerDuplexStream<Decoded<unknown>, Buffer>;

export interface AdsHandlers {
  readonly sotw: (call: AdsCall) => void;
  readonly delta: (call: AdsCall) => void;
  /** Envoy's load reports (lrs-server.ts): on the same port, behind the same TLS. */
  readonly loadStats?: (call: AdsCall) => void;
}

/**
 * Calls `close` with why a stream ended, however it ends (the caller makes it idempotent):
 * the client half-closing (answered by ending ours), a cancel, an error or the socket closing.
 */
export function onStreamEnd(call: AdsCall, close: (why: string) => void): void {
  call.on('end', () => {
    close('client ended');
    call.end();
  });
  call.on('cancelled', () => close('cancelled'));
  call.on('error', (err: Error) => close(err.message));
  call.on('close', () => close('closed'));
}

/** A gRPC server serving ADS, SotW and Delta, to the given handlers. */
export function createAdsGrpcServer(maxRequestBytes: number, handlers: AdsHandlers): grpc.Server {
  const server = new grpc.Server({
    'grpc.max_receive_message_length': maxRequestBytes,
    // Envoy keeps ADS streams open for days; notice dead peers.
    'grpc.keepalive_time_ms': 30_000,
    'grpc.keepalive_timeout_ms': 10_000,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.http2.min_ping_interval_without_data_ms': 5_000,
    // Nothing reads channelz, and it cost every connection a peer-address lookup and
    // tracker entries, and every message a timestamp.
    'grpc.enable_channelz': 0,
  });
  server.addService(serviceDefinition(), {
    StreamAggregatedResources: handlers.sotw,
    DeltaAggregatedResources: handlers.delta,
  });
  if (handlers.loadStats) server.addService(lrsServiceDefinition(), { StreamLoadStats: handlers.loadStats });
  return server;
}

/**
 * A socket that hands each connection to grpc-js, because grpc-js listens with Node's
 * default backlog of 511: a reconnect storm of thousands of Envoys overflowed it, and each
 * refused connect cost that Envoy a backoff. Not listening yet: see listenWithBacklog.
 */
export function adsSocket(server: grpc.Server, credentials: grpc.ServerCredentials | undefined): net.Server {
  const injector = server.createConnectionInjector(credentials ?? grpc.ServerCredentials.createInsecure());
  return net.createServer((socket) => injector.injectConnection(socket));
}

/** Listens with LISTEN_BACKLOG (the kernel caps it at somaxconn), which takes a fleet's storm; resolves to the bound port. */
export function listenWithBacklog(listener: net.Server, host: string, port: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen({ host, port, backlog: LISTEN_BACKLOG }, () => {
      listener.off('error', reject);
      resolve((listener.address() as net.AddressInfo).port);
    });
  });
}

function serviceDefinition(): grpc.ServiceDefinition {
  return {
    StreamAggregatedResources: method(SERVICE, 'StreamAggregatedResources', decodeDiscoveryRequest),
    DeltaAggregatedResources: method(SERVICE, 'DeltaAggregatedResources', decodeDeltaDiscoveryRequest),
  };
}

function lrsServiceDefinition(): grpc.ServiceDefinition {
  return { StreamLoadStats: method(LRS_SERVICE, 'StreamLoadStats', decodeLoadStatsRequest) };
}

function method<T>(service: string, name: string, decode: (b: Buffer) => T): grpc.MethodDefinition<Decoded<T>, Buffer> {
  return {
    path: service + name,
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
  };
}
