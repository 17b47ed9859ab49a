// Regression: one Delta stream subscribed to 600,000 names made /status 56 MB, and four
// such streams ran the process out of memory. Names are bounded per stream and in total.
import * as grpc from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { buildResources } from '../../../src/translation';
import { silentLogger } from '../../../src/util/log';
import { AdsServer, ENDPOINT, SnapshotCache, STATUS_NAMES, XdsMetrics } from '../../../src/xds';
import { envoyApiRoot } from '../../../src/xds/protos';
import { model } from '../translation/fixtures';

const DELTA = '/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources';
const enc = (obj: object): Buffer => {
  const t = envoyApiRoot().lookupType('envoy.service.discovery.v3.DeltaDiscoveryRequest');
  return Buffer.from(t.encode(t.fromObject(obj)).finish());
};
const names = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

describe('subscription bounds', () => {
  let server: AdsServer;
  let client: grpc.Client;

  beforeEach(async () => {
    const cache = new SnapshotCache();
    cache.publish(buildResources(model()));
    server = new AdsServer({
      host: '127.0.0.1',
      port: 0,
      maxRequestBytes: 4 * 1024 * 1024,
      cache,
      logger: silentLogger,
      metrics: new XdsMetrics(new Registry()),
      maxNamesPerStream: 300,
      maxNamesTotal: 500,
    });
    client = new grpc.Client(`127.0.0.1:${await server.start()}`, grpc.credentials.createInsecure());
  });

  afterEach(async () => {
    client.close();
    await server.stop(500);
  });

  const open = () => {
    const call = client.makeBidiStreamRequest(
      DELTA,
      (b: Buffer) => b,
      (b: Buffer) => b,
    );
    const status = new Promise<grpc.StatusObject>((resolve) => {
      call.on('data', () => undefined);
      call.on('error', () => undefined);
      call.on('status', resolve);
    });
    return { call, status };
  };

  it('ends a stream that subscribes past its limit with RESOURCE_EXHAUSTED', async () => {
    const s = open();
    s.call.write(enc({ node: { id: 'n1' }, type_url: ENDPOINT, resource_names_subscribe: names('a', 200) }));
    s.call.write(enc({ type_url: ENDPOINT, resource_names_subscribe: names('b', 200) }));
    const st = await s.status;
    expect(st.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(st.details).toMatch(/400 resource names, over the limit of 300/);
  });

  it('bounds the names of all streams together, and frees them when a stream ends', async () => {
    const a = open();
    a.call.write(enc({ node: { id: 'a' }, type_url: ENDPOINT, resource_names_subscribe: names('a', 280) }));
    const b = open();
    b.call.write(enc({ node: { id: 'b' }, type_url: ENDPOINT, resource_names_subscribe: names('b', 280) }));
    expect((await b.status).code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    a.call.cancel();
    await a.status;
    await new Promise((r) => setTimeout(r, 50));
    const c = open();
    c.call.write(enc({ node: { id: 'c' }, type_url: ENDPOINT, resource_names_subscribe: names('c', 280) }));
    await new Promise((r) => setTimeout(r, 200));
    expect(server.status().map((x) => x.nodeId)).toEqual(['c']);
    c.call.cancel();
  });

  it('shows at most a bounded number of names per stream in status, with the count', async () => {
    const s = open();
    s.call.write(enc({ node: { id: 'n1' }, type_url: ENDPOINT, resource_names_subscribe: names('a', 250) }));
    await new Promise((r) => setTimeout(r, 200));
    const eds = server.status()[0].types[ENDPOINT]!;
    expect(eds.subscribed).toHaveLength(STATUS_NAMES);
    expect(eds.subscribedCount).toBe(250);
    s.call.cancel();
  });
});
