// xDS over mTLS with the real Envoy: Envoys with a certificate from the client CA get
// their configuration, others are refused in the handshake; a node id the certificate does
// not name is refused; a server-certificate rotation reaches new handshakes while every
// established stream and MQTT connection stays up.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { withOverrides } from '../../src/config';
import type { ControlPlane } from '../../src/main';
import {
  connectClients,
  startBrokers,
  startEnvoy,
  stopBrokers,
  waitFor,
  type ClientPool,
  type EnvoyHandle,
  type TestBroker,
  untilHealthy,
} from '../support';
import { installPair, TestCa } from '../support/certs';
import { planeConfig, startPlane, writeBrokersFile } from './plane';

describe.each(['sotw', 'delta'] as const)('xDS over mTLS with the real Envoy (%s)', (mode) => {
  const ca = new TestCa('xds CA');
  const serverCert = path.join(ca.dir, 'xds-live.crt');
  const serverKey = path.join(ca.dir, 'xds-live.key');
  let brokers: TestBroker[];
  let plane: ControlPlane;
  let envoy: EnvoyHandle;
  const others: EnvoyHandle[] = [];
  let pool: ClientPool;
  let setupBrokersFile: string;
  let xdsPort: number;
  let adminPort: number;
  let mqttPort: number;

  const installServer = (name: string) => {
    const p = ca.issue(name, { commonName: 'mqtt-xds', san: ['DNS:mqtt-xds.test'] });
    return installPair(p, serverCert, serverKey);
  };
  const envoyCert = (nodeId: string, from = ca) =>
    from.issue(`envoy-${nodeId}-${Math.random()}`, { commonName: nodeId, san: [`URI:spiffe://mqtt/edge/${nodeId}`], usage: 'client' });
  const status = async () => (await fetch(`http://127.0.0.1:${adminPort}/status`)).json() as Promise<any>;
  const tlsFor = (c: { certFile: string; keyFile: string }) => ({
    caFile: ca.ca.certFile,
    serverName: 'mqtt-xds.test',
    certFile: c.certFile,
    keyFile: c.keyFile,
  });

  beforeAll(async () => {
    brokers = await startBrokers(2);
    const setup = await planeConfig();
    setupBrokersFile = setup.brokersFile;
    writeBrokersFile(setup.brokersFile, [
      { broker: brokers[0], weight: 1 },
      { broker: brokers[1], weight: 1 },
    ]);
    installServer('first');
    const clientCa = path.join(ca.dir, 'clients-ca.crt');
    fs.copyFileSync(ca.ca.certFile, clientCa);
    const config = withOverrides(setup.config, {
      balancing: { mode: 'static' },
      xds: { tls: { certFile: serverCert, keyFile: serverKey, clientCaFile: clientCa, nodeIdentity: 'node-id' } },
    });
    ({ xdsPort, adminPort } = { xdsPort: config.xds.port, adminPort: config.admin.port });
    mqttPort = config.listener.port;
    ({ plane } = await startPlane(config));
    envoy = await startEnvoy({ mode, xdsPort, nodeId: 'envoy-edge-1', waitReady: 'live', xdsTls: tlsFor(envoyCert('envoy-edge-1')) });
    await untilHealthy(envoy, 2, 'two healthy brokers');
    pool = await connectClients({ host: '127.0.0.1', port: mqttPort, count: 50, prefix: `xds-tls-${mode}` });
  });

  afterAll(async () => {
    await pool?.endAll();
    for (const e of others) await e.stop();
    await envoy?.stop();
    await plane?.stop();
    await stopBrokers(brokers ?? []);
  });

  it('serves an Envoy whose certificate the client CA signed and names its node id', async () => {
    const s = await status();
    expect(s.streams.map((x: any) => x.nodeId)).toContain('envoy-edge-1');
    expect(s.xdsTls).toMatchObject({ mutualTls: true, refused: [] });
  });

  it("takes the same Envoy's load reports over the same mTLS port (LRS)", async () => {
    const view = await waitFor(
      async () => {
        const v = (await status()).envoyView;
        const sum = Object.values(v.brokers as Record<string, { connections: number }>).reduce((n, b) => n + b.connections, 0);
        return v.envoys === 1 && sum === 50 && v;
      },
      { timeoutMs: 15_000, what: 'the Envoy view to count the 50 clients' },
    );
    expect(Object.keys(view.brokers)).toHaveLength(2);
  });

  it('refuses an Envoy with a certificate from another CA during the handshake', async () => {
    const stranger = await startEnvoy({
      mode,
      xdsPort,
      nodeId: 'envoy-stranger',
      xdsTls: tlsFor(envoyCert('envoy-stranger', new TestCa('stranger CA'))),
    });
    others.push(stranger);
    await new Promise((r) => setTimeout(r, 3000));
    expect(await stranger.stat('control_plane.connected_state')).toBe(0);
    expect((await status()).streams.map((x: any) => x.nodeId)).not.toContain('envoy-stranger');
  });

  it('refuses an Envoy whose node id its certificate does not name', async () => {
    const impostor = await startEnvoy({ mode, xdsPort, nodeId: 'envoy-edge-2', xdsTls: tlsFor(envoyCert('envoy-edge-9')) });
    others.push(impostor);
    await new Promise((r) => setTimeout(r, 3000));
    expect((await status()).streams.map((x: any) => x.nodeId)).not.toContain('envoy-edge-2');
    expect(await impostor.stat('cluster_manager.cds.update_success')).toBe(0);
    // Its load reports are refused the same way.
    expect(await plane.registry.getSingleMetricAsString('mqtt_xds_lrs_rejected_total')).toMatch(/reason="node_refused"\} [1-9]/);
  });

  it('rotates the server certificate: new handshakes get it, every stream and MQTT connection stays up', async () => {
    const before = (await status()).xdsTls.serial;
    const next = installServer('second');
    await waitFor(async () => (await status()).xdsTls.serial === next, {
      timeoutMs: 15_000,
      what: 'the control plane to load the rotated certificate',
    });
    expect(next).not.toBe(before);
    // A new Envoy handshakes with the new certificate and is served.
    const fresh = await startEnvoy({ mode, xdsPort, nodeId: 'envoy-edge-3', waitReady: 'live', xdsTls: tlsFor(envoyCert('envoy-edge-3')) });
    others.push(fresh);
    // The established Envoy keeps its stream and still gets changes.
    expect(await envoy.stat('control_plane.connected_state')).toBe(1);
    writeBrokersFile(setupBrokersFile, [
      { broker: brokers[0], weight: 3 },
      { broker: brokers[1], weight: 1 },
    ]);
    await waitFor(async () => (await envoy.clusterHosts('mqtt_brokers')).some((h) => h.weight === 3), {
      timeoutMs: 15_000,
      what: 'a weight change after the rotation',
    });
    expect(pool.closed()).toBe(0);
  });
});
