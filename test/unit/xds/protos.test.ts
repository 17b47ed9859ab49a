import * as protobuf from 'protobufjs';
import { decodeMessage, encodeMessage } from '../../../src/xds/codec';
import { envoyApiRoot } from '../../../src/xds/protos';

describe('the Envoy API descriptor set', () => {
  const root = envoyApiRoot();

  it('is the 1.40 API: the PROXY protocol config has added_tlvs and tcp_proxy has upstream_connect_mode', () => {
    const proxy = root.lookupType('envoy.config.core.v3.ProxyProtocolConfig');
    expect(proxy.fields['added_tlvs']?.resolvedType?.fullName).toBe('.envoy.config.core.v3.TlvEntry');
    const tlv = root.lookupType('envoy.config.core.v3.TlvEntry');
    expect(Object.keys(tlv.fields).sort()).toEqual(expect.arrayContaining(['type', 'value', 'format_string']));

    const tcp = root.lookupType('envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy');
    expect(tcp.fields['upstream_connect_mode']?.resolvedType).toBeInstanceOf(protobuf.Enum);
    expect(tcp.fields['max_early_data_bytes']).toBeDefined();
    const mode = tcp.fields['upstream_connect_mode']?.resolvedType as protobuf.Enum;
    expect(Object.keys(mode.values)).toEqual(['IMMEDIATE', 'ON_DOWNSTREAM_DATA', 'ON_DOWNSTREAM_TLS_HANDSHAKE']);
  });

  it('holds the transport socket, Wasm and set_filter_state messages that translation will need', () => {
    for (const name of [
      'envoy.extensions.transport_sockets.proxy_protocol.v3.ProxyProtocolUpstreamTransport',
      'envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer',
      'envoy.extensions.filters.network.wasm.v3.Wasm',
      'envoy.extensions.wasm.v3.PluginConfig',
      'envoy.extensions.filters.network.set_filter_state.v3.Config',
    ]) {
      expect(root.lookupType(name).fullName).toBe(`.${name}`);
    }
  });

  it('keeps map fields as maps, as parsing the .proto files does', () => {
    const cluster = root.lookupType('envoy.config.cluster.v3.Cluster');
    const field = cluster.fields['typed_extension_protocol_options'];
    expect(field).toBeInstanceOf(protobuf.MapField);
    expect(cluster.lookup('TypedExtensionProtocolOptionsEntry')).toBeNull();
    // The parent of a map entry is not itself a map entry.
    expect(cluster.options?.['map_entry']).toBeUndefined();

    const bytes = encodeMessage('envoy.service.discovery.v3.DeltaDiscoveryRequest', {
      initial_resource_versions: { a: '1', b: '2' },
    });
    const back = decodeMessage<{ initial_resource_versions: Record<string, string> }>(
      'envoy.service.discovery.v3.DeltaDiscoveryRequest',
      bytes,
    );
    expect(back.initial_resource_versions).toEqual({ a: '1', b: '2' });
  });

  it('packs repeated scalars, the proto3 default, also for fields that carry other options', () => {
    // statuses has a validate rule (an option) and no explicit packed.
    const statuses = root.lookupType('envoy.config.core.v3.HealthStatusSet').fields['statuses'];
    expect(statuses?.packed).toBe(true);
    const bytes = encodeMessage('envoy.config.core.v3.HealthStatusSet', { statuses: ['HEALTHY', 'DRAINING'] });
    // One length-delimited field 1 (tag 0x0a) holding both enum values: packed.
    expect([...bytes]).toEqual([0x0a, 2, 1, 3]);
  });
});
