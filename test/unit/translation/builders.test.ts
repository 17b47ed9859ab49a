import {
  buildCluster,
  buildClusterLoadAssignment,
  buildConnectRateLimit,
  buildListener,
  buildListenerFilterConfigs,
  buildResources,
  buildTcpProxy,
  idleTimeoutMs,
  MQTT_CONNACK_OK_HEX,
  MQTT_CONNECT_HEX,
  tokenBucket,
} from '../../../src/translation';
import { buildSnapshot, decodeResponse, encodeDiscoveryResponse, LISTENER, CLUSTER, ENDPOINT, EXTENSION_CONFIG } from '../../../src/xds';
import { decodeMessage } from '../../../src/xds/codec';
import { expectGolden } from './golden';
import { model, plan } from './fixtures';

describe('resource builders', () => {
  it('builds the MQTT listener, its filters named for ECDS (golden)', () => {
    expectGolden('listener', buildListener(model().listener));
  });

  it('builds the listener filter configs: rate limit off, no duration by default (golden)', () => {
    expectGolden('listener-filters', buildListenerFilterConfigs(model().listener));
  });

  it('builds the listener filter configs with a connection rate and a maximum duration (golden)', () => {
    const m = model().listener;
    expectGolden(
      'listener-filters-limited',
      buildListenerFilterConfigs({ ...m, connectRate: { perSec: 200, burst: 400 }, maxConnectionDurationMs: 6 * 3_600_000 }),
    );
  });

  it('builds the broker cluster with explicit circuit breakers and an MQTT health check (golden)', () => {
    expectGolden('cluster', buildCluster(model().cluster));
  });

  it('builds one weighted LbEndpoint per broker, draining brokers marked DRAINING (golden)', () => {
    expectGolden('cluster-load-assignment', buildClusterLoadAssignment('mqtt_brokers', plan));
  });

  it('sets the tcp_proxy idle timeout to 1.5 times the longest keep-alive', () => {
    expect(idleTimeoutMs(3600)).toBe(5_400_000);
    expect(idleTimeoutMs(65535)).toBe(98_303_000);
    expect(buildTcpProxy(model().listener).idle_timeout).toEqual({ seconds: 5400, nanos: 0 });
  });

  it('puts the rate limit before tcp_proxy in the filter chain', () => {
    const names = buildListener(model().listener).filter_chains?.[0]?.filters?.map((f) => f.name);
    expect(names).toEqual(['mqtt.connect_rate_limit', 'mqtt.tcp_proxy']);
  });

  it('spreads the token bucket over the shortest fill interval that gives whole tokens', () => {
    expect(tokenBucket({ perSec: 200, burst: 400 })).toEqual({
      max_tokens: 400,
      tokens_per_fill: { value: 10 },
      fill_interval: { seconds: 0, nanos: 50_000_000 },
    });
    expect(tokenBucket({ perSec: 4, burst: 4 }).fill_interval).toEqual({ seconds: 0, nanos: 250_000_000 });
    expect(tokenBucket({ perSec: 3, burst: 3 })).toEqual({
      max_tokens: 3,
      tokens_per_fill: { value: 3 },
      fill_interval: { seconds: 1, nanos: 0 },
    });
    // A fill never exceeds the bucket: 100/s with a burst of 5 fills 5 every 50 ms, not 10 every 100 ms.
    expect(tokenBucket({ perSec: 100, burst: 5 })).toEqual({
      max_tokens: 5,
      tokens_per_fill: { value: 5 },
      fill_interval: { seconds: 0, nanos: 50_000_000 },
    });
  });

  it('keeps a switched-off rate limit in the chain, disabled by its runtime flag', () => {
    const off = buildConnectRateLimit(model().listener);
    expect(off.runtime_enabled).toEqual({ default_value: { value: false }, runtime_key: 'mqtt_xds.mqtt.connect_rate_limit_enabled' });
    const on = buildConnectRateLimit({ ...model().listener, connectRate: { perSec: 10, burst: 10 } });
    expect(on.runtime_enabled?.default_value).toEqual({ value: true });
  });

  it('waits for a full broker with as many pending connections as the cluster limit unless told otherwise', () => {
    const pending = (c: ReturnType<typeof buildCluster>): unknown => c.circuit_breakers?.thresholds?.[0]?.max_pending_requests;
    expect(pending(buildCluster(model().cluster))).toEqual({ value: 1_000_000 });
    expect(pending(buildCluster({ ...model().cluster, maxPendingConnections: 64 }))).toEqual({ value: 64 });
  });

  it('health check sends an MQTT 3.1.1 CONNECT and expects CONNACK accepted', () => {
    const connect = Buffer.from(MQTT_CONNECT_HEX, 'hex');
    expect(connect[0]).toBe(0x10); // CONNECT
    expect(connect[1]).toBe(connect.length - 2); // remaining length
    expect(connect.subarray(4, 8).toString()).toBe('MQTT');
    expect(connect[8]).toBe(4); // protocol level 3.1.1
    expect(connect[9]).toBe(0x02); // clean session, no will, no credentials
    expect(connect.readUInt16BE(12)).toBe(0); // empty client id: the broker assigns one
    expect(MQTT_CONNACK_OK_HEX).toBe('20020000');
    const hc = buildCluster(model().cluster).health_checks?.[0];
    expect(hc?.reuse_connection).toEqual({ value: false });
  });

  it('keeps the listener byte-identical when weights and membership change', () => {
    const a = buildSnapshot(buildResources(model()));
    const fewer = { endpoints: [{ ...plan.endpoints[0], weight: 7 }] };
    const b = buildSnapshot(buildResources(model({ plan: fewer })));
    expect(b.resources[LISTENER].get('mqtt')?.sotwChunk.equals(a.resources[LISTENER].get('mqtt')!.sotwChunk)).toBe(true);
    expect(b.resources[CLUSTER].get('mqtt_brokers')?.version).toBe(a.resources[CLUSTER].get('mqtt_brokers')?.version);
    expect(b.resources[ENDPOINT].get('mqtt_brokers')?.version).not.toBe(a.resources[ENDPOINT].get('mqtt_brokers')?.version);
  });

  it('keeps the listener byte-identical when the connection rate, duration or idle timeout change', () => {
    const m = model();
    const a = buildSnapshot(buildResources(m));
    const limited = {
      ...m,
      listener: { ...m.listener, maxKeepAliveSec: 60, connectRate: { perSec: 50, burst: 100 }, maxConnectionDurationMs: 3_600_000 },
      cluster: { ...m.cluster, perHostMaxConnections: 1000, maxConnections: 3000, maxPendingConnections: 64 },
    };
    const b = buildSnapshot(buildResources(limited));
    expect(b.resources[LISTENER].get('mqtt')?.sotwChunk.equals(a.resources[LISTENER].get('mqtt')!.sotwChunk)).toBe(true);
    expect(b.resources[EXTENSION_CONFIG].get('mqtt.connect_rate_limit')?.version).not.toBe(
      a.resources[EXTENSION_CONFIG].get('mqtt.connect_rate_limit')?.version,
    );
    expect(b.resources[EXTENSION_CONFIG].get('mqtt.tcp_proxy')?.version).not.toBe(
      a.resources[EXTENSION_CONFIG].get('mqtt.tcp_proxy')?.version,
    );
    expect(b.resources[CLUSTER].get('mqtt_brokers')?.version).not.toBe(a.resources[CLUSTER].get('mqtt_brokers')?.version);
  });

  it('encodes resources that decode back to what the builders produced', () => {
    const snap = buildSnapshot(buildResources(model()));
    const bytes = encodeDiscoveryResponse(CLUSTER, 'v1', 'n1', [...snap.resources[CLUSTER].values()]);
    const resp = decodeResponse('sotw', bytes) as { resources: Array<{ type_url: string; value: Buffer }>; nonce: string };
    expect(resp.nonce).toBe('n1');
    expect(resp.resources).toHaveLength(1);
    expect(resp.resources[0].type_url).toBe(CLUSTER);
    const cluster = decodeMessage<Record<string, unknown>>('envoy.config.cluster.v3.Cluster', resp.resources[0].value);
    expect(cluster.name).toBe('mqtt_brokers');
    expect(cluster.type).toBe('EDS');
    expect(cluster.ignore_health_on_host_removal).toBe(true);
    // A zero window must reach Envoy as a set field: an absent one means Envoy's 1 s default.
    expect(cluster.common_lb_config).toEqual({ update_merge_window: { seconds: '0', nanos: 0 } });
    expect(cluster.circuit_breakers).toMatchObject({
      thresholds: [{ max_connections: { value: 1_000_000 } }],
      per_host_thresholds: [{ max_connections: { value: 250_000 } }],
    });
  });
});

describe('strict encoding', () => {
  it('refuses a field the schema does not know instead of dropping it', () => {
    const cluster = { ...buildCluster(model().cluster), max_conections: 5 } as object;
    expect(() => buildSnapshot({ ...buildResources(model()), clusters: [cluster] })).toThrow(/Cluster\.max_conections: no such field/);
  });

  it('refuses an unknown enum name', () => {
    const cluster = { ...buildCluster(model().cluster), lb_policy: 'FASTEST' } as object;
    expect(() => buildSnapshot({ ...buildResources(model()), clusters: [cluster] })).toThrow(/"FASTEST" is not a value/);
  });

  it('checks fields inside typed Any configs', () => {
    const set = buildResources(model());
    const [rate, proxy] = set.extensionConfigs;
    const broken = { ...proxy, typed_config: { ...(proxy.typed_config as object), idle_timeout_ms: 5 } } as object;
    expect(() => buildSnapshot({ ...set, extensionConfigs: [rate, broken] })).toThrow(/<TcpProxy>\.idle_timeout_ms/);
  });
});
