import * as grpc from '@grpc/grpc-js';
import { decodeMessage } from '../../src/xds/codec';
import { envoyApiRoot } from '../../src/xds/protos';
import { CLUSTER, ENDPOINT, decodeResponse } from '../../src/xds';

export interface SeenEndpoint {
  readonly address: string;
  readonly port: number;
  readonly weight: number;
  readonly health: string;
  readonly hostname: string;
}

export interface XdsClient {
  /** Endpoints of the latest ClusterLoadAssignment received, sorted by hostname. */
  endpoints(): SeenEndpoint[];
  /** Every EDS response received, oldest first: the endpoint count and version of each. */
  edsHistory(): Array<{ version: string; count: number }>;
  connected(): boolean;
  close(): void;
}

/**
 * A real State-of-the-World ADS client, as Envoy speaks it: subscribes to clusters, then
 * to the endpoints of each cluster, and ACKs every response. For tests whose endpoints
 * must not be contacted (addresses from the Kubernetes API), so no Envoy dials them.
 */
export function startXdsClient(target: string, nodeId: string): XdsClient {
  const client = new grpc.Client(target, grpc.credentials.createInsecure());
  const type = envoyApiRoot().lookupType('envoy.service.discovery.v3.DiscoveryRequest');
  const encode = (obj: object): Buffer => Buffer.from(type.encode(type.fromObject(obj)).finish());
  let latest: SeenEndpoint[] = [];
  const history: Array<{ version: string; count: number }> = [];
  let up = false;
  let closed = false;
  let call: grpc.ClientDuplexStream<Buffer, Buffer> | undefined;
  let retry: NodeJS.Timeout | undefined;

  const open = (): void => {
    if (closed) return;
    const c = client.makeBidiStreamRequest(
      '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources',
      (b: Buffer) => b,
      (b: Buffer) => b,
    );
    call = c;
    const versions = new Map<string, string>();
    c.on('data', (bytes: Buffer) => {
      up = true;
      const resp = decodeResponse('sotw', bytes) as {
        type_url: string;
        version_info: string;
        nonce: string;
        resources?: Array<{ value: Buffer }>;
      };
      versions.set(resp.type_url, resp.version_info);
      const ack = { type_url: resp.type_url, version_info: resp.version_info, response_nonce: resp.nonce };
      if (resp.type_url === CLUSTER) {
        c.write(encode(ack));
        const names = (resp.resources ?? []).map((r) => decodeMessage<{ name: string }>('envoy.config.cluster.v3.Cluster', r.value).name);
        c.write(encode({ type_url: ENDPOINT, resource_names: names }));
      } else if (resp.type_url === ENDPOINT) {
        const cla = (resp.resources ?? []).map((r) =>
          decodeMessage<{ endpoints?: Array<{ lb_endpoints?: Array<Record<string, any>> }> }>(
            'envoy.config.endpoint.v3.ClusterLoadAssignment',
            r.value,
          ),
        );
        latest = cla
          .flatMap((x) => x.endpoints ?? [])
          .flatMap((l) => l.lb_endpoints ?? [])
          .map((e) => ({
            address: e.endpoint?.address?.socket_address?.address,
            port: e.endpoint?.address?.socket_address?.port_value,
            weight: e.load_balancing_weight?.value,
            health: e.health_status ?? 'UNKNOWN',
            hostname: e.endpoint?.hostname,
          }))
          .sort((a, b) => (a.hostname < b.hostname ? -1 : 1));
        history.push({ version: resp.version_info, count: latest.length });
        c.write(encode({ ...ack, resource_names: ['mqtt_brokers'] }));
      } else {
        c.write(encode(ack));
      }
    });
    const reconnect = (): void => {
      up = false;
      if (closed) return;
      clearTimeout(retry);
      retry = setTimeout(open, 200);
    };
    c.on('error', reconnect);
    c.on('end', reconnect);
    // A reconnecting Envoy says what it holds; so does this client.
    c.write(encode({ type_url: CLUSTER, node: { id: nodeId, cluster: 'tests' }, version_info: versions.get(CLUSTER) ?? '' }));
  };
  open();
  return {
    endpoints: () => latest,
    edsHistory: () => [...history],
    connected: () => up,
    close: () => {
      closed = true;
      clearTimeout(retry);
      call?.cancel();
      client.close();
    },
  };
}
