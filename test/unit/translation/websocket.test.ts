import { defaultConfig, defaultPolicy, withOverrides } from '../../../src/config';
import { ModelBuilder } from '../../../src/publishing';
import { buildResources, validateResources } from '../../../src/translation';
import { createLogger } from '../../../src/util/log';
import type { WeightPlan } from '../../../src/domain';

const plan = (withWs: boolean): WeightPlan => ({
  endpoints: [
    { name: 'a', address: '10.0.0.1', port: 1883, ...(withWs ? { websocketPort: 8000 } : {}), weight: 1, health: 'serving' },
    { name: 'b', address: '10.0.0.2', port: 1883, weight: 3, health: 'draining' },
  ],
});

function builder(websocketPort: number, lines: string[] = []) {
  const config = withOverrides(defaultConfig('/tmp'), { listener: { websocketPort } });
  const logger = createLogger('warn', {}, (l) => lines.push(l));
  return new ModelBuilder({ config, policy: () => defaultPolicy(), logger });
}

describe("MQTT over WebSockets: a second listener and cluster on the brokers' websocket ports", () => {
  it('builds mqtt_ws → mqtt_brokers_ws with the same weights and drains, brokers without a websocket port left out, checked by TCP connect', () => {
    const set = buildResources(builder(8080).build(plan(true)));
    expect(set.listeners.map((l) => [l.name, l.address?.socket_address?.port_value])).toEqual([
      ['mqtt', 1883],
      ['mqtt_ws', 8080],
    ]);
    expect(set.clusters.map((c) => c.name)).toEqual(['mqtt_brokers', 'mqtt_brokers_ws']);
    const ws = set.endpoints.find((e) => e.cluster_name === 'mqtt_brokers_ws')!;
    expect(
      ws.endpoints?.[0].lb_endpoints?.map((e) => [e.endpoint?.address?.socket_address?.port_value, e.load_balancing_weight?.value]),
    ).toEqual([[8000, 1]]);
    expect(set.clusters[1].health_checks?.[0].tcp_health_check).toEqual({});
    expect(set.clusters[0].health_checks?.[0].tcp_health_check?.send).toBeDefined();
    expect(set.extensionConfigs.map((x) => x.name)).toEqual([
      'mqtt.connect_rate_limit',
      'mqtt.tcp_proxy',
      'mqtt_ws.connect_rate_limit',
      'mqtt_ws.tcp_proxy',
    ]);
    expect(validateResources(set)).toEqual([]);
  });

  it('keeps draining brokers DRAINING on the WebSocket cluster too', () => {
    const p: WeightPlan = { endpoints: plan(true).endpoints.map((e) => ({ ...e, websocketPort: 8000 })) };
    const ws = buildResources(builder(8080).build(p)).endpoints[1];
    expect(ws.endpoints?.[0].lb_endpoints?.map((e) => e.health_status)).toEqual(['UNKNOWN', 'DRAINING']);
  });

  it('has no WebSocket listener when off, or when no broker has a websocket port (said once)', () => {
    expect(buildResources(builder(0).build(plan(true))).listeners).toHaveLength(1);
    const lines: string[] = [];
    const b = builder(8080, lines);
    expect(buildResources(b.build(plan(false))).listeners).toHaveLength(1);
    b.build(plan(false));
    expect(lines.filter((l) => l.includes('no broker has a websocketPort'))).toHaveLength(1);
  });
});
