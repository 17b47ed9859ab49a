import { startBrokers, type TestBroker } from '../support/brokers';
import { startEnvoy, type EnvoyHandle } from '../support/envoy';
import { connectClients, publishAndReceive, type ClientPool } from '../support/mqtt-clients';
import net from 'node:net';
import { freePort } from '../support/ports';
import { waitFor } from '../support/wait';

describe('integration test support', () => {
  let brokers: TestBroker[] = [];
  let pool: ClientPool | undefined;
  let envoy: EnvoyHandle | undefined;

  afterAll(async () => {
    await pool?.endAll();
    await envoy?.stop();
    await Promise.all(brokers.map((b) => b.stop()));
  });

  it('starts brokers that accept and count MQTT clients', async () => {
    brokers = await startBrokers(2);
    expect(new Set(brokers.map((b) => b.port)).size).toBe(2);

    const [first] = brokers;
    pool = await connectClients({ host: '127.0.0.1', port: first.port, count: 10, prefix: 'smoke' });

    await waitFor(() => first.clientCount() === 10, { what: 'broker-0 to count 10 clients', timeoutMs: 5000 });
    expect(first.clientCount()).toBe(10);
    expect(brokers[1].clientCount()).toBe(0);
    expect(pool.closed()).toBe(0);
  });

  it('delivers a published message to a subscriber on the same broker', async () => {
    await publishAndReceive({ host: '127.0.0.1', port: brokers[1].port, topic: 'smoke/ping' });
  });

  it('counts clients that the broker drops as closed', async () => {
    const victim = await connectClients({ host: '127.0.0.1', port: brokers[1].port, count: 3, prefix: 'victim' });
    await brokers[1].kill();
    await waitFor(() => victim.closed() === 3, { what: 'all 3 clients to see the broker die', timeoutMs: 5000 });
    await victim.endAll();
  });

  it('finds a port that can be bound', async () => {
    const port = await freePort();
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('starts Envoy whose admin answers while no control plane listens', async () => {
    // Not freePort(): a suite running in parallel may bind a port freed a moment ago.
    // Nothing serves TCP port 1 here, so Envoy really has no control plane.
    const xdsPort = 1;
    envoy = await startEnvoy({ mode: 'sotw', xdsPort, waitReady: 'admin' });

    const ready = await envoy.admin.request('/ready');
    expect(['LIVE', 'PRE_INITIALIZING']).toContain(ready.body.trim());
    expect(await envoy.clusterHosts('xds_cluster')).toEqual([
      expect.objectContaining({ address: '127.0.0.1', port: xdsPort, cxActive: 0, weight: 1 }),
    ]);
    expect(await envoy.stat('cluster_manager.cds.update_success')).toBe(0);

    await envoy.stop();
    expect(envoy.running()).toBe(false);
  });

  it('fails fast with a clear message when Envoy cannot start', async () => {
    await expect(startEnvoy({ mode: 'delta', xdsPort: 1, extraArgs: ['--no-such-flag'] })).rejects.toThrow(
      /did not become ready.*envoy exited/s,
    );
  });
});
