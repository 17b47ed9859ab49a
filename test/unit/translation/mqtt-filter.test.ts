import {
  buildCluster,
  buildListener,
  buildListenerFilterConfigs,
  buildResources,
  buildTcpProxy,
  buildTenantChain,
  encodeTopicPrefixes,
  mqttFilterConfiguration,
  validateResources,
  type ListenerModel,
  type MqttFilterModel,
} from '../../../src/translation';
import { buildSnapshot, EXTENSION_CONFIG } from '../../../src/xds';
import { decodeMessage, encodeMessage } from '../../../src/xds/codec';
import { expectGolden } from './golden';
import { model } from './fixtures';

/** The eight bytes of an empty Wasm module: what matters here is that they travel inline. */
const MODULE = { base64: Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]).toString('base64'), sha256: 'test' };
const FILTER: MqttFilterModel = {
  maxConnectBytes: 4096,
  maxClientIdBytes: 64,
  firstPacketTimeoutMs: 2000,
  placement: 'weighted',
  inspectPublish: false,
  maxPublishPayloadBytes: 0,
  topicPrefixes: [],
  module: MODULE,
};
const withFilter = (f: MqttFilterModel = FILTER): ListenerModel => ({ ...model().listener, mqttFilter: f });

describe('the MQTT filter over ECDS', () => {
  it('builds the filter config with the module inline and the settings as its JSON configuration (golden)', () => {
    expectGolden('listener-filters-mqtt', buildListenerFilterConfigs(withFilter()));
  });

  it('puts the filter between the rate limit and tcp_proxy, by name over ECDS', () => {
    const filters = buildListener(withFilter()).filter_chains?.[0]?.filters ?? [];
    expect(filters.map((f) => f.name)).toEqual(['mqtt.connect_rate_limit', 'mqtt.mqtt_filter', 'mqtt.tcp_proxy']);
    expect(filters[1].config_discovery?.type_urls).toEqual(['type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm']);
  });

  it("puts a tenant's filter in the tenant's chain, under the tenant's name", () => {
    const listener = { ...withFilter(), name: 'mqtt.tenant.acme', tls: { secretName: 's', minVersion: 'TLSv1_2' as const } };
    const names = buildTenantChain({
      name: 'acme',
      serverNames: ['acme.example.com'],
      listener,
      cluster: model().cluster,
      plan: model().plan,
    }).filters?.map((f) => f.name);
    expect(names).toEqual([
      'mqtt.tenant.acme.connection_limit',
      'mqtt.tenant.acme.connect_rate_limit',
      'mqtt.tenant.acme.mqtt_filter',
      'mqtt.tenant.acme.tcp_proxy',
    ]);
  });

  it('makes tcp_proxy wait for the CONNECT, holding at least maxConnectBytes meanwhile', () => {
    expect(buildTcpProxy(withFilter())).toMatchObject({
      upstream_connect_mode: 'ON_DOWNSTREAM_DATA',
      max_early_data_bytes: { value: 8192 },
    });
    expect(buildTcpProxy(withFilter({ ...FILTER, maxConnectBytes: 32768 })).max_early_data_bytes).toEqual({ value: 32768 });
    expect(buildTcpProxy(model().listener).upstream_connect_mode).toBeUndefined();
  });

  it('changes only the filter config, never the Listener, when a setting changes', () => {
    const before = buildResources(model({ listener: withFilter() }));
    const after = buildResources(model({ listener: withFilter({ ...FILTER, maxClientIdBytes: 8 }) }));
    expect(after.listeners).toEqual(before.listeners);
    expect(after.extensionConfigs.find((x) => x.name === 'mqtt.mqtt_filter')).not.toEqual(
      before.extensionConfigs.find((x) => x.name === 'mqtt.mqtt_filter'),
    );
  });

  it('is accepted by validation and encodes, the module bytes and the configuration intact', () => {
    const set = buildResources(model({ listener: withFilter() }));
    expect(validateResources(set)).toEqual([]);
    // The snapshot encodes it (unknown fields would throw); decoding the same encoding shows what Envoy gets.
    expect(buildSnapshot(set).resources[EXTENSION_CONFIG].has('mqtt.mqtt_filter')).toBe(true);
    const ext = decodeMessage<{ typed_config: { value: Uint8Array } }>(
      'envoy.config.core.v3.TypedExtensionConfig',
      encodeMessage('envoy.config.core.v3.TypedExtensionConfig', set.extensionConfigs.find((x) => x.name === 'mqtt.mqtt_filter') ?? {}),
    );
    const wasm = decodeMessage<any>('envoy.extensions.filters.network.wasm.v3.Wasm', ext.typed_config.value);
    expect(Buffer.from(wasm.config.vm_config.code.local.inline_bytes).toString('base64')).toBe(MODULE.base64);
    expect(wasm.config.vm_config.runtime).toBe('envoy.wasm.runtime.v8');
    const cfg = decodeMessage<{ value: string }>('google.protobuf.StringValue', wasm.config.configuration.value);
    expect(JSON.parse(cfg.value)).toEqual({
      maxConnectBytes: 4096,
      maxClientIdBytes: 64,
      firstPacketTimeoutMs: 2000,
      placement: 'weighted',
    });
  });

  it('in sticky placement, makes tcp_proxy hash the envoy.hashable_string the filter sets, over a bounded-load Maglev table (golden)', () => {
    const sticky = withFilter({ ...FILTER, placement: 'sticky' });
    expect(buildTcpProxy(sticky).hash_policy).toEqual([{ filter_state: { key: 'envoy.hashable_string' } }]);
    expect(buildTcpProxy(withFilter()).hash_policy).toBeUndefined();
    const cluster = buildCluster({ ...model().cluster, lbPolicy: 'MAGLEV' });
    expect(cluster).toMatchObject({
      lb_policy: 'MAGLEV',
      maglev_lb_config: { table_size: { value: 65537 } },
      common_lb_config: { consistent_hashing_lb_config: { hash_balance_factor: { value: 125 } } },
    });
    expect(buildCluster(model().cluster).maglev_lb_config).toBeUndefined();
    expectGolden('listener-filters-mqtt-sticky', buildListenerFilterConfigs(sticky));
    // Both encode: a field Envoy's protos lack would throw here.
    const set = buildResources(model({ listener: sticky, cluster: { ...model().cluster, lbPolicy: 'MAGLEV' } }));
    expect(validateResources(set)).toEqual([]);
    expect(() => buildSnapshot(set)).not.toThrow();
  });

  it('switching placement changes tcp_proxy (ECDS) and the Cluster (CDS), never the Listener', () => {
    const before = buildResources(model({ listener: withFilter() }));
    const after = buildResources(
      model({ listener: withFilter({ ...FILTER, placement: 'sticky' }), cluster: { ...model().cluster, lbPolicy: 'MAGLEV' } }),
    );
    expect(after.listeners).toEqual(before.listeners);
    expect(after.clusters).not.toEqual(before.clusters);
    expect(after.extensionConfigs.find((x) => x.name === 'mqtt.tcp_proxy')).not.toEqual(
      before.extensionConfigs.find((x) => x.name === 'mqtt.tcp_proxy'),
    );
  });

  it("sends PUBLISH inspection's keys only while it is on, and a tenant chain's name as the counters' label", () => {
    const configuration = (f: MqttFilterModel): unknown => JSON.parse(mqttFilterConfiguration(f));
    expect(configuration({ ...FILTER, maxPublishPayloadBytes: 100, topicPrefixes: ['acme/'] })).toEqual({
      maxConnectBytes: 4096,
      maxClientIdBytes: 64,
      firstPacketTimeoutMs: 2000,
      placement: 'weighted',
    });
    expect(
      configuration({ ...FILTER, inspectPublish: true, maxPublishPayloadBytes: 100, topicPrefixes: ['acme/'], tenant: 'acme' }),
    ).toEqual({
      maxConnectBytes: 4096,
      maxClientIdBytes: 64,
      firstPacketTimeoutMs: 2000,
      placement: 'weighted',
      inspectPublish: true,
      maxPublishPayloadBytes: 100,
      topicPrefixes: 'acme/',
      tenant: 'acme',
    });
    expect(configuration({ ...FILTER, inspectPublish: true })).toMatchObject({ inspectPublish: true, maxPublishPayloadBytes: 0 });
    expect(configuration({ ...FILTER, inspectPublish: true })).not.toHaveProperty('topicPrefixes');
  });

  it('encodes topicPrefixes as one string: entries joined by commas, a comma or backslash inside one escaped', () => {
    expect(encodeTopicPrefixes(['acme/', 'b2b,x/', String.raw`back\slash/`])).toBe(String.raw`acme/,b2b\,x/,back\\slash/`);
    expect(encodeTopicPrefixes(['one/'])).toBe('one/');
  });

  it('sends the sticky salts in the configuration only when there are some', () => {
    const sticky: MqttFilterModel = { ...FILTER, placement: 'sticky' };
    expect(JSON.parse(mqttFilterConfiguration(sticky))).not.toHaveProperty('saltedIds');
    expect(JSON.parse(mqttFilterConfiguration({ ...sticky, saltedIds: '' }))).not.toHaveProperty('saltedIds');
    expect(JSON.parse(mqttFilterConfiguration({ ...sticky, saltedIds: '0123456789abcdef:7' })).saltedIds).toBe('0123456789abcdef:7');
  });

  it('refuses a set whose filter has no module, naming the field', () => {
    const { module: _none, ...noModule } = FILTER;
    const problems = validateResources(buildResources(model({ listener: withFilter(noModule) })));
    expect(problems.map((p) => p.code)).toEqual(['MQTT_FILTER_MODULE']);
    expect(problems[0].path).toMatch(/^extensionConfigs\[\d\]\.typed_config\.config\.vm_config\.code\.local\.inline_bytes$/);
    expect(problems[0].message).toContain('listener.mqttFilter.wasmFile');
  });
});
