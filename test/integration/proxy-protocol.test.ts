// The PROXY protocol towards the brokers through the real Envoy: capacity test brokers that
// require a PROXY header (--proxy-protocol required) behind an mTLS listener with one SNI
// tenant. A real MQTT client's address and port, a static TLV, the SNI, the client
// certificate's subject, the tenant's name and the tenant's own TLVs (literal, and a client value) arrive in the v2 header; health checks
// (v2 LOCAL headers) keep the brokers healthy.
import * as fs from 'node:fs';
import * as path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { withOverrides } from '../../src/config';
import type { ControlPlane } from '../../src/main';
import { startEnvoy, untilHealthy, waitFor, type EnvoyHandle } from '../support';
import { TestCa, type Pem } from '../support/certs';
import { launchCapacityBroker, type LaunchedBroker } from '../tools/testbroker/launch';
import type { ProxyConnectionRecord } from '../tools/testbroker';
import { planeConfig, startPlane } from './plane';

const TLVS = '0xE0=edge-test,0xE1=%REQUESTED_SERVER_NAME%,0xE2=%DOWNSTREAM_PEER_SUBJECT%,0xE3=%TENANT%';

describe('PROXY protocol v2 with TLVs towards the brokers (real Envoy)', () => {
  const ca = new TestCa('mqtt-xds proxy protocol test CA');
  const listenerPem = ca.issue('mqtt.test', { commonName: 'mqtt.test', san: ['DNS:mqtt.test'] });
  const acmePem = ca.issue('mqtt.acme.test', { commonName: 'mqtt.acme.test', san: ['DNS:mqtt.acme.test'] });
  const device = ca.issue('device-7', { commonName: 'device-7', usage: 'client', san: ['URI:urn:device:7'] });
  let shared: LaunchedBroker;
  let acme: LaunchedBroker;
  let plane: ControlPlane;
  let envoy: EnvoyHandle;
  let mqttPort: number;
  const clients: MqttClient[] = [];

  /** A real MQTT client over mTLS; resolves with its local TCP port once CONNACK arrived. */
  const connect = (clientId: string, servername: string, cert: Pem): Promise<number> =>
    new Promise((resolve, reject) => {
      const client = mqtt.connect({
        protocol: 'mqtts',
        host: '127.0.0.1',
        port: mqttPort,
        servername,
        ca: ca.ca.cert,
        cert: cert.cert,
        key: cert.key,
        rejectUnauthorized: true,
        clientId,
        protocolVersion: 4,
        reconnectPeriod: 0,
        connectTimeout: 10_000,
      });
      clients.push(client);
      client.once('connect', () => resolve((client.stream as unknown as { localPort: number }).localPort));
      client.once('error', reject);
      client.once('close', () => reject(new Error(`${clientId}: closed before CONNACK`)));
    });
  /** The header of the client's connection, from whichever of `brokers` it reached. */
  const recordOf = async (brokers: LaunchedBroker[], clientId: string): Promise<ProxyConnectionRecord> => {
    let record: ProxyConnectionRecord | undefined;
    await waitFor(
      async () => {
        const reports = await Promise.all(brokers.map((b) => b.proxy({ clientId })));
        record = reports.flatMap((r) => r.connections)[0];
        return record !== undefined;
      },
      { timeoutMs: 5000, what: `the broker to record ${clientId}'s header` },
    );
    return record as ProxyConnectionRecord;
  };
  const custom = (r: ProxyConnectionRecord): Record<number, string> =>
    Object.fromEntries((r.tlvs?.custom ?? []).map((t) => [t.type, t.utf8]));

  beforeAll(async () => {
    [shared, acme] = await Promise.all([
      launchCapacityBroker({ name: 'pp-shared', capacity: 1000, proxyProtocol: 'required' }),
      launchCapacityBroker({ name: 'pp-acme', capacity: 1000, proxyProtocol: 'required' }),
    ]);
    const setup = await planeConfig();
    fs.writeFileSync(
      setup.brokersFile,
      'brokers:\n' + [shared, acme].map((b) => `  - name: ${b.name}\n    host: 127.0.0.1\n    port: ${b.port}\n`).join(''),
    );
    const policyFile = path.join(setup.dir, 'policy.yaml');
    fs.writeFileSync(
      policyFile,
      'unknownServerName: default\ntenants:\n  acme:\n    serverNames: [mqtt.acme.test]\n' +
        `    certFile: ${acmePem.certFile}\n    keyFile: ${acmePem.keyFile}\n    clientCaFile: ${ca.ca.certFile}\n` +
        `    brokers: [${acme.name}]\n    proxyTlvs: ["0xE5=gold", "0xE0=edge-acme", "0xE6=%DOWNSTREAM_PEER_URI_SAN%"]\n`,
    );
    const config = withOverrides(setup.config, {
      balancing: { mode: 'static', policyFile },
      listener: { tls: { certFile: listenerPem.certFile, keyFile: listenerPem.keyFile, clientCaFile: ca.ca.certFile } },
      cluster: { proxyProtocol: { version: 'v2', tlvs: TLVS } },
    });
    mqttPort = config.listener.port;
    ({ plane } = await startPlane(config));
    envoy = await startEnvoy({ mode: 'sotw', xdsPort: config.xds.port, waitReady: 'live' });
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
    await envoy?.stop();
    await plane?.stop();
    await Promise.all([shared?.stop(), acme?.stop()]);
  });

  it('keeps brokers that require the header healthy: health checks send a v2 LOCAL header', async () => {
    await untilHealthy(envoy, 2, 'both brokers healthy');
    await untilHealthy(envoy, 1, 'the acme pool healthy', undefined, 'mqtt_brokers.acme');
    for (const broker of [shared, acme]) {
      const report = await broker.proxy({ limit: 1 });
      expect(report.counts.refusedTotal).toBe(0);
      expect(report.counts.local).toBeGreaterThan(0);
      expect(report.connections[0]).toMatchObject({ version: 2, command: 'local', family: 'unspec', source: null });
    }
  });

  it("gives a tenant's broker the client's address and port, the static TLV, the SNI, the certificate subject, the tenant and its own TLVs", async () => {
    const port = await connect('pp-acme-1', 'mqtt.acme.test', device);
    const r = await recordOf([acme], 'pp-acme-1');
    expect(r).toMatchObject({ version: 2, command: 'proxy', family: 'inet4', transport: 'stream' });
    expect(r.source).toEqual({ address: '127.0.0.1', port });
    expect(r.destination).toEqual({ address: '127.0.0.1', port: mqttPort });
    // The tenant's own 0xE0 replaces the setting's; its 0xE5 is added, and its 0xE6 is the
    // client certificate's URI SAN, a client value the setting does not read.
    expect(custom(r)).toEqual({
      0xe0: 'edge-acme',
      0xe1: 'mqtt.acme.test',
      0xe2: 'CN=device-7',
      0xe3: 'acme',
      0xe5: 'gold',
      0xe6: 'urn:device:7',
    });
  });

  it('leaves the tenant TLV out for a client of the default chain', async () => {
    const port = await connect('pp-default-1', 'mqtt.test', device);
    // The default chain's cluster holds every broker.
    const r = await recordOf([shared, acme], 'pp-default-1');
    expect(r.source).toEqual({ address: '127.0.0.1', port });
    expect(custom(r)).toEqual({ 0xe0: 'edge-test', 0xe1: 'mqtt.test', 0xe2: 'CN=device-7' });
    for (const broker of [shared, acme]) expect((await broker.proxy()).counts.refusedTotal).toBe(0);
  });
});

