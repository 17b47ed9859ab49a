// Shared by the sticky-placement suites that run capacity test brokers behind the real Envoy
// (mqtt-sticky-hold, mqtt-sticky-rebalance): waiting for the sticky cluster, and placing ids.
import { connectClient, waitFor, type EnvoyHandle } from '../support';
import type { LaunchedBroker } from '../tools/testbroker/launch';

/** `brokers` healthy hosts in `cluster`, the cluster as MAGLEV, and the MQTT listener up. */
export async function untilStickyReady(envoy: EnvoyHandle, cluster: string, brokers: number, mqttPort: number): Promise<void> {
  await waitFor(async () => (await envoy.clusterHosts(cluster)).filter((x) => x.healthy).length === brokers, {
    timeoutMs: 30_000,
    what: `${brokers} healthy brokers in Envoy`,
  });
  await waitFor(
    async () =>
      (await envoy.getJson('/config_dump?resource=dynamic_active_clusters')).configs?.some(
        (c: any) => c.cluster?.name === cluster && c.cluster?.lb_policy === 'MAGLEV',
      ),
    { timeoutMs: 30_000, what: 'the broker cluster as MAGLEV' },
  );
  await waitFor(() => envoy.listenerReady(mqttPort), { timeoutMs: 30_000, what: 'the MQTT listener' });
}

/**
 * Each id connects alone (Envoy holds no other broker connection, so bounded load sees no
 * load and the table decides), and the broker that lists it is where it was placed.
 */
export async function placeAlone(
  envoy: EnvoyHandle,
  cluster: string,
  brokers: readonly LaunchedBroker[],
  mqttPort: number,
  ids: readonly string[],
): Promise<Map<string, string>> {
  const placed = new Map<string, string>();
  for (const id of ids) {
    await waitFor(async () => (await envoy.clusterHosts(cluster)).every((h) => h.cxActive === 0), {
      timeoutMs: 15_000,
      intervalMs: 10,
      what: `no connection through Envoy before ${id}`,
    });
    const client = await connectClient(mqttPort, id);
    let on: string[] = [];
    await waitFor(
      async () => {
        on = (await Promise.all(brokers.map(async (b) => ((await b.clients()).some((c) => c.clientId === id) ? [b.name] : [])))).flat();
        return on.length > 0;
      },
      { timeoutMs: 10_000, intervalMs: 10, what: `the broker that took ${id}` },
    );
    expect(on).toHaveLength(1);
    placed.set(id, on[0]);
    await client.endAsync();
  }
  return placed;
}
