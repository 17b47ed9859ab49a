import * as grpc from '@grpc/grpc-js';
import { buildResources } from '../../../src/translation';
import { AdsServer, CLUSTER, decodeResponse, ENDPOINT, SnapshotCache, XdsMetrics } from '../../../src/xds';
import { envoyApiRoot } from '../../../src/xds/protos';
import { silentLogger } from '../../../src/util/log';
import { Registry } from 'prom-client';
import { model, plan } from '../translation/fixtures';

const SERVICE = '/envoy.service.discovery.v3.AggregatedDiscoveryService/';
type Raw = grpc.ClientDuplexStream<Buffer, Buffer>;

function encode(typeName: string, obj: object): Buffer {
  const t = envoyApiRoot().lookupType(typeName);
  return Buffer.from(t.encode(t.fromObject(obj)).finish());
}
const sotwReq = (obj: object) => encode('envoy.service.discovery.v3.DiscoveryRequest', obj);
const deltaReq = (obj: object) => encode('envoy.service.discovery.v3.DeltaDiscoveryRequest', obj);

describe('AdsServer over real gRPC', () => {
  let server: AdsServer;
  let cache: SnapshotCache;
  let registry: Registry;
  let client: grpc.Client;

  beforeEach(async () => {
    cache = new SnapshotCache();
    cache.publish(buildResources(model()));
    registry = new Registry();
    server = new AdsServer({
      host: '127.0.0.1',
      port: 0,
      maxRequestBytes: 64 * 1024,
      cache,
      logger: silentLogger,
      metrics: new XdsMetrics(registry),
    });
    const port = await server.start();
    client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  });

  afterEach(async () => {
    client.close();
    await server.stop(1000);
  });

  const open = (method: 'StreamAggregatedResources' | 'DeltaAggregatedResources'): Raw =>
    client.makeBidiStreamRequest(
      SERVICE + method,
      (b: Buffer) => b,
      (b: Buffer) => b,
    );

  const next = (call: Raw): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      call.once('data', (b: Buffer) => resolve(decodeResponse('sotw', b)));
      call.once('error', reject);
    });

  const status = (call: Raw): Promise<grpc.StatusObject> =>
    new Promise((resolve) => {
      call.on('data', () => undefined);
      call.on('error', () => undefined);
      call.on('status', resolve);
    });

  it('answers a SotW Cluster request with the snapshot and pushes later EDS changes', async () => {
    const call = open('StreamAggregatedResources');
    call.write(sotwReq({ type_url: CLUSTER, node: { id: 'envoy-1' } }));
    const cds = await next(call);
    expect(cds.type_url).toBe(CLUSTER);
    expect(cds.resources).toHaveLength(1);
    call.write(sotwReq({ type_url: CLUSTER, version_info: cds.version_info, response_nonce: cds.nonce }));
    call.write(sotwReq({ type_url: ENDPOINT, resource_names: ['mqtt_brokers'] }));
    const eds = await next(call);
    call.write(
      sotwReq({ type_url: ENDPOINT, resource_names: ['mqtt_brokers'], version_info: eds.version_info, response_nonce: eds.nonce }),
    );
    const pushed = next(call);
    cache.publish(buildResources(model({ plan: { endpoints: plan.endpoints.map((e) => ({ ...e, weight: 9 })) } })));
    const update = await pushed;
    expect(update.type_url).toBe(ENDPOINT);
    expect(update.version_info).not.toBe(eds.version_info);
    expect(server.status()).toEqual([expect.objectContaining({ kind: 'sotw', nodeId: 'envoy-1' })]);
    const metrics = await registry.metrics();
    expect(metrics).toMatch(/mqtt_xds_acks_total\{type="cds"\} 1/);
    expect(metrics).toMatch(/mqtt_xds_streams_connected\{node="envoy-1",kind="sotw"\} 1/);
    call.end();
  });

  it('serves Delta with resources wrapped and versioned', async () => {
    const call = open('DeltaAggregatedResources');
    call.write(deltaReq({ type_url: CLUSTER, node: { id: 'envoy-d' } }));
    const got = await new Promise<Record<string, unknown>>((resolve) =>
      call.once('data', (b: Buffer) => resolve(decodeResponse('delta', b))),
    );
    const resources = got.resources as Array<{ name: string; version: string }>;
    expect(resources.map((r) => r.name)).toEqual(['mqtt_brokers']);
    expect(resources[0].version).toBe(cache.snapshot()!.resources[CLUSTER].get('mqtt_brokers')!.version);
    call.end();
  });

  it('ends a stream that sends garbage with INVALID_ARGUMENT and keeps serving others', async () => {
    const good = open('StreamAggregatedResources');
    good.write(sotwReq({ type_url: CLUSTER, node: { id: 'good' } }));
    await next(good);
    const bad = open('StreamAggregatedResources');
    const st = status(bad);
    bad.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]));
    expect((await st).code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(await registry.getSingleMetricAsString('mqtt_xds_bad_requests_total')).toMatch(/kind="sotw"\} 1/);
    const pushed = next(good);
    cache.publish(buildResources(model({ cluster: { ...model().cluster, maxConnections: 77 } })));
    expect((await pushed).type_url).toBe(CLUSTER);
    good.end();
  });

  it('rejects an unknown type URL with a message naming it', async () => {
    const call = open('StreamAggregatedResources');
    const st = status(call);
    call.write(sotwReq({ type_url: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration' }));
    const s = await st;
    expect(s.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(s.details).toMatch(/unsupported type_url.*RouteConfiguration/);
  });

  it('rejects a request over the size limit', async () => {
    const call = open('DeltaAggregatedResources');
    const st = status(call);
    call.write(
      deltaReq({ type_url: ENDPOINT, resource_names_subscribe: Array.from({ length: 2000 }, (_, i) => `cluster-${i}-${'x'.repeat(40)}`) }),
    );
    expect((await st).code).toBe(grpc.status.RESOURCE_EXHAUSTED);
  });

  it('rejects a request with too many resource names', async () => {
    const call = open('StreamAggregatedResources');
    const st = status(call);
    call.write(sotwReq({ type_url: ENDPOINT, resource_names: Array.from({ length: 10_001 }, (_, i) => `${i}`) }));
    const s = await st;
    expect(s.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(s.details).toMatch(/too many resource names/);
  });
});
