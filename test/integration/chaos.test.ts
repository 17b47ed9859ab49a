// The chaos suite: a counted list of faults, injected one after another into one running
// system (the control plane, a real Envoy, real MQTT brokers and clients), each with its
// asserted outcome. docs/reliability.md lists these faults beside those other suites
// assert (control plane SIGKILL, API server restart, agent failures).
import * as fs from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { withOverrides } from '../../src/config';
import type { ControlPlane } from '../../src/main';
import { CLUSTER, ENDPOINT, LISTENER } from '../../src/xds';
import { envoyApiRoot } from '../../src/xds/protos';
import {
  connectClients,
  startBrokers,
  startEnvoy,
  stopBrokers,
  tryConnectClients,
  waitFor,
  type ClientPool,
  type EnvoyHandle,
  type TestBroker,
  untilHealthy,
} from '../support';
import { MetricsServer, page } from '../unit/scraping/metrics-server';
import { planeConfig, startPlane } from './plane';

const hivemqPage = (connections: number, overload = 0): string =>
  [
    '# TYPE com_hivemq_networking_connections_current gauge',
    `com_hivemq_networking_connections_current ${connections}`,
    '# TYPE com_hivemq_overload_protection_level gauge',
    `com_hivemq_overload_protection_level ${overload}`,
    '',
  ].join('\n');

describe.each(['sotw', 'delta'] as const)('chaos: faults injected into a running system (%s)', (mode) => {
  let brokers: TestBroker[];
  let metrics: MetricsServer;
  let plane: ControlPlane;
  let envoy: EnvoyHandle;
  let mqttPort: number;
  let xdsPort: number;
  let pool: ClientPool;
  const overload = [0, 0, 0];
  let hang = false;
  // A killed broker's metrics page dies with it.
  const dead = [false, false, false];
  const grpcClients: grpc.Client[] = [];

  const hosts = async () => new Map((await envoy.clusterHosts('mqtt_brokers')).map((h) => [h.port, h]));

  beforeAll(async () => {
    brokers = await startBrokers(3);
    metrics = new MetricsServer();
    for (const [i] of brokers.entries()) {
      metrics.route(`/m${i}`, (req, res) => {
        // A broker too busy to answer: the request hangs until the scraper gives up.
        if (i === 0 && hang) return;
        if (dead[i]) {
          res.writeHead(503).end();
          return;
        }
        page(() => hivemqPage(10, overload[i]))(req, res);
      });
    }
    await metrics.start();
    const setup = await planeConfig();
    fs.writeFileSync(
      setup.brokersFile,
      'brokers:\n' +
        brokers
          .map((b, i) => `  - name: ${b.name}\n    host: 127.0.0.1\n    port: ${b.port}\n    metricsUrl: ${metrics.url(`/m${i}`)}\n`)
          .join(''),
    );
    const config = withOverrides(setup.config, {
      balancing: { mode: 'metrics', minPushIntervalMs: 300 },
      scrape: { intervalMs: 300, timeoutMs: 250 },
    });
    mqttPort = config.listener.port;
    xdsPort = config.xds.port;
    ({ plane } = await startPlane(config));
    envoy = await startEnvoy({ mode, xdsPort, waitReady: 'live' });
    await untilHealthy(envoy, 3, 'three healthy brokers');
    pool = await connectClients({ host: '127.0.0.1', port: mqttPort, count: 60, prefix: `chaos-${mode}` });
  });

  afterAll(async () => {
    await pool?.endAll();
    for (const c of grpcClients) c.close();
    await envoy?.stop();
    await plane?.stop();
    await metrics?.close();
    await stopBrokers(brokers ?? []);
  });

  it("fault 1, a metrics page that hangs: the other brokers' weights still follow their metrics", async () => {
    hang = true;
    // Level 8, a severe overload: the damped controller holds a broker at level 1-4 to its fair share only.
    overload[1] = 8;
    await waitFor(
      async () => {
        const h = await hosts();
        const w1 = h.get(brokers[1].port)?.weight ?? 0;
        const w2 = h.get(brokers[2].port)?.weight ?? 0;
        return w1 > 0 && w1 * 10 < w2;
      },
      { timeoutMs: 20_000, what: "the overloaded broker cut in Envoy while another broker's page hangs" },
    );
    overload[1] = 0;
    hang = false;
    expect(pool.closed()).toBe(0);
  });

  it('fault 2, xDS clients that never ACK and reconnect in a storm: the real Envoy still gets every change', async () => {
    const req = envoyApiRoot().lookupType('envoy.service.discovery.v3.DiscoveryRequest');
    const client = new grpc.Client(`127.0.0.1:${xdsPort}`, grpc.credentials.createInsecure());
    grpcClients.push(client);
    const streams: grpc.ClientDuplexStream<Buffer, Buffer>[] = [];
    for (let round = 0; round < 3; round++) {
      for (const s of streams.splice(0)) s.cancel();
      for (let i = 0; i < 100; i++) {
        const s = client.makeBidiStreamRequest(
          '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources',
          (b: Buffer) => b,
          (b: Buffer) => b,
        );
        s.on('data', () => undefined);
        s.on('error', () => undefined);
        // Subscribes to everything and never ACKs what it gets.
        for (const type_url of [CLUSTER, ENDPOINT, LISTENER]) {
          s.write(
            Buffer.from(
              req
                .encode(
                  req.fromObject({
                    node: { id: `silent-${round}-${i}` },
                    type_url,
                    resource_names: type_url === ENDPOINT ? ['mqtt_brokers'] : [],
                  }),
                )
                .finish(),
            ),
          );
        }
        streams.push(s);
      }
    }
    overload[2] = 8;
    await waitFor(
      async () => {
        const h = await hosts();
        return (h.get(brokers[2].port)?.weight ?? 0) * 10 < (h.get(brokers[0].port)?.weight ?? 0);
      },
      { timeoutMs: 20_000, what: 'a weight change to reach the real Envoy past 100 silent streams' },
    );
    overload[2] = 0;
    for (const s of streams) s.cancel();
    expect(pool.closed()).toBe(0);
  });

  it('fault 3, a broker killed: only its own clients lose their connection, and new clients connect elsewhere', async () => {
    const onVictim = brokers[2].clientCount();
    await brokers[2].kill();
    dead[2] = true;
    await waitFor(async () => (await hosts()).get(brokers[2].port)?.healthy === false, {
      timeoutMs: 20_000,
      what: 'Envoy to mark the killed broker unhealthy',
    });
    await waitFor(() => pool.closed() >= onVictim, { timeoutMs: 10_000, what: "the killed broker's clients to see their connection end" });
    expect(pool.closed()).toBe(onVictim);
    // The moment Envoy shows the broker failed, its workers must have stopped picking it too
    // (cluster.updateMergeWindowMs 0: Envoy's default held that change up to a second).
    const fresh = await tryConnectClients({ host: '127.0.0.1', port: mqttPort, count: 20, prefix: `after-kill-${mode}` });
    expect({ refused: fresh.refused, reasons: fresh.reasons }).toEqual({ refused: 0, reasons: [] });
    await fresh.pool.endAll();
  });
});
