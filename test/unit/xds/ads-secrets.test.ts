// The ADS server's Secret gate over real gRPC: a stream the trust rule refuses is served
// everything but the Secrets, and is counted; one it trusts gets the certificate.
import * as grpc from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { buildResources } from '../../../src/translation';
import { silentLogger } from '../../../src/util/log';
import { AdsServer, decodeResponse, LISTENER, SECRET, SnapshotCache, XdsMetrics } from '../../../src/xds';
import { decodeMessage } from '../../../src/xds/codec';
import { envoyApiRoot } from '../../../src/xds/protos';
import { model } from '../translation/fixtures';

const NAME = 'mqtt.server_certificate';
const KEY = '-----BEGIN PRIVATE KEY-----\nsecret\n-----END PRIVATE KEY-----\n';

function tlsModel() {
  const m = model();
  return {
    ...m,
    listener: { ...m.listener, tls: { secretName: NAME, minVersion: 'TLSv1_2' as const } },
    certificates: [{ name: NAME, certificateChain: 'chain', privateKey: KEY }],
  };
}

const request = (typeUrl: string, names: string[]): Buffer => {
  const t = envoyApiRoot().lookupType('envoy.service.discovery.v3.DiscoveryRequest');
  return Buffer.from(t.encode(t.fromObject({ node: { id: 'edge-1' }, type_url: typeUrl, resource_names: names })).finish());
};

describe.each([
  ['a trusted stream', true],
  ['an untrusted stream', false],
])('Secrets over ADS to %s', (_what, trusted) => {
  let server: AdsServer;
  let client: grpc.Client;
  let registry: Registry;
  const peers: string[] = [];

  beforeEach(async () => {
    const cache = new SnapshotCache();
    cache.publish(buildResources(tlsModel()));
    registry = new Registry();
    server = new AdsServer({
      host: '127.0.0.1',
      port: 0,
      maxRequestBytes: 64 * 1024,
      cache,
      logger: silentLogger,
      metrics: new XdsMetrics(registry),
      secretsTrust: (peer) => {
        peers.push(peer);
        return trusted;
      },
    });
    client = new grpc.Client(`127.0.0.1:${await server.start()}`, grpc.credentials.createInsecure());
  });

  afterEach(async () => {
    client.close();
    await server.stop(1000);
  });

  it(trusted ? 'sends the certificate' : 'sends the Listener but no Secret, and counts the refusal', async () => {
    const call = client.makeBidiStreamRequest(
      '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources',
      (b: Buffer) => b,
      (b: Buffer) => b,
    );
    const seen: Array<{ type_url: string; resources: Array<{ value: Buffer }> }> = [];
    call.on('data', (b: Buffer) => seen.push(decodeResponse('sotw', b) as (typeof seen)[number]));
    call.on('error', () => undefined);
    call.write(request(SECRET, [NAME]));
    call.write(request(LISTENER, []));
    await new Promise((resolve) => setTimeout(resolve, 300));
    // A loaded machine may take longer than that to answer both requests.
    for (let i = 0; i < 50 && !seen.some((r) => r.type_url === LISTENER); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    // The config dump shows what this stream is sent: the Secret only to a trusted one.
    const dumped = server.configOf('edge-1');
    expect(dumped?.resources[LISTENER]?.map((r) => r.name)).toEqual(['mqtt']);
    expect(dumped?.resources[SECRET]?.map((r) => r.name)).toEqual(trusted ? [NAME] : []);
    expect(server.configOf('edge-2')).toBeUndefined();
    expect(server.sync().streams.map((s) => [s.nodeId, Object.keys(s.types).length])).toEqual([['edge-1', 2]]);
    expect(server.sync({ nodeId: 'edge-2' })).toEqual({ streams: [], total: 0 });
    expect(server.sync({ limit: 0 })).toEqual({ streams: [], total: 1 });
    expect(server.nodeIds()).toEqual(['edge-1']);
    call.cancel();
    expect(peers[0]).toMatch(/127\.0\.0\.1/);
    expect(seen.some((r) => r.type_url === LISTENER)).toBe(true);
    const secrets = seen.filter((r) => r.type_url === SECRET);
    expect(secrets.length).toBe(trusted ? 1 : 0);
    if (trusted) {
      const secret = decodeMessage<{ tls_certificate: { private_key: { inline_string: string } } }>(
        'envoy.extensions.transport_sockets.tls.v3.Secret',
        secrets[0].resources[0].value,
      );
      expect(secret.tls_certificate.private_key.inline_string).toBe(KEY);
    }
    const refused = await registry.getSingleMetricAsString('mqtt_xds_sds_refused_streams_total');
    expect(refused).toMatch(new RegExp(`^mqtt_xds_sds_refused_streams_total ${trusted ? 0 : 1}$`, 'm'));
  });
});
