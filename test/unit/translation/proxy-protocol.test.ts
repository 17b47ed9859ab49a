import {
  buildCluster,
  buildListener,
  buildResources,
  buildTcpProxy,
  buildUpstreamProxyProtocol,
  type ListenerModel,
} from '../../../src/translation';
import { buildSnapshot } from '../../../src/xds';
import { model } from './fixtures';

const tls = { secretName: 'mqtt.server_certificate', minVersion: 'TLSv1_2' as const, clientCaSecretName: 'mqtt.client_ca' };

describe('PROXY protocol towards the brokers', () => {
  it('leaves the cluster without a transport socket when it is off', () => {
    expect(buildCluster(model().cluster).transport_socket).toBeUndefined();
  });

  it('wraps raw_buffer in the upstream PROXY transport socket, static TLVs as bytes and client values from filter state', () => {
    const socket = buildUpstreamProxyProtocol({
      version: 'V2',
      tlvs: [
        { type: 0xe0, value: 'edge-1' },
        { type: 0xe1, source: 'REQUESTED_SERVER_NAME' },
      ],
    });
    expect(socket).toEqual({
      name: 'envoy.transport_sockets.upstream_proxy_protocol',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.proxy_protocol.v3.ProxyProtocolUpstreamTransport',
        config: {
          version: 'V2',
          added_tlvs: [
            { type: 0xe0, value: Buffer.from('edge-1') },
            {
              type: 0xe1,
              format_string: {
                omit_empty_values: true,
                text_format_source: { inline_string: '%FILTER_STATE(mqtt_xds.tlv.requested_server_name:PLAIN)%' },
              },
            },
          ],
        },
        transport_socket: {
          name: 'envoy.transport_sockets.raw_buffer',
          typed_config: { '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer' },
        },
      },
    });
  });

  it('sends v1 without TLVs', () => {
    const socket = buildUpstreamProxyProtocol({ version: 'V1', tlvs: [] });
    expect((socket.typed_config as unknown as { config: object }).config).toEqual({ version: 'V1' });
  });

  it('stores the SNI on the new connection and certificate values after the handshake, before tcp_proxy', () => {
    const m: ListenerModel = { ...model().listener, tls, tlvSources: ['REQUESTED_SERVER_NAME', 'DOWNSTREAM_PEER_SUBJECT'] };
    const filters = buildListener(m).filter_chains?.[0]?.filters ?? [];
    expect(filters.map((f) => f.name)).toEqual(['mqtt.connect_rate_limit', 'envoy.filters.network.set_filter_state', 'mqtt.tcp_proxy']);
    const config = filters[1].typed_config as unknown as Record<string, Array<{ object_key: string; format_string: unknown }>>;
    expect(config['on_new_connection'].map((v) => v.object_key)).toEqual(['mqtt_xds.tlv.requested_server_name']);
    expect(config['on_downstream_tls_handshake'].map((v) => v.object_key)).toEqual(['mqtt_xds.tlv.downstream_peer_subject']);
  });

  it('makes tcp_proxy wait for the TLS handshake only when a TLV needs the client certificate', () => {
    const base: ListenerModel = { ...model().listener, tls };
    expect(buildTcpProxy({ ...base, tlvSources: ['REQUESTED_SERVER_NAME'] }).upstream_connect_mode).toBeUndefined();
    const waiting = buildTcpProxy({ ...base, tlvSources: ['DOWNSTREAM_PEER_URI_SAN'] });
    expect(waiting.upstream_connect_mode).toBe('ON_DOWNSTREAM_TLS_HANDSHAKE');
    expect(waiting.max_early_data_bytes).toEqual({ value: 8192 });
    // Plaintext: there is no handshake to wait for.
    expect(buildTcpProxy({ ...model().listener, tlvSources: ['DOWNSTREAM_PEER_SUBJECT'] }).upstream_connect_mode).toBeUndefined();
  });

  it('encodes with the 1.40 API: the strict encoder knows every field', () => {
    const m = model({
      listener: { ...model().listener, tls, tlvSources: ['REQUESTED_SERVER_NAME', 'DOWNSTREAM_PEER_SUBJECT'] },
      cluster: {
        ...model().cluster,
        proxyProtocol: {
          version: 'V2',
          tlvs: [
            { type: 0xe0, value: 'edge-1' },
            { type: 0xe2, source: 'DOWNSTREAM_PEER_SUBJECT' },
          ],
        },
      },
    });
    expect(() => buildSnapshot(buildResources(m))).not.toThrow();
  });
});
