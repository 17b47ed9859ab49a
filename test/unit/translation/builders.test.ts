import {
  buildCluster,
  buildClusterLoadAssignment,
  buildListener,
  buildResources,
  idleTimeoutMs,
  MQTT_CONNACK_OK_HEX,
  MQTT_CONNECT_HEX,
} from '../../../src/translation';
import { buildSnapshot, decodeResponse, encodeDiscoveryResponse, LISTENER, CLUSTER, ENDPOINT } from '../../../src/xds';
import { decodeMessage } from '../../../src/xds/codec';
import { expectGolden } from './golden';
import { model, plan } from './fixtures';

describe('resource builders', () => {
  it('builds the MQTT listener (golden)', () => {
    expectGolden('listener', buildListener(model().listener));
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
    const proxy = buildListener(model().listener).filter_chains?.[0]?.filters?.[0]?.typed_config as Record<string, unknown>;
    expect(proxy.idle_timeout).toEqual({ seconds: 5400, nanos: 0 });
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
    expect(cluster.circuit_breakers).toMatchObject({
      thresholds: [{ max_connections: { value: 1_000_000 } }],
      per_host_thresholds: [{ max_connections: { value: 250_000 } }],
    });
  });
});

describe('strict encoding', () => {
  it('refuses a field the schema does not know instead of dropping it', () => {
    const cluster = { ...buildCluster(model().cluster), max_conections: 5 } as object;
    expect(() => buildSnapshot({ ...buildResources(model()), clusters: [cluster] })).toThrow(
      /Cluster\.max_conections: no such field/,
    );
  });

  it('refuses an unknown enum name', () => {
    const cluster = { ...buildCluster(model().cluster), lb_policy: 'FASTEST' } as object;
    expect(() => buildSnapshot({ ...buildResources(model()), clusters: [cluster] })).toThrow(/"FASTEST" is not a value/);
  });

  it('checks fields inside typed Any configs', () => {
    const listener = buildListener(model().listener) as { filter_chains: Array<{ filters: Array<{ typed_config: object }> }> };
    listener.filter_chains[0].filters[0].typed_config = {
      ...listener.filter_chains[0].filters[0].typed_config,
      idle_timeout_ms: 5,
    };
    expect(() => buildSnapshot({ ...buildResources(model()), listeners: [listener as object] })).toThrow(/<TcpProxy>\.idle_timeout_ms/);
  });
});
