// MQTT over WebSockets through the real Envoy: a second listener (listener.websocketPort)
// proxies to each broker's own WebSocket port with the same weights and drains as the MQTT
// listener; ws in one mode, wss (the listener's certificate over SDS) in the other.
import mqtt from 'mqtt';
import { withOverrides } from '../../src/config';
import type { ControlPlane } from '../../src/main';
import type { EnvoyViewStatus } from '../../src/runners';
import { freePort, startBrokers, startEnvoy, stopBrokers, untilHealthy, waitFor, type EnvoyHandle, type TestBroker } from '../support';
import { TestCa } from '../support/certs';
import { planeConfig, startPlane, writeBrokersFile } from './plane';

const SERVER_NAME = 'mqtt.test';

describe.each([
  ['sotw', 'ws'],
  ['delta', 'wss'],
] as const)('MQTT over WebSockets (%s, %s)', (mode, scheme) => {
  let brokers: TestBroker[];
  let plane: ControlPlane;
  let envoy: EnvoyHandle;
  let wsPort: number;
  let adminPort: number;
  let brokersFile: string;
  const ca = new TestCa('mqtt-xds websocket test CA');
  const clients: mqtt.MqttClient[] = [];

  const writeBrokers = (weights: readonly number[], draining: readonly boolean[] = []): void =>
    writeBrokersFile(
      brokersFile,
      brokers.map((broker, i) => ({ broker, weight: weights[i], draining: draining[i], websocket: true })),
    );
  const connect = (id: string): Promise<mqtt.MqttClient> =>
    new Promise((resolve, reject) => {
      const c = mqtt.connect(`${scheme}://127.0.0.1:${wsPort}/mqtt`, {
        clientId: id,
        reconnectPeriod: 0,
        connectTimeout: 10_000,
        // wss: the CA to trust, and the name to verify (the socket goes to 127.0.0.1).
        ...(scheme === 'wss'
          ? {
              ca: ca.ca.cert,
              rejectUnauthorized: true,
              wsOptions: { servername: SERVER_NAME } as unknown as mqtt.IClientOptions['wsOptions'],
            }
          : {}),
      });
      c.once('connect', () => {
        clients.push(c);
        resolve(c);
      });
      c.once('error', reject);
      c.once('close', () => reject(new Error(`${id}: closed before CONNACK`)));
    });
  const hostWeights = async (): Promise<Map<number, number>> =>
    new Map((await envoy.clusterHosts('mqtt_brokers_ws')).map((h) => [h.port, h.weight]));

  beforeAll(async () => {
    brokers = await startBrokers(2);
    const setup = await planeConfig();
    brokersFile = setup.brokersFile;
    writeBrokers([1, 3]);
    const server = ca.issue('server', { commonName: SERVER_NAME, san: [`DNS:${SERVER_NAME}`] });
    const config = withOverrides(setup.config, {
      balancing: { mode: 'static' },
      listener: {
        websocketPort: await freePort(),
        ...(scheme === 'wss' ? { tls: { certFile: server.certFile, keyFile: server.keyFile } } : {}),
      },
    });
    wsPort = config.listener.websocketPort;
    adminPort = config.admin.port;
    ({ plane } = await startPlane(config));
    envoy = await startEnvoy({ mode, xdsPort: config.xds.port, waitReady: 'live' });
    await untilHealthy(envoy, 2, 'two healthy brokers');
    await untilHealthy(envoy, 2, 'two healthy WebSocket hosts', 30_000, 'mqtt_brokers_ws');
  });

  afterAll(async () => {
    for (const c of clients) c.end(true);
    await envoy?.stop();
    await plane?.stop();
    await stopBrokers(brokers ?? []);
  });

  it("sends clients to the brokers' WebSocket ports with the brokers' weights, and MQTT works end to end", async () => {
    const weights = await hostWeights();
    expect([weights.get(brokers[0].websocketPort), weights.get(brokers[1].websocketPort)]).toEqual([1, 3]);
    // Clients connected now, not connections counted: the MQTT health checks connect too.
    for (let i = 0; i < 40; i++) await connect(`ws-${mode}-${i}`);
    // Weighted round robin over 1:3: 10 and 30.
    await waitFor(() => brokers[0].clientCount() === 10 && brokers[1].clientCount() === 30, {
      timeoutMs: 10_000,
      what: 'the brokers to hold 10 and 30 WebSocket clients',
    });
    const [sub] = clients;
    const got = new Promise<string>((resolve) => sub.once('message', (_t, m) => resolve(String(m))));
    await new Promise<void>((resolve, reject) => sub.subscribe(`ws/${mode}/echo`, { qos: 1 }, (err) => (err ? reject(err) : resolve())));
    sub.publish(`ws/${mode}/echo`, 'over websockets', { qos: 1 });
    expect(await got).toBe('over websockets');
  });

  it("counts the WebSocket clients in the Envoy view as their brokers' connections", async () => {
    // The brokers' pages count them; a view of the MQTT cluster alone would call every page a liar.
    const seen = await waitFor(
      async () => {
        const { envoyView } = (await (await fetch(`http://127.0.0.1:${adminPort}/status`)).json()) as { envoyView: EnvoyViewStatus };
        const n = brokers.map((b) => envoyView.brokers[b.name]?.connections);
        return n[0] === 10 && n[1] === 30 && envoyView;
      },
      { timeoutMs: 15_000, intervalMs: 200, what: 'the Envoy view to show 10 and 30 WebSocket connections' },
    );
    expect(seen.unknownEndpoints).toBe(0);
  });

  it('follows a drain: a draining broker gets no new WebSocket client and keeps its own', async () => {
    const open = clients.length;
    writeBrokers([1, 3], [false, true]);
    await waitFor(
      async () => (await envoy.clusterHosts('mqtt_brokers_ws')).some((h) => h.port === brokers[1].websocketPort && !h.healthy),
      {
        timeoutMs: 15_000,
        what: 'the draining broker out of the WebSocket pick set',
      },
    );
    for (let i = 0; i < 10; i++) await connect(`ws-drain-${mode}-${i}`);
    await waitFor(() => brokers[0].clientCount() === 20 && brokers[1].clientCount() === 30, {
      timeoutMs: 10_000,
      what: 'the ten new clients on the broker not draining, the draining one keeping its 30',
    });
    expect(clients.filter((c) => c.connected)).toHaveLength(open + 10);
  });
});
