// SNI tenants on the WebSocket listener through the real Envoy: an mqtt.js client over wss
// that names a tenant gets the tenant's certificate and reaches only the tenant's pool on
// the brokers' WebSocket ports; the tenant's connection limit holds there too; a name no
// tenant has gets the listener's own certificate and every broker.
import { X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tls from 'node:tls';
import mqtt from 'mqtt';
import { withOverrides } from '../../src/config';
import type { ControlPlane } from '../../src/main';
import { freePort, startBrokers, startEnvoy, stopBrokers, untilHealthy, waitFor, type EnvoyHandle, type TestBroker } from '../support';
import { TestCa, type Pem } from '../support/certs';
import { planeConfig, startPlane, writeBrokersFile } from './plane';

const ACME = 'mqtt.acme.test';
const BETA = 'mqtt.beta.test';
const DEFAULT = 'mqtt.test';

describe.each(['sotw', 'delta'] as const)('SNI tenants on the WebSocket listener (real Envoy, mqtt.js over wss, %s)', (mode) => {
  const ca = new TestCa('mqtt-xds websocket tenants test CA');
  const pem = (name: string): Pem => ca.issue(name, { commonName: name, san: [`DNS:${name}`] });
  const listener = pem(DEFAULT);
  const acme = pem(ACME);
  const beta = pem(BETA);
  let brokers: TestBroker[];
  let plane: ControlPlane;
  let envoy: EnvoyHandle;
  let wsPort: number;
  let mqttPort: number;
  const clients: mqtt.MqttClient[] = [];

  /** An mqtt.js client over wss naming `servername`, verifying the certificate against that name. */
  const connect = (id: string, servername: string): Promise<mqtt.MqttClient> =>
    new Promise((resolve, reject) => {
      const c = mqtt.connect(`wss://127.0.0.1:${wsPort}/mqtt`, {
        clientId: id,
        reconnectPeriod: 0,
        connectTimeout: 10_000,
        ca: ca.ca.cert,
        rejectUnauthorized: true,
        wsOptions: { servername } as unknown as mqtt.IClientOptions['wsOptions'],
      });
      c.once('connect', () => {
        clients.push(c);
        resolve(c);
      });
      c.once('error', (err) => {
        c.end(true);
        reject(err);
      });
      c.once('close', () => reject(new Error(`${id}: closed before CONNACK`)));
    });
  /** The serial Envoy presents for this SNI, on the ws listener unless another port is given. */
  const presented = (servername: string, port = wsPort): Promise<string> =>
    new Promise((resolve) => {
      const checkServerIdentity = (): undefined => undefined;
      const s = tls.connect({ host: '127.0.0.1', port, ca: ca.ca.cert, servername, checkServerIdentity }, () => {
        const serial = s.getPeerCertificate().serialNumber;
        s.destroy();
        resolve(serial);
      });
      s.on('error', (err: NodeJS.ErrnoException) => resolve(`error ${err.code ?? err.message}`));
    });
  const serialOf = (p: Pem): string => new X509Certificate(p.cert).serialNumber;
  const counts = (): number[] => brokers.map((b) => b.clientCount());

  beforeAll(async () => {
    brokers = await startBrokers(3);
    const setup = await planeConfig();
    writeBrokersFile(
      setup.brokersFile,
      brokers.map((broker) => ({ broker, weight: 1, websocket: true })),
    );
    const policyFile = path.join(setup.dir, 'policy.yaml');
    fs.writeFileSync(
      policyFile,
      'unknownServerName: default\ntenants:\n' +
        `  acme:\n    serverNames: [${ACME}]\n    certFile: ${acme.certFile}\n    keyFile: ${acme.keyFile}\n` +
        `    brokers: [${brokers[0].name}]\n    maxConnections: 5\n` +
        `  beta:\n    serverNames: [${BETA}]\n    certFile: ${beta.certFile}\n    keyFile: ${beta.keyFile}\n` +
        `    brokers: [${brokers[1].name}, ${brokers[2].name}]\n`,
    );
    const config = withOverrides(setup.config, {
      balancing: { mode: 'static', policyFile },
      listener: { websocketPort: await freePort(), tls: { certFile: listener.certFile, keyFile: listener.keyFile } },
    });
    wsPort = config.listener.websocketPort;
    mqttPort = config.listener.port;
    ({ plane } = await startPlane(config));
    envoy = await startEnvoy({ mode, xdsPort: config.xds.port, waitReady: 'live' });
    await untilHealthy(envoy, 3, 'three healthy WebSocket hosts', 30_000, 'mqtt_brokers_ws');
    await untilHealthy(envoy, 1, "acme's WebSocket pool healthy", 30_000, 'mqtt_brokers_ws.acme');
    await untilHealthy(envoy, 2, "beta's WebSocket pool healthy", 30_000, 'mqtt_brokers_ws.beta');
  });

  afterAll(async () => {
    for (const c of clients) c.end(true);
    await envoy?.stop();
    await plane?.stop();
    await stopBrokers(brokers ?? []);
  });

  it("presents each tenant's certificate on the ws listener by SNI, and the listener's own to other names", async () => {
    expect(await presented(ACME)).toBe(serialOf(acme));
    expect(await presented(BETA)).toBe(serialOf(beta));
    expect(await presented(DEFAULT)).toBe(serialOf(listener));
  });

  it("sends a tenant's wss clients to its pool only, and MQTT works end to end", async () => {
    let before = counts();
    for (let i = 0; i < 4; i++) await connect(`acme-${mode}-${i}`, ACME);
    await waitFor(() => counts()[0] - before[0] === 4, { timeoutMs: 10_000, what: "acme's 4 clients on acme's broker" });
    expect(counts().slice(1)).toEqual(before.slice(1));

    before = counts();
    for (let i = 0; i < 10; i++) await connect(`beta-${mode}-${i}`, BETA);
    await waitFor(() => counts()[1] + counts()[2] - before[1] - before[2] === 10, {
      timeoutMs: 10_000,
      what: "beta's 10 clients on beta's two brokers",
    });
    expect(counts()[0]).toBe(before[0]);
    expect(counts()[1]).toBeGreaterThan(before[1]);
    expect(counts()[2]).toBeGreaterThan(before[2]);

    const sub = clients[0];
    const got = new Promise<string>((resolve) => sub.once('message', (_t, m) => resolve(String(m))));
    await new Promise<void>((resolve, reject) => sub.subscribe(`wst/${mode}`, { qos: 1 }, (err) => (err ? reject(err) : resolve())));
    clients[1].publish(`wst/${mode}`, 'tenant over wss', { qos: 1 });
    expect(await got).toBe('tenant over wss');
  });

  it("holds the tenant's maxConnections on the ws listener: the 6th acme client is closed", async () => {
    await connect(`acme-${mode}-4`, ACME);
    await expect(connect(`acme-${mode}-5`, ACME)).rejects.toThrow();
    // A name no tenant has is not limited by acme's limit, and reaches the default chain.
    await connect(`default-${mode}`, DEFAULT);
    expect(clients.filter((c) => c.connected)).toHaveLength(16);
  });

  it("rotates a tenant's certificate on both listeners at once, and its wss clients stay connected", async () => {
    // acme is at its limit of 5 on the ws listener: one leaves, so a handshake can get in.
    await clients[0].endAsync();
    const open = clients.filter((c) => c.connected).length;
    const next = ca.issue(`${ACME}-next-${mode}`, { commonName: ACME, san: [`DNS:${ACME}`] });
    // The tenant's files, rewritten in place (the key first): one SDS Secret serves both listeners.
    fs.writeFileSync(acme.keyFile, next.key);
    fs.writeFileSync(acme.certFile, next.cert);
    await waitFor(async () => (await presented(ACME)) === serialOf(next), { timeoutMs: 20_000, what: 'the new serial on the ws listener' });
    expect(await presented(ACME, mqttPort)).toBe(serialOf(next));
    expect(clients.filter((c) => c.connected)).toHaveLength(open);
  });
});
