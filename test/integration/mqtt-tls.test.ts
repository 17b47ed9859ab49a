// MQTT over TLS through the real Envoy, its certificate sent by mqtt-xds over SDS (never a
// file inside Envoy): TLS 1.2 and 1.3, rotations under 500 connected clients that drop
// nothing, and bad certificates refused while the last good one stays in force.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { withOverrides } from '../../src/config';
import type { ControlPlane } from '../../src/main';
import {
  connectClients,
  publishAndReceive,
  startBrokers,
  startEnvoy,
  stopBrokers,
  tryConnectClients,
  untilHealthy,
  waitFor,
  type ClientPool,
  type EnvoyHandle,
  type TestBroker,
} from '../support';
import { installPair, TestCa, type Pem } from '../support/certs';
import { planeConfig, startPlane, writeBrokersFile } from './plane';

const SERVER_NAME = 'mqtt.test';

describe.each(['sotw', 'delta'] as const)('MQTT over TLS, the certificate over SDS (%s)', (mode) => {
  const ca = new TestCa('mqtt-xds listener test CA');
  const certFile = path.join(ca.dir, 'listener.crt');
  const keyFile = path.join(ca.dir, 'listener.key');
  let brokers: TestBroker[];
  let plane: ControlPlane;
  let envoy: EnvoyHandle;
  let mqttPort: number;
  let adminPort: number;
  let pool: ClientPool | undefined;
  let issued = 0;

  const install = (p: Pick<Pem, 'cert' | 'key'>): string => installPair(p, certFile, keyFile);
  const issue = (days = 7, startsInDays?: number): Pem =>
    ca.issue(`listener-${issued++}`, {
      commonName: SERVER_NAME,
      san: [`DNS:${SERVER_NAME}`],
      days,
      ...(startsInDays === undefined ? {} : { startsInDays }),
    });
  /** One fresh TLS handshake with Envoy: the serial and protocol it presented. */
  const handshake = (o: { minVersion?: tls.SecureVersion; maxVersion?: tls.SecureVersion } = {}) =>
    new Promise<{ serial: string; protocol: string | null }>((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port: mqttPort, ca: ca.ca.cert, servername: SERVER_NAME, ...o }, () => {
        const seen = { serial: s.getPeerCertificate().serialNumber, protocol: s.getProtocol() };
        s.destroy();
        resolve(seen);
      });
      s.on('error', reject);
    });
  const status = async () => (await fetch(`http://127.0.0.1:${adminPort}/status`)).json() as Promise<any>;
  const listenerVersion = async () => (await envoy.configDumpVersions()).listeners.mqtt;

  beforeAll(async () => {
    brokers = await startBrokers(2);
    const setup = await planeConfig();
    writeBrokersFile(
      setup.brokersFile,
      brokers.map((broker) => ({ broker, weight: 1 })),
    );
    install(issue());
    const config = withOverrides(setup.config, {
      balancing: { mode: 'static' },
      listener: { tls: { certFile, keyFile } },
    });
    mqttPort = config.listener.port;
    adminPort = config.admin.port;
    ({ plane } = await startPlane(config));
    envoy = await startEnvoy({ mode, xdsPort: config.xds.port, waitReady: 'live' });
    await untilHealthy(envoy, 2, 'two healthy brokers');
  });

  afterAll(async () => {
    await pool?.endAll();
    await envoy?.stop();
    await plane?.stop();
    await stopBrokers(brokers ?? []);
  });

  it('speaks MQTT over TLS 1.2 and 1.3 with the certificate from SDS, and refuses plaintext', async () => {
    const serial = new X509Certificate(fs.readFileSync(certFile)).serialNumber;
    expect(await handshake({ maxVersion: 'TLSv1.2' })).toEqual({ serial, protocol: 'TLSv1.2' });
    expect(await handshake({ minVersion: 'TLSv1.3' })).toEqual({ serial, protocol: 'TLSv1.3' });
    await publishAndReceive({
      host: '127.0.0.1',
      port: mqttPort,
      topic: `tls/${mode}/hello`,
      tls: { ca: ca.ca.cert, servername: SERVER_NAME },
    });
    const plain = await tryConnectClients({ host: '127.0.0.1', port: mqttPort, count: 1, prefix: `plain-${mode}`, connectTimeoutMs: 3000 });
    expect(plain.refused).toBe(1);
    expect((await status()).listenerTls).toMatchObject({ serial, refused: [] });
  });

  it('rotates three times under 500 clients: none dropped, new handshakes see each new serial, the Listener untouched', async () => {
    pool = await connectClients({
      host: '127.0.0.1',
      port: mqttPort,
      count: 500,
      prefix: `tls-${mode}`,
      tls: { ca: ca.ca.cert, servername: SERVER_NAME },
    });
    const before = await listenerVersion();
    expect(before).toMatch(/\S/);
    for (let round = 0; round < 3; round++) {
      const serial = install(issue());
      await waitFor(async () => (await handshake()).serial === serial, {
        timeoutMs: 20_000,
        what: `new handshakes to get serial ${serial}`,
      });
    }
    expect(await listenerVersion()).toBe(before);
    expect(pool.closed()).toBe(0);
    const expiry = await plane.registry.getSingleMetricAsString('mqtt_xds_listener_tls_certificate_expiry_timestamp_seconds');
    const notAfter = new X509Certificate(fs.readFileSync(certFile)).validTo;
    expect(Number(/^mqtt_xds_listener_tls_certificate_expiry_timestamp_seconds (\S+)$/m.exec(expiry)?.[1])).toBe(
      Date.parse(notAfter) / 1000,
    );
  });

  it.each([
    ['a key that does not match', () => ({ cert: issue().cert, key: issue().key }), 'TLS_KEY_MISMATCH'],
    ['an expired certificate', () => issue(-1), 'TLS_CERT_EXPIRED'],
    ['a certificate not yet valid', () => issue(7, 2), 'TLS_CERT_NOT_YET_VALID'],
    [
      'a chain that does not verify',
      () => {
        const leaf = issue();
        return { cert: leaf.cert + new TestCa('not the issuer').ca.cert, key: leaf.key };
      },
      'TLS_CHAIN_BROKEN',
    ],
    [
      'garbage PEM',
      () => ({ cert: '-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n', key: issue().key }),
      'TLS_CERT_PARSE',
    ],
  ])('refuses %s and keeps serving the last good certificate', async (_what, bad, code) => {
    const good = (await status()).listenerTls.serial;
    install(bad());
    await waitFor(async () => ((await status()).listenerTls.refused as Array<{ code: string }>).some((p) => p.code === code), {
      timeoutMs: 15_000,
      what: `the refusal ${code} in /status`,
    });
    expect(await plane.registry.getSingleMetricAsString('mqtt_xds_listener_tls_refused_total')).toMatch(
      new RegExp(`code="${code}"\\} [1-9]`),
    );
    expect((await handshake()).serial).toBe(good);
    expect(pool?.closed()).toBe(0);
    // Repaired: the next good pair is taken again.
    const serial = install(issue());
    await waitFor(async () => (await handshake()).serial === serial, { timeoutMs: 20_000, what: 'the repaired certificate in force' });
  });
});