describe('PROXY protocol v1 towards the brokers (real Envoy)', () => {
  let broker: LaunchedBroker;
  let plane: ControlPlane;
  let envoy: EnvoyHandle;
  let client: MqttClient | undefined;

  beforeAll(async () => {
    broker = await launchCapacityBroker({ name: 'pp-v1', capacity: 1000, proxyProtocol: 'required' });
    const setup = await planeConfig();
    fs.writeFileSync(setup.brokersFile, `brokers:\n  - name: ${broker.name}\n    host: 127.0.0.1\n    port: ${broker.port}\n`);
    const config = withOverrides(setup.config, { balancing: { mode: 'static' }, cluster: { proxyProtocol: { version: 'v1', tlvs: '' } } });
    ({ plane } = await startPlane(config));
    envoy = await startEnvoy({ mode: 'delta', xdsPort: config.xds.port, waitReady: 'live' });
    await untilHealthy(envoy, 1, 'the v1 broker healthy');
    client = await mqtt.connectAsync({
      host: '127.0.0.1',
      port: config.listener.port,
      clientId: 'pp-v1-1',
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
  });

  afterAll(async () => {
    await client?.endAsync(true).catch(() => undefined);
    await envoy?.stop();
    await plane?.stop();
    await broker?.stop();
  });

  it("sends the client's address in a v1 header; health checks, naming Envoy's own connection, pass against a broker that requires one", async () => {
    const localPort = (client?.stream as unknown as { localPort: number }).localPort;
    const record = (await broker.proxy({ clientId: 'pp-v1-1' })).connections[0];
    expect(record).toMatchObject({ version: 1, command: 'proxy', source: { address: '127.0.0.1', port: localPort } });
    const report = await broker.proxy();
    expect(report.counts.refusedTotal).toBe(0);
    const checks = report.connections.filter((c) => c.clientId !== 'pp-v1-1');
    expect(checks.length).toBeGreaterThan(0);
    // v1 has no LOCAL command: a health check's header names Envoy's own connection.
    for (const c of checks) expect(c).toMatchObject({ version: 1, command: 'proxy', source: c.peer, destination: { port: broker.port } });
  });
});
