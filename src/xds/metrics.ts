import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { SHORT_NAME, type TypeUrl } from './type-urls';

/** Past this many node ids with open streams, further ones share the series node="_other". */
export const MAX_NODE_SERIES = 1000;
export const OTHER_NODES = '_other';

/** The xDS server's Prometheus metrics. Type labels use the short names cds/eds/lds. */
export class XdsMetrics {
  /** Open streams per (node label, kind): a series goes when its last stream ends. */
  private readonly open = new Map<string, number>();
  /** Node ids that have a series of their own. */
  private readonly named = new Map<string, number>();
  private readonly streams: Gauge<'node' | 'kind'>;
  private readonly pushes: Counter<'type'>;
  private readonly acks: Counter<'type'>;
  private readonly nacks: Counter<'type'>;
  private readonly ackLatency: Histogram<'type'>;
  private readonly badRequests: Counter<'kind'>;
  private readonly secretsRefusedTotal: Counter;

  constructor(
    registry: Registry,
    private readonly maxNodeSeries = MAX_NODE_SERIES,
  ) {
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
    this.secretsRefusedTotal = new Counter({
      name: 'mqtt_xds_sds_refused_streams_total',
      help: 'ADS streams that asked for certificates (SDS) but were sent none: neither from loopback nor over mTLS',
      registers,
    });
  }

  secretsRefused(): void {
    this.secretsRefusedTotal.inc();
  }

  /** Returns the node label used, which streamClosed must be given back. */
  streamOpened(kind: string, node: string): string {
    let label = node;
    if (!this.named.has(node)) {
      if (this.named.size >= this.maxNodeSeries) label = OTHER_NODES;
      else this.named.set(node, 0);
    }
    if (label === node) this.named.set(node, (this.named.get(node) ?? 0) + 1);
    const key = `${kind}\0${label}`;
    this.open.set(key, (this.open.get(key) ?? 0) + 1);
    this.streams.inc({ node: label, kind });
    return label;
  }
  streamClosed(kind: string, label: string): void {
    const key = `${kind}\0${label}`;
    const left = (this.open.get(key) ?? 1) - 1;
    // A node that left is forgotten: its series goes, so /metrics does not grow with every node id ever seen.
    if (left <= 0) {
      this.open.delete(key);
      this.streams.remove({ node: label, kind });
    } else {
      this.open.set(key, left);
      this.streams.dec({ node: label, kind });
    }
    if (label !== OTHER_NODES) {
      const n = (this.named.get(label) ?? 1) - 1;
      if (n <= 0) this.named.delete(label);
      else this.named.set(label, n);
    }
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
