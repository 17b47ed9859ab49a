import type { WeightPlan } from '../../../src/domain';
import { buildResources, type ProxyModel } from '../../../src/translation';
import { SnapshotCache, type Snapshot } from '../../../src/xds';

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

/** A private key that must never appear in a dump. */
export const DUMP_KEY = '-----BEGIN PRIVATE KEY-----\nsecret\n-----END PRIVATE KEY-----\n';

/** A snapshot of the fixture model with a TLS listener whose Secret carries DUMP_KEY. */
export function snapshotWithSecret(): Snapshot {
  const m = model();
  const cache = new SnapshotCache();
  const r = cache.publish(
    buildResources({
      ...m,
      listener: { ...m.listener, tls: { secretName: 'mqtt.server_certificate', minVersion: 'TLSv1_2' as const } },
      certificates: [{ name: 'mqtt.server_certificate', certificateChain: 'chain', privateKey: DUMP_KEY }],
    }),
  );
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.value.snapshot;
}
