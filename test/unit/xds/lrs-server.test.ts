import * as grpc from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import type { EnvoyLoadReport } from '../../../src/domain';
import { buildResources } from '../../../src/translation';
import { silentLogger } from '../../../src/util/log';
import {
  AdsServer,
  LrsMetrics,
  LrsService,
  SEND_ALL_CLUSTERS_FEATURE,
  SnapshotCache,
  XdsMetrics,
  type LoadReportSink,
} from '../../../src/xds';
import { decodeMessage } from '../../../src/xds/codec';
import { envoyApiRoot } from '../../../src/xds/protos';
import { model } from '../translation/fixtures';

const METHOD = '/envoy.service.load_stats.v3.LoadReportingService/StreamLoadStats';
type Raw = grpc.ClientDuplexStream<Buffer, Buffer>;

function encode(obj: object): Buffer {
  const t = envoyApiRoot().lookupType('envoy.service.load_stats.v3.LoadStatsRequest');
  return Buffer.from(t.encode(t.fromObject(obj)).finish());
}

const endpoint = (address: string, port: number, inProgress: number, issued = 0): object => ({
  address: { socket_address: { address, port_value: port } },
  total_requests_in_progress: inProgress,
  total_issued_requests: issued,
});
const cluster = (name: string, localities: object[][], intervalMs = 1000): object => ({
  cluster_name: name,
  upstream_locality_stats: localities.map((upstream_endpoint_stats) => ({ locality: {}, upstream_endpoint_stats })),
  load_report_interval: { seconds: Math.floor(intervalMs / 1000), nanos: (intervalMs % 1000) * 1e6 },
});
const hello = (id = 'envoy-1', features = [SEND_ALL_CLUSTERS_FEATURE]): Buffer => encode({ node: { id, client_features: features } });

class RecordingSink implements LoadReportSink {
  readonly reports: Array<{ stream: number; report: EnvoyLoadReport }> = [];
  readonly closes: Array<{ stream: number; nodeId: string }> = [];
  refuse = false;
  report(stream: number, report: EnvoyLoadReport): { code: string; message: string } | undefined {
    this.reports.push({ stream, report });
    return this.refuse ? { code: 'ENVOY_VIEW_TOO_MANY_NODES', message: 'full' } : undefined;
  }
  closed(stream: number, nodeId: string): void {
    this.closes.push({ stream, nodeId });
  }
}