describe.each(['sotw', 'delta'] as const)('MQTT over mTLS, the client CA and SAN matching over SDS (%s)', (mode) => {
  const ca = new TestCa('mqtt-xds listener mTLS CA');
  const server = ca.issue('server', { commonName: SERVER_NAME, san: [`DNS:${SERVER_NAME}`] });
  const clientCaFile = path.join(ca.dir, 'clients-ca.crt');
  let brokers: TestBroker[];
  let plane: ControlPlane;
  let envoy: EnvoyHandle;
  let mqttPort: number;
  const device = (name: string, from = ca) =>
    from.issue(`device-${name}`, { commonName: name, san: [`URI:urn:device:${name}`], usage: 'client' });
  const attempt = (prefix: string, cert?: Pem) =>
    tryConnectClients({
      host: '127.0.0.1',
      port: mqttPort,
      count: 1,
      prefix: `${prefix}-${mode}`,
      connectTimeoutMs: 5000,
      tls: { ca: ca.ca.cert, servername: SERVER_NAME, ...(cert ? { cert: cert.cert, key: cert.key } : {}) },
    });

  beforeAll(async () => {
    fs.copyFileSync(ca.ca.certFile, clientCaFile);
    brokers = await startBrokers(2);
    const setup = await planeConfig();
    writeBrokersFile(
      setup.brokersFile,
      brokers.map((broker) => ({ broker, weight: 1 })),
    );
    const config = withOverrides(setup.config, {
      balancing: { mode: 'static' },
      listener: { tls: { certFile: server.certFile, keyFile: server.keyFile, clientCaFile, clientSubjectAltNames: 'URI:urn:device:*' } },
    });
    mqttPort = config.listener.port;
    ({ plane } = await startPlane(config));
    envoy = await startEnvoy({ mode, xdsPort: config.xds.port, waitReady: 'live' });
    await untilHealthy(envoy, 2, 'two healthy brokers');
  });

  afterAll(async () => {
    await envoy?.stop();
    await plane?.stop();
    await stopBrokers(brokers ?? []);
  });

  it('lets in a device whose certificate the client CA signed', async () => {
    const ok = await attempt('device', device('sensor-1'));
    expect(ok.refused).toBe(0);
    await ok.pool.endAll();
  });

  it('refuses a client without a certificate, and one whose certificate another CA signed, in the handshake', async () => {
    const none = await attempt('anonymous');
    const stranger = await attempt('stranger', device('intruder', new TestCa('stranger CA')));
    expect([none.refused, stranger.refused]).toEqual([1, 1]);
    expect(await envoy.stat('listener.mqtt.ssl.fail_verify_no_cert')).toBeGreaterThanOrEqual(1);
    expect(await envoy.stat('listener.mqtt.ssl.fail_verify_error')).toBeGreaterThanOrEqual(1);
  });

  it('refuses a certificate the CA signed whose SAN is not one of listener.tls.clientSubjectAltNames', async () => {
    const other = ca.issue('service', { commonName: 'billing', san: ['URI:urn:service:billing'], usage: 'client' });
    expect((await attempt('wrong-san', other)).refused).toBe(1);
    expect(await envoy.stat('listener.mqtt.ssl.fail_verify_san')).toBeGreaterThanOrEqual(1);
  });
});
