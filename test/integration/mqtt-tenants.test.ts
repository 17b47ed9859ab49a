// SNI tenants through the real Envoy: each tenant's clients get its certificate and reach
// only its broker pool, its connection limit holds, and adding, changing or removing one
// tenant drains no other tenant's connections (Envoy's filter-chain-only update).
import { X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { withOverrides } from '../../src/config';
import type { ControlPlane } from '../../src/main';
import {
  connectClients,
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
import { TestCa, type Pem } from '../support/certs';
import { planeConfig, startPlane, writeBrokersFile } from './plane';

describe.each(['sotw', 'delta'] as const)('SNI tenants on one MQTT listener (real Envoy, %s)', (mode) => {
  const ca = new TestCa('mqtt-xds tenants test CA');
  const pem = (name: string): Pem => ca.issue(name, { commonName: name, san: [`DNS:${name}`] });
  const listener = pem('mqtt.test');
  const acme = pem('mqtt.acme.test');
  const beta = pem('mqtt.beta.test');
  const gamma = pem('mqtt.gamma.test');
  const secure = pem('mqtt.secure.test');
  // The secure tenant's devices are signed by their own CA, which no other tenant trusts.
  const deviceCa = new TestCa('mqtt-xds tenants device CA');
  const device = (name: string, from = deviceCa): Pem =>
    from.issue(`device-${name}`, { commonName: name, san: [`URI:urn:secure:${name}`], usage: 'client' });
  let brokers: TestBroker[];
  let plane: ControlPlane;
  let envoy: EnvoyHandle;
  let mqttPort: number;
  let adminPort: number;
  let policyFile: string;
  const pools: ClientPool[] = [];

  const tenant = (p: Pem, names: string[], pool: TestBroker[], extra = ''): string =>
    `  ${p === acme ? 'acme' : p === beta ? 'beta' : p === gamma ? 'gamma' : 'secure'}:\n` +
    `    serverNames: [${names.join(', ')}]\n    certFile: ${p.certFile}\n    keyFile: ${p.keyFile}\n` +
    (pool.length > 0 ? `    brokers: [${pool.map((b) => b.name).join(', ')}]\n` : '') +
    extra;
  const writePolicy = (body: string): void => {
    fs.writeFileSync(`${policyFile}.tmp`, body);
    fs.renameSync(`${policyFile}.tmp`, policyFile);
  };
  /** The serial Envoy presents for this SNI, or the handshake's error code. */
  const presented = (servername: string) =>
    new Promise<string>((resolve) => {
      const s = tls.connect({ host: '127.0.0.1', port: mqttPort, ca: ca.ca.cert, servername }, () => {
        const serial = s.getPeerCertificate().serialNumber;
        s.destroy();
        resolve(serial);
      });
      s.on('error', (err: NodeJS.ErrnoException) => resolve(`error ${err.code ?? err.message}`));
    });
  const serialOf = (p: Pem): string => new X509Certificate(p.cert).serialNumber;
  const clients = (servername: string, count: number, prefix: string) =>
    connectClients({ host: '127.0.0.1', port: mqttPort, count, prefix, tls: { ca: ca.ca.cert, servername } });
  const status = async () => (await fetch(`http://127.0.0.1:${adminPort}/status`)).json() as Promise<any>;

  beforeAll(async () => {
    brokers = await startBrokers(3);
    const setup = await planeConfig();
    policyFile = path.join(setup.dir, 'policy.yaml');
    // The secure tenant's pool is chosen by label.
    writeBrokersFile(
      setup.brokersFile,
      brokers.map((broker, i) => ({ broker, weight: 1, ...(i === 2 ? { labels: { tier: 'secure' } } : {}) })),
    );
    writePolicy(
      'unknownServerName: default\ntenants:\n' +
        tenant(acme, ['mqtt.acme.test'], [brokers[0]], '    maxConnections: 25\n') +
        tenant(beta, ['mqtt.beta.test'], [brokers[1], brokers[2]]),
    );
    const config = withOverrides(setup.config, {
      balancing: { mode: 'static', policyFile },
      listener: { tls: { certFile: listener.certFile, keyFile: listener.keyFile } },
    });
    mqttPort = config.listener.port;
    adminPort = config.admin.port;
    ({ plane } = await startPlane(config));
    // A drain that closes at once: a chain Envoy drains shows within the test, so the
    // untouched tenant's clients staying connected means its chain was not drained.
    envoy = await startEnvoy({
      mode,
      xdsPort: config.xds.port,
      waitReady: 'live',
      extraArgs: ['--drain-time-s', '1', '--drain-strategy', 'immediate'],
    });
    await untilHealthy(envoy, 3, 'three healthy brokers');
    await untilHealthy(envoy, 1, 'acme pool healthy', undefined, 'mqtt_brokers.acme');
    await untilHealthy(envoy, 2, 'beta pool healthy', undefined, 'mqtt_brokers.beta');
  });

  afterAll(async () => {
    for (const p of pools) await p.endAll();
    await envoy?.stop();
    await plane?.stop();
    await stopBrokers(brokers ?? []);
  });

  it("presents each tenant's certificate by SNI, and the listener's own to a name no tenant has", async () => {
    expect(await presented('mqtt.acme.test')).toBe(serialOf(acme));
    expect(await presented('mqtt.beta.test')).toBe(serialOf(beta));
    expect(await presented('mqtt.test')).toBe(serialOf(listener));
    expect(Object.keys((await status()).tenants)).toEqual(['acme', 'beta']);
  });

  it("sends each tenant's clients to its own pool only", async () => {
    const before = brokers.map((b) => b.clientCount());
    pools.push(await clients('mqtt.acme.test', 20, 'acme'));
    pools.push(await clients('mqtt.beta.test', 20, 'beta'));
    await waitFor(() => brokers.reduce((n, b, i) => n + b.clientCount() - before[i], 0) === 40, {
      timeoutMs: 5000,
      what: 'the brokers to count the 40 clients',
    });
    const added = brokers.map((b, i) => b.clientCount() - before[i]);
    expect(added[0]).toBe(20);
    expect(added[1] + added[2]).toBe(20);
    expect(added[1]).toBeGreaterThan(0);
    expect(added[2]).toBeGreaterThan(0);
  });

  it("closes a tenant's connections past its maxConnections, and no other tenant's", async () => {
    const acmeMore = await tryConnectClients({
      host: '127.0.0.1',
      port: mqttPort,
      count: 10,
      prefix: 'acme-more',
      connectTimeoutMs: 5000,
      tls: { ca: ca.ca.cert, servername: 'mqtt.acme.test' },
    });
    pools.push(acmeMore.pool);
    expect(acmeMore.refused).toBe(5);
    pools.push(await clients('mqtt.beta.test', 10, 'beta-more'));
  });

  it('adds a tenant, changes another and refuses unknown names, dropping none of the untouched tenant', async () => {
    const acmeHeld = pools[0];
    writePolicy(
      'unknownServerName: refuse\ntenants:\n' +
        tenant(acme, ['mqtt.acme.test'], [brokers[0]], '    maxConnections: 25\n') +
        tenant(beta, ['mqtt.beta.test', 'beta.test'], [brokers[1]]) +
        tenant(gamma, ['mqtt.gamma.test'], [brokers[0]]),
    );
    await waitFor(async () => (await presented('mqtt.gamma.test')) === serialOf(gamma), {
      timeoutMs: 20_000,
      what: "tenant gamma's chain in Envoy",
    });
    await waitFor(async () => (await presented('mqtt.test')).startsWith('error'), { timeoutMs: 20_000, what: 'unknown names refused' });
    // beta's chain changed (a server name more): Envoy drains it, and only it.
    const betaPools = [pools[1], pools[3]];
    await waitFor(() => betaPools.every((p) => p.closed() === p.clients.length), {
      timeoutMs: 20_000,
      what: "beta's changed chain to drain its 30 clients",
    });
    expect(acmeHeld.closed()).toBe(0);
    // gamma shares acme's broker, whose clients stay put: its count moves by gamma's alone.
    const before = brokers[0].clientCount();
    pools.push(await clients('mqtt.gamma.test', 5, 'gamma'));
    await waitFor(() => brokers[0].clientCount() - before === 5, { timeoutMs: 20_000, what: "gamma's five clients on acme's broker" });
    // Removing gamma again touches neither acme nor beta's chain.
    writePolicy(
      'unknownServerName: refuse\ntenants:\n' +
        tenant(acme, ['mqtt.acme.test'], [brokers[0]], '    maxConnections: 25\n') +
        tenant(beta, ['mqtt.beta.test', 'beta.test'], [brokers[1]]),
    );
    await waitFor(async () => (await presented('mqtt.gamma.test')).startsWith('error'), { timeoutMs: 20_000, what: 'gamma gone' });
    const gammaPool = pools[4];
    await waitFor(() => gammaPool.closed() === 5, { timeoutMs: 20_000, what: "gamma's removed chain to drain its 5 clients" });
    expect(acmeHeld.closed()).toBe(0);
    expect(pools[2].closed()).toBe(0); // the five acme clients admitted past 20
  });
  it("asks only the mTLS tenant's clients for a certificate its CA signed, with a SAN it allows", async () => {
    writePolicy(
      'unknownServerName: refuse\ntenants:\n' +
        tenant(acme, ['mqtt.acme.test'], [brokers[0]], '    maxConnections: 25\n') +
        tenant(beta, ['mqtt.beta.test', 'beta.test'], [brokers[1]]) +
        tenant(
          secure,
          ['mqtt.secure.test'],
          [brokers[2]],
          `    clientCaFile: ${deviceCa.ca.certFile}\n    clientSubjectAltNames: ["URI:urn:secure:*"]\n`,
        ),
    );
    await waitFor(async () => (await presented('mqtt.secure.test')) === serialOf(secure), {
      timeoutMs: 20_000,
      what: "tenant secure's chain in Envoy",
    });
    const attempt = async (prefix: string, cert?: Pem, servername = 'mqtt.secure.test') => {
      const r = await tryConnectClients({
        host: '127.0.0.1',
        port: mqttPort,
        count: 1,
        prefix,
        connectTimeoutMs: 5000,
        tls: { ca: ca.ca.cert, servername, ...(cert ? { cert: cert.cert, key: cert.key } : {}) },
      });
      pools.push(r.pool);
      return r.refused;
    };
    const before = brokers[2].clientCount();
    expect(await attempt('secure-good', device('good'))).toBe(0);
    await waitFor(() => brokers[2].clientCount() - before === 1, { timeoutMs: 20_000, what: "the device on secure's broker" });
    expect(await attempt('secure-none')).toBe(1);
    expect(await attempt('secure-other-ca', device('stranger', new TestCa('not the tenant CA')))).toBe(1);
    const wrongSan = deviceCa.issue('device-wrong-san', { commonName: 'x', san: ['URI:urn:other:x'], usage: 'client' });
    expect(await attempt('secure-wrong-san', wrongSan)).toBe(1);
    // beta asks for no certificate: its clients still connect without one.
    expect(await attempt('beta-plain', undefined, 'mqtt.beta.test')).toBe(0);
    expect(pools[0].closed()).toBe(0);
  });
});
