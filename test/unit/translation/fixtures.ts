import type { WeightPlan } from '../../../src/domain';
import type { ProxyModel } from '../../../src/translation';

export const plan: WeightPlan = {
  endpoints: [
    { name: 'broker-a', address: '10.0.0.1', port: 1883, weight: 1, health: 'serving' },
    { name: 'broker-b', address: '10.0.0.2', port: 1883, weight: 2, health: 'serving' },
    { name: 'broker-c', address: '10.0.0.3', port: 1884, weight: 5, health: 'draining' },
  ],
};

export function model(overrides: Partial<ProxyModel> = {}): ProxyModel {
  return {
    listener: { name: 'mqtt', address: '0.0.0.0', port: 1883, maxKeepAliveSec: 3600, clusterName: 'mqtt_brokers' },
    cluster: {
      name: 'mqtt_brokers',
      connectTimeoutMs: 5000,
      maxConnections: 1_000_000,
      perHostMaxConnections: 250_000,
      updateMergeWindowMs: 0,
      lbPolicy: 'ROUND_ROBIN',
      healthCheck: { intervalMs: 5000, timeoutMs: 2000, unhealthyThreshold: 3, healthyThreshold: 2 },
    },
    plan,
    ...overrides,
  };
}
