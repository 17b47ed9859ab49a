import type { ChildProcess } from 'node:child_process';
import { spawnChild } from '../support/children';
import * as path from 'node:path';
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
import { planeConfig, writeBrokersFile, type PlaneSetup } from './plane';

const CLI = path.join(__dirname, '..', '..', 'dist', 'src', 'cli.js');

/** The control plane as an operator runs it: the built CLI in its own process. */
function startCli(setup: PlaneSetup): ChildProcess {
  const c = setup.config;
  const args = [
    CLI,
    '--xds-port',
    String(c.xds.port),
    '--admin-port',
    String(c.admin.port),
    '--discovery-brokers-file',
    setup.brokersFile,
    '--listener-address',
    '127.0.0.1',
    '--listener-port',
    String(c.listener.port),
    '--cluster-health-check-interval-ms',
    '1000',
    '--cluster-health-check-timeout-ms',
    '500',
    '--log-level',
    'warn',
  ];
  return spawnChild(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

async function status(adminPort: number): Promise<any> {
  const res = await fetch(`http://127.0.0.1:${adminPort}/status`);
  return res.json();
}

describe.each(['sotw', 'delta'] as const)('killing and restarting the control plane (%s)', (mode) => {
  let brokers: TestBroker[];
  let setup: PlaneSetup;
  let cli: ChildProcess | undefined;
  let envoy: EnvoyHandle;
  let pool: ClientPool;
  let stderr = '';

  const run = (): void => {
    cli = startCli(setup);
    cli.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  };
  const streamOpen = (): Promise<unknown> =>
    waitFor(
      async () => {
        try {
          const s = await status(setup.config.admin.port);
          return s.streams.length === 1 && s.streams[0].nodeId === 'envoy-edge-1' && s;
        } catch {
          return false;
        }
      },
      { timeoutMs: 30_000, intervalMs: 200, what: `Envoy's ADS stream on the control plane (stderr: ${stderr})` },
    );

  beforeAll(async () => {
    brokers = await startBrokers(2);
    setup = await planeConfig();
    writeBrokersFile(setup.brokersFile, [{ broker: brokers[0] }, { broker: brokers[1] }]);
    run();
    envoy = await startEnvoy({ mode, xdsPort: setup.config.xds.port, waitReady: 'live' });
    await untilHealthy(envoy, 2, 'two healthy brokers');
    pool = await connectClients({ host: '127.0.0.1', port: setup.config.listener.port, count: 100, prefix: `restart-${mode}` });
  });

  afterAll(async () => {
    await pool?.endAll();
    cli?.kill('SIGKILL');
    await envoy?.stop();
    await stopBrokers(brokers ?? []);
  });

  it('keeps every MQTT connection up and gives unchanged state no new version', async () => {
    await streamOpen();
    const before = await envoy.configDumpVersions();
    const cdsUpdates = await envoy.stat('cluster_manager.cds.update_success');
    const ldsUpdates = await envoy.stat('listener_manager.lds.update_success');

    cli!.kill('SIGKILL');
    await new Promise((r) => cli!.once('exit', r));
    await waitFor(async () => (await envoy.stat('control_plane.connected_state')) === 0, {
      timeoutMs: 10_000,
      what: 'Envoy to notice the control plane is gone',
    });
    // Without a control plane Envoy keeps proxying on what it has.
    const during = await connectClients({ host: '127.0.0.1', port: setup.config.listener.port, count: 10, prefix: `during-${mode}` });
    await during.endAll();

    run();
    await streamOpen();
    await waitFor(async () => (await envoy.stat('control_plane.connected_state')) === 1, {
      timeoutMs: 30_000,
      what: 'Envoy to reconnect',
    });
    // Give a spurious push time to arrive before checking that none did.
    await new Promise((r) => setTimeout(r, 1500));
    const after = await envoy.configDumpVersions();
    expect(after.clusters).toEqual(before.clusters);
    expect(after.listeners).toEqual(before.listeners);
    expect(after.cds).toBe(before.cds);
    expect(after.lds).toBe(before.lds);
    expect(await envoy.stat('cluster_manager.cds.update_success')).toBe(cdsUpdates);
    expect(await envoy.stat('listener_manager.lds.update_success')).toBe(ldsUpdates);
    expect(pool.closed()).toBe(0);
    expect(during.closed()).toBe(0);
  });

  it('stops on SIGTERM with exit code 0, leaving Envoy and its connections alone', async () => {
    const exited = new Promise<number | null>((r) => cli!.once('exit', (code) => r(code)));
    cli!.kill('SIGTERM');
    expect(await exited).toBe(0);
    cli = undefined;
    expect(pool.closed()).toBe(0);
    const hosts = await envoy.clusterHosts('mqtt_brokers');
    expect(hosts.reduce((n, h) => n + h.cxActive, 0)).toBeGreaterThanOrEqual(100);
  });
});
