import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { SHORT_NAME, type TypeUrl } from './type-urls';

/** The xDS server's Prometheus metrics. Type labels use the short names cds/eds/lds. */
export class XdsMetrics {
  private readonly streams: Gauge<'node' | 'kind'>;
  private readonly pushes: Counter<'type'>;
  private readonly acks: Counter<'type'>;
  private readonly nacks: Counter<'type'>;
  private readonly ackLatency: Histogram<'type'>;
  private readonly badRequests: Counter<'kind'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.streams = new Gauge({
      name: 'mqtt_xds_streams_connected',
      help: 'Open ADS streams per Envoy node id',
      labelNames: ['node', 'kind'],
      registers,
    });
    this.pushes = new Counter({ name: 'mqtt_xds_pushes_total', help: 'xDS responses sent', labelNames: ['type'], registers });
    this.acks = new Counter({ name: 'mqtt_xds_acks_total', help: 'xDS responses ACKed by Envoy', labelNames: ['type'], registers });
    this.nacks = new Counter({
      name: 'mqtt_xds_nacks_total',
      help: 'xDS responses rejected by Envoy (NACK)',
      labelNames: ['type'],
      registers,
    });
    this.ackLatency = new Histogram({
      name: 'mqtt_xds_push_ack_seconds',
      help: 'Time from sending an xDS response to its ACK',
      labelNames: ['type'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.badRequests = new Counter({
      name: 'mqtt_xds_bad_requests_total',
      help: 'xDS requests rejected as malformed, unsupported or oversized',
      labelNames: ['kind'],
      registers,
    });
  }

  streamOpened(kind: string, node: string): void {
    this.streams.inc({ node, kind });
  }
  streamClosed(kind: string, node: string): void {
    this.streams.dec({ node, kind });
  }
  pushed(t: TypeUrl): void {
    this.pushes.inc({ type: SHORT_NAME[t] });
  }
  acked(t: TypeUrl, latencyMs: number | undefined): void {
    this.acks.inc({ type: SHORT_NAME[t] });
    if (latencyMs !== undefined) this.ackLatency.observe({ type: SHORT_NAME[t] }, latencyMs / 1000);
  }
  nacked(t: TypeUrl): void {
    this.nacks.inc({ type: SHORT_NAME[t] });
  }
  badRequest(kind: string): void {
    this.badRequests.inc({ kind });
  }
}
