// What a stream's machine reports (stream-observer.ts), turned into metrics and log lines.
// One object per stream, methods shared, because a fleet holds 10,000 of them.
import type { Logger } from '../util/log';
import type { XdsMetrics } from './metrics';
import type { StreamObserver } from './stream-observer';
import { SHORT_NAME, type TypeUrl } from './type-urls';

export class StreamEvents implements StreamObserver {
  /** The node id the stream announced, once it has. */
  node = 'unknown';

  constructor(
    private readonly metrics: XdsMetrics,
    private readonly log: Logger,
  ) {}

  pushed(t: TypeUrl, version: string, count: number, removed: number): void {
    this.metrics.pushed(t);
    this.log.debug('xds push', { node: this.node, type: SHORT_NAME[t], version, resources: count, removed });
  }
  acked(t: TypeUrl, _version: string, latencyMs: number | undefined): void {
    this.metrics.acked(t, latencyMs);
  }
  nacked(t: TypeUrl, version: string, message: string): void {
    this.metrics.nacked(t);
    this.log.error('envoy rejected config (NACK); it stays on its last accepted version', {
      node: this.node,
      type: SHORT_NAME[t],
      rejectedVersion: version,
      error: message,
    });
  }
  stale(t: TypeUrl, nonce: string): void {
    this.log.debug('stale nonce ignored', { node: this.node, type: SHORT_NAME[t], nonce });
  }
}
