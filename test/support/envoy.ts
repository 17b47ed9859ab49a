import { spawnChild } from './children';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LineRing, captureOutput, stopChild } from './child-process';
import { EnvoyAdmin, type ConfigDumpVersions, type HostStat } from './envoy-admin';
import { REPO_ROOT, renderBootstrap, type XdsClientTls, type XdsMode } from './envoy-bootstrap';
import { sleep, waitFor } from './wait';

export type { ConfigDumpVersions, HostStat } from './envoy-admin';
export type { XdsMode } from './envoy-bootstrap';

export interface StartEnvoyOptions {
  mode: XdsMode;
  /** Port of the control plane on 127.0.0.1. */
  xdsPort: number;
  /** Default "envoy-edge-1", as in the bootstrap files. */
  nodeId?: string;
  /** Default "warn"; "debug" helps when an xDS exchange misbehaves. */
  logLevel?: string;
  /**
   * 'admin' (default): resolve once /ready answers at all, even PRE_INITIALIZING, as it
   * does while the control plane is unreachable. 'live': wait for /ready to say LIVE,
   * i.e. Envoy has received its first CDS and LDS.
   */
  waitReady?: 'admin' | 'live';
  readyTimeoutMs?: number;
  /** The overload manager's global cap on downstream connections; default: the bootstrap file's. */
  maxDownstreamConnections?: number;
  /** TLS or mTLS to the control plane (test/support/envoy-bootstrap.ts). */
  xdsTls?: XdsClientTls;
  /** Default true: Envoy reports load to the control plane over LRS. */
  loadStats?: boolean;
  extraArgs?: string[];
}

export interface EnvoyHandle {
  adminUrl: string;
  adminPort: number;
  pid: number;
  admin: EnvoyAdmin;
  /** The last ~200 lines Envoy printed. */
  logs(): string;
  running(): boolean;
  /** SIGTERM, then SIGKILL after 5 s; removes the temp dir. Safe to call twice. */
  stop(): Promise<void>;
  get(path: string): Promise<string>;
  getJson(path: string): Promise<any>;
  clusterHosts(clusterName: string): Promise<HostStat[]>;
  stat(name: string): Promise<number | undefined>;
  listenerReady(port: number): Promise<boolean>;
  configDumpVersions(): Promise<ConfigDumpVersions>;
}

const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => fs.existsSync(p));

/** Path of the Envoy binary: $ENVOY_BIN, else the one scripts/setup-envoy installs. */
export function envoyBinary(): string {
  const bin = process.env.ENVOY_BIN || path.join(REPO_ROOT, '.local', 'envoy', 'bin', 'envoy');
  try {
    fs.accessSync(bin, fs.constants.X_OK);
  } catch {
    throw new Error(
      `Envoy binary not found or not executable at ${bin}. ` +
        'Run scripts/setup-envoy to install it, or point ENVOY_BIN at an Envoy 1.40 binary.',
    );
  }
  return bin;
}

export async function startEnvoy(options: StartEnvoyOptions): Promise<EnvoyHandle> {
  const { mode, xdsPort, nodeId = 'envoy-edge-1', logLevel = 'warn', waitReady = 'admin' } = options;
  const bin = envoyBinary();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mqtt-xds-envoy-'));
  const configFile = path.join(dir, 'bootstrap.json');
  const adminAddressFile = path.join(dir, 'admin-address');
  // Admin port 0 and --admin-address-path: Envoy binds the port itself, so two test
  // runs can never race for the same "free" port.
  const bootstrap = renderBootstrap(mode, {
    xdsPort,
    nodeId,
    adminPort: 0,
    ...(options.maxDownstreamConnections === undefined ? {} : { maxDownstreamConnections: options.maxDownstreamConnections }),
    ...(options.xdsTls ? { xdsTls: options.xdsTls } : {}),
    ...(options.loadStats === undefined ? {} : { loadStats: options.loadStats }),
  });
  fs.writeFileSync(configFile, JSON.stringify(bootstrap, null, 2));

  const args = [
    '--disable-hot-restart',
    '--concurrency',
    '1',
    '--log-level',
    logLevel,
    '--admin-address-path',
    adminAddressFile,
    '-c',
    configFile,
    ...(options.extraArgs ?? []),
  ];
  // setpriv --pdeathsig makes the kernel kill Envoy when the jest worker dies, even by
  // SIGKILL, where no 'exit' hook runs. setpriv execs Envoy, so the pid is Envoy's.
  const [command, argv] = SETPRIV ? [SETPRIV, ['--pdeathsig', 'SIGKILL', '--', bin, ...args]] : [bin, args];
  const child = spawnChild(command, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  const ring = new LineRing(200);
  captureOutput(child, ring);
  const running = (): boolean => child.exitCode === null && child.signalCode === null;

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= stopChild(child, { graceMs: 5000 }).finally(() => fs.rmSync(dir, { recursive: true, force: true })));

  let admin: EnvoyAdmin;
  try {
    admin = await waitUntilReady(adminAddressFile, waitReady, options.readyTimeoutMs ?? 30_000, running);
  } catch (err) {
    const status = child.exitCode !== null ? ` (envoy exited with code ${child.exitCode})` : '';
    await stop();
    const why = err instanceof Error ? err.message : String(err);
    throw new Error(`Envoy (${mode}, xds port ${xdsPort}) did not become ready${status}: ${why}\n--- envoy log ---\n${ring.text()}`);
  }

  return {
    adminUrl: admin.baseUrl,
    adminPort: Number(new URL(admin.baseUrl).port),
    pid: child.pid ?? -1,
    admin,
    logs: () => ring.text(),
    running,
    stop,
    get: (p) => admin.get(p),
    getJson: (p) => admin.getJson(p),
    clusterHosts: (name) => admin.clusterHosts(name),
    stat: (name) => admin.stat(name),
    listenerReady: (port) => admin.listenerReady(port),
    configDumpVersions: () => admin.configDumpVersions(),
  };

  async function waitUntilReady(
    addressFile: string,
    want: 'admin' | 'live',
    timeoutMs: number,
    isRunning: () => boolean,
  ): Promise<EnvoyAdmin> {
    const deadline = Date.now() + timeoutMs;
    let last = 'admin address file not written yet';
    while (Date.now() < deadline) {
      // Checked every round so a crash fails at once instead of after the timeout.
      if (!isRunning()) throw new Error('envoy exited during startup');
      const address = fs.existsSync(addressFile) ? fs.readFileSync(addressFile, 'utf8').trim() : '';
      if (address) {
        const candidate = new EnvoyAdmin(`http://${address}`);
        try {
          const { status, body } = await candidate.request('/ready', 'GET', 2000);
          if (want === 'admin' || status === 200) return candidate;
          last = `/ready answered ${status} ${body.trim()}`;
        } catch (err) {
          last = err instanceof Error ? err.message : String(err);
        }
      }
      await sleep(100);
    }
    throw new Error(
      `timed out after ${timeoutMs} ms waiting for ${want === 'live' ? '/ready to say LIVE' : 'admin to answer'}; last: ${last}`,
    );
  }
}

/** Resolves once `count` hosts of the broker cluster (or `cluster`) have no health flags in this Envoy. */
export async function untilHealthy(
  envoy: EnvoyHandle,
  count: number,
  what: string,
  timeoutMs = 30_000,
  cluster = 'mqtt_brokers',
): Promise<void> {
  await waitFor(async () => (await envoy.clusterHosts(cluster)).filter((h) => h.healthy).length === count, {
    timeoutMs,
    intervalMs: 200,
    what,
  });
}
