import type { HealthCheck } from '../generated/envoy/config/core/v3/HealthCheck';
import type { HealthCheckModel } from './model';
import { durationMs } from './any';

/**
 * MQTT 3.1.1 CONNECT: clean session, keep-alive 60 s and an empty client id. An empty id
 * lets the broker assign one, so checks from many Envoys never take over each other's
 * sessions on a clustered broker.
 */
export const MQTT_CONNECT_HEX = '100c00044d5154540402003c0000';
/** CONNACK, session-present 0, return code 0 (accepted). */
export const MQTT_CONNACK_OK_HEX = '20020000';

/**
 * A TCP health check that speaks MQTT: a broker that accepts TCP but refuses or cannot
 * serve MQTT sessions is marked unhealthy. reuse_connection is off so each probe is a
 * full CONNECT handshake, as a reconnecting client would experience it. no_traffic_interval
 * is the interval too: Envoy's default (60 s) applies while the cluster carries no new
 * traffic, and a broker killed then stayed routable for 25 s in the benchmark.
 */
export function buildMqttHealthCheck(m: HealthCheckModel): HealthCheck {
  return {
    timeout: durationMs(m.timeoutMs),
    interval: durationMs(m.intervalMs),
    no_traffic_interval: durationMs(m.intervalMs),
    unhealthy_threshold: { value: m.unhealthyThreshold },
    healthy_threshold: { value: m.healthyThreshold },
    reuse_connection: { value: false },
    // A WebSocket port would answer an MQTT CONNECT with an HTTP error: there, connecting is the check.
    tcp_health_check:
      m.kind === 'tcp'
        ? {}
        : {
            send: { text: MQTT_CONNECT_HEX },
            receive: [{ text: MQTT_CONNACK_OK_HEX }],
          },
  };
}