describe('LRS on the ADS server, over real gRPC', () => {
  let server: AdsServer;
  let registry: Registry;
  let client: grpc.Client;
  let sink: RecordingSink;
  const calls: Raw[] = [];

  beforeEach(async () => {
    const cache = new SnapshotCache();
    cache.publish(buildResources(model()));
    registry = new Registry();
    sink = new RecordingSink();
    const loadStats = new LrsService({
      clusterName: 'mqtt_brokers',
      reportIntervalMs: 1500,
      sink,
      logger: silentLogger,
      metrics: new LrsMetrics(registry),
      maxStreams: 3,
      limits: { maxClusters: 4, maxLocalities: 2, maxEndpoints: 5 },
    });
    server = new AdsServer({
      host: '127.0.0.1',
      port: 0,
      maxRequestBytes: 16 * 1024,
      cache,
      logger: silentLogger,
      metrics: new XdsMetrics(registry),
      loadStats,
    });
    const port = await server.start();
    client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  });

  afterEach(async () => {
    for (const c of calls.splice(0)) c.cancel();
    client.close();
    await server.stop(1000);
  });

  const open = (): Raw => {
    const call = client.makeBidiStreamRequest(
      METHOD,
      (b: Buffer) => b,
      (b: Buffer) => b,
    );
    call.on('error', () => undefined);
    calls.push(call);
    return call;
  };
  const next = (call: Raw): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      call.once('data', (b: Buffer) => resolve(decodeMessage<Record<string, unknown>>('envoy.service.load_stats.v3.LoadStatsResponse', b)));
      call.once('error', reject);
    });
  const status = (call: Raw): Promise<grpc.StatusObject> => new Promise((resolve) => call.on('status', resolve));
  const until = async (cond: () => boolean): Promise<void> => {
    for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
    expect(cond()).toBe(true);
  };
  const rejected = async (): Promise<string> => (await registry.getSingleMetricAsString('mqtt_xds_lrs_rejected_total')) ?? '';

  it('asks an Envoy that can for all clusters, every interval, per endpoint', async () => {
    const call = open();
    const first = next(call);
    call.write(hello());
    expect(await first).toEqual({
      clusters: [],
      send_all_clusters: true,
      load_reporting_interval: { seconds: '1', nanos: 500_000_000 },
      report_endpoint_granularity: true,
    });
  });

  it('names the MQTT cluster to an Envoy that does not advertise send_all_clusters', async () => {
    const call = open();
    const first = next(call);
    call.write(hello('old-envoy', []));
    expect(await first).toEqual({
      clusters: ['mqtt_brokers'],
      load_reporting_interval: { seconds: '1', nanos: 500_000_000 },
      report_endpoint_granularity: true,
    });
  });

  it("hands the MQTT cluster's endpoints to the sink, summed per address:port, and tells it when the stream ends", async () => {
    const call = open();
    const first = next(call);
    call.write(hello());
    await first;
    call.write(
      encode({
        cluster_stats: [
          cluster('xds_cluster', [[endpoint('127.0.0.1', 18000, 1)]]),
          cluster(
            'mqtt_brokers',
            [[endpoint('10.0.0.1', 1883, 5, 2), endpoint('10.0.0.2', 1883, 3)], [endpoint('10.0.0.1', 1883, 1, 1)]],
            2000,
          ),
        ],
      }),
    );
    await until(() => sink.reports.length === 1);
    expect(sink.reports[0].report).toEqual({
      nodeId: 'envoy-1',
      intervalMs: 2000,
      endpoints: [
        { endpoint: '10.0.0.1:1883', inProgress: 6, issued: 3, cluster: 'mqtt_brokers' },
        { endpoint: '10.0.0.2:1883', inProgress: 3, issued: 0, cluster: 'mqtt_brokers' },
      ],
    });
    // A report without the MQTT cluster (an Envoy that has not got it yet) reaches no one.
    call.write(encode({ cluster_stats: [cluster('xds_cluster', [[endpoint('127.0.0.1', 18000, 1)]])] }));
    call.end();
    await until(() => sink.closes.length === 1);
    expect(sink.reports).toHaveLength(1);
    expect(sink.closes).toEqual([{ stream: sink.reports[0].stream, nodeId: 'envoy-1' }]);
    expect(await registry.getSingleMetricAsString('mqtt_xds_lrs_reports_total')).toMatch(/mqtt_xds_lrs_reports_total 2/);
  });

  it('refuses garbage bytes with INVALID_ARGUMENT and goes on serving other streams', async () => {
    const bad = open();
    const ended = status(bad);
    bad.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]));
    expect((await ended).code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(await rejected()).toMatch(/reason="undecodable"} 1/);
    const good = open();
    const first = next(good);
    good.write(hello('envoy-2'));
    expect((await first).report_endpoint_granularity).toBe(true);
  });

  it('refuses a first request whose node is not a Node, though the request around it parses', async () => {
    const call = open();
    const ended = status(call);
    // Field 1 (node), length 3, bytes that end inside a varint.
    call.write(Buffer.from([0x0a, 0x03, 0x08, 0xff, 0xff]));
    expect((await ended).code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(await rejected()).toMatch(/reason="undecodable"} 1/);
  });

  it('refuses cluster stats sent as a varint', async () => {
    const call = open();
    const ended = status(call);
    call.write(Buffer.concat([hello(), Buffer.from([0x10, 0x01])]));
    expect((await ended).code).toBe(grpc.status.INVALID_ARGUMENT);
  });

  it('refuses a stream whose first request names no node', async () => {
    const call = open();
    const ended = status(call);
    call.write(encode({ cluster_stats: [cluster('mqtt_brokers', [[endpoint('10.0.0.1', 1883, 1)]])] }));
    expect((await ended).code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(sink.reports).toEqual([]);
    expect(await rejected()).toMatch(/reason="no_node"} 1/);
  });

  it('refuses a node id too long to be an Envoy’s', async () => {
    const call = open();
    const ended = status(call);
    call.write(hello('n'.repeat(300)));
    expect((await ended).code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(await rejected()).toMatch(/reason="node_refused"} 1/);
  });

  it('ends a stream that reports too many endpoints, and its Envoy’s counts with it', async () => {
    const call = open();
    const first = next(call);
    call.write(hello());
    await first;
    const ended = status(call);
    const six = Array.from({ length: 6 }, (_, i) => endpoint(`10.0.0.${i}`, 1883, 1));
    call.write(encode({ cluster_stats: [cluster('mqtt_brokers', [six])] }));
    expect((await ended).code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(sink.reports).toEqual([]);
    await until(() => sink.closes.length === 1);
    expect(await rejected()).toMatch(/reason="too_many_endpoints"} 1/);
  });

  it('refuses a report larger than the request limit before decoding it', async () => {
    const call = open();
    const first = next(call);
    call.write(hello());
    await first;
    const ended = status(call);
    call.write(encode({ cluster_stats: [{ cluster_name: 'x'.repeat(32 * 1024) }] }));
    expect((await ended).code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(sink.reports).toEqual([]);
  });

  it('ends a stream the view refuses', async () => {
    sink.refuse = true;
    const call = open();
    const ended = status(call);
    call.write(encode({ node: { id: 'envoy-1' }, cluster_stats: [cluster('mqtt_brokers', [[endpoint('10.0.0.1', 1883, 1)]])] }));
    expect((await ended).code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(await rejected()).toMatch(/reason="refused_by_view"} 1/);
  });

  it('refuses streams past maxStreams', async () => {
    for (let i = 0; i < 3; i++) {
      const call = open();
      const first = next(call);
      call.write(hello(`envoy-${i}`));
      await first;
    }
    const extra = open();
    const ended = status(extra);
    extra.write(hello('envoy-9'));
    expect((await ended).code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(await registry.getSingleMetricAsString('mqtt_xds_lrs_streams')).toMatch(/mqtt_xds_lrs_streams 3/);
    expect(await rejected()).toMatch(/reason="too_many_streams"} 1/);
  });
});
