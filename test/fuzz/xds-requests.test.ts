// Fuzz target for what an xDS client sends: random SotW and Delta requests (type URLs,
// versions, nonces, names, error details, node ids) and raw bytes, over real gRPC. The
// server never crashes, and afterwards a well-behaved client still gets its config.
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { Registry } from 'prom-client';
import { buildResources } from '../../src/translation';
import { silentLogger } from '../../src/util/log';
import { AdsServer, CLUSTER, ENDPOINT, LISTENER, SnapshotCache, XdsMetrics, decodeResponse } from '../../src/xds';
import { envoyApiRoot } from '../../src/xds/protos';
import { model } from '../unit/translation/fixtures';
import { RUNS } from './mutate';

const SERVICE = '/envoy.service.discovery.v3.AggregatedDiscoveryService/';
type Raw = grpc.ClientDuplexStream<Buffer, Buffer>;

function encode(typeName: string, obj: object): Buffer {
  const t = envoyApiRoot().lookupType(typeName);
  return Buffer.from(t.encode(t.fromObject(obj)).finish());
}

const typeUrl = fc.oneof(
  fc.constantFrom(CLUSTER, ENDPOINT, LISTENER, 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret', ''),
  fc.string({ maxLength: 60 }),
);
const names = fc.array(fc.oneof(fc.constantFrom('mqtt_brokers', '*', ''), fc.string({ maxLength: 30 })), { maxLength: 8 });
const node = fc.record({ id: fc.string({ maxLength: 80 }), cluster: fc.string({ maxLength: 20 }) });
const errorDetail = fc.option(fc.record({ code: fc.integer({ min: 0, max: 16 }), message: fc.string({ maxLength: 40 }) }), {
  nil: undefined,
});

const sotw = fc.record({
  version_info: fc.string({ maxLength: 20 }),
  node,
  resource_names: names,
  type_url: typeUrl,
  response_nonce: fc.string({ maxLength: 12 }),
  error_detail: errorDetail,
});
const delta = fc.record({
  node,
  type_url: typeUrl,
  resource_names_subscribe: names,
  resource_names_unsubscribe: names,
  response_nonce: fc.string({ maxLength: 12 }),
  error_detail: errorDetail,
});

describe('fuzz: xDS requests', () => {
  let server: AdsServer;
  let client: grpc.Client;

  beforeAll(async () => {
    const cache = new SnapshotCache();
    cache.publish(buildResources(model()));
    server = new AdsServer({
      host: '127.0.0.1',
      port: 0,
      maxRequestBytes: 64 * 1024,
      cache,
      logger: silentLogger,
      metrics: new XdsMetrics(new Registry()),
    });
    const port = await server.start();
    client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  });

  afterAll(async () => {
    client.close();
    await server.stop(500);
  });

  const open = (method: 'StreamAggregatedResources' | 'DeltaAggregatedResources'): Raw =>
    client.makeBidiStreamRequest(
      SERVICE + method,
      (b: Buffer) => b,
      (b: Buffer) => b,
    );

  /** Sends the messages, waits briefly for answers, and ends the stream either way. */
  async function play(method: 'StreamAggregatedResources' | 'DeltaAggregatedResources', messages: Buffer[]): Promise<void> {
    const call = open(method);
    call.on('data', () => undefined);
    const ended = new Promise<void>((resolve) => {
      call.on('error', () => resolve());
      call.on('status', () => resolve());
    });
    for (const m of messages) call.write(m);
    await Promise.race([ended, new Promise((r) => setTimeout(r, 20))]);
    call.cancel();
    await ended;
  }

  it('survives random SotW, Delta and raw requests, and still serves a well-formed client', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(sotw, { maxLength: 4 }),
        fc.array(delta, { maxLength: 4 }),
        fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 2 }),
        async (s, d, raw) => {
          await play('StreamAggregatedResources', [
            ...s.map((r) => encode('envoy.service.discovery.v3.DiscoveryRequest', r)),
            ...raw.map((b) => Buffer.from(b)),
          ]);
          await play(
            'DeltaAggregatedResources',
            d.map((r) => encode('envoy.service.discovery.v3.DeltaDiscoveryRequest', r)),
          );
        },
      ),
      { numRuns: Math.ceil(RUNS / 4) },
    );
    const call = open('StreamAggregatedResources');
    const first = new Promise<Record<string, unknown>>((resolve, reject) => {
      call.once('data', (b: Buffer) => resolve(decodeResponse('sotw', b)));
      call.once('error', reject);
    });
    call.write(encode('envoy.service.discovery.v3.DiscoveryRequest', { node: { id: 'envoy-ok' }, type_url: CLUSTER }));
    expect((await first).type_url).toBe(CLUSTER);
    call.cancel();
  });
});
