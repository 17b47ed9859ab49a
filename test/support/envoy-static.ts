// The real Envoy from a static bootstrap the test writes itself (no control plane): for
// features tried out before mqtt-xds sends them, such as the MQTT Wasm filter.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LineRing, captureOutput, stopChild } from './child-process';
import { spawnChild } from './children';
import { EnvoyAdmin } from './envoy-admin';
import { envoyBinary } from './envoy';
import { sleep } from './wait';

export interface StaticEnvoyOptions {
  /** Default "warn". */
  logLevel?: string;
  /** e.g. "wasm:debug", for Envoy's --component-log-level. */
  componentLogLevel?: string;
  readyTimeoutMs?: number;
}

export interface StaticEnvoy {
  admin: EnvoyAdmin;
  /** Envoy's process id (setpriv execs it, keeping the pid). */
  pid: number;
  /** The last ~400 lines Envoy printed. */
  logs(): string;
  /** The port Envoy bound for the listener `name` (bootstraps here bind port 0). */
  listenerPort(name: string): Promise<number>;
  /** SIGTERM, then SIGKILL after 5 s; removes the temp dir. Safe to call twice. */
  stop(): Promise<void>;
}

const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => fs.existsSync(p));

/**
 * Starts Envoy with `bootstrap` (its admin block is added here: 127.0.0.1, a port Envoy picks) and
 * resolves once /ready says LIVE, i.e. every static listener and its filters (Wasm included) loaded.
 */
export async function startStaticEnvoy(bootstrap: Record<string, unknown>, options: StaticEnvoyOptions = {}): Promise<StaticEnvoy> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mqtt-xds-envoy-static-'));
  const configFile = path.join(dir, 'bootstrap.json');
  const addressFile = path.join(dir, 'admin-address');
  const config = { ...bootstrap, admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } } };
  fs.writeFileSync(configFile, JSON.stringify(config, null, 2));
  const args = [
    '--disable-hot-restart',
    '--concurrency',
    '1',
    '--log-level',
    options.logLevel ?? 'warn',
    ...(options.componentLogLevel ? ['--component-log-level', options.componentLogLevel] : []),
    '--admin-address-path',
    addressFile,
    '-c',
    configFile,
  ];
  const bin = envoyBinary();
  // setpriv --pdeathsig: the kernel kills Envoy if the jest worker dies (as in envoy.ts).
  const [command, argv] = SETPRIV ? [SETPRIV, ['--pdeathsig', 'SIGKILL', '--', bin, ...args]] : [bin, args];
  const child = spawnChild(command, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  const ring = new LineRing(400);
  captureOutput(child, ring);
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= stopChild(child, { graceMs: 5000 }).finally(() => fs.rmSync(dir, { recursive: true, force: true })));

  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  let last = 'admin address file not written yet';
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(`Envoy exited during startup (code ${child.exitCode})\n--- envoy log ---\n${ring.text()}`);
    }
    const address = fs.existsSync(addressFile) ? fs.readFileSync(addressFile, 'utf8').trim() : '';
    if (address) {
      const admin = new EnvoyAdmin(`http://${address}`);
      try {
        const { status, body } = await admin.request('/ready', 'GET', 2000);
        if (status === 200) {
          return {
            admin,
            pid: child.pid ?? -1,
            logs: () => ring.text(),
            stop,
            listenerPort: async (name) => {
              const json = await admin.getJson('/listeners?format=json');
              const listener = (json.listener_statuses ?? []).find((l: any) => l?.name === name);
              const port = Number(listener?.local_address?.socket_address?.port_value);
              if (!port) throw new Error(`Envoy has no bound listener named ${name}: ${JSON.stringify(json).slice(0, 500)}`);
              return port;
            },
          };
        }
        last = `/ready answered ${status} ${body.trim()}`;
      } catch (err) {
        last = err instanceof Error ? err.message : String(err);
      }
    }
    await sleep(100);
  }
  await stop();
  throw new Error(`Envoy did not become LIVE: ${last}\n--- envoy log ---\n${ring.text()}`);
}
