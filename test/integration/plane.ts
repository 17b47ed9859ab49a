import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { defaultConfig, withOverrides, type Config } from '../../src/config';
import { ControlPlane } from '../../src/main';
import { createLogger, silentLogger } from '../../src/util/log';
import { freePort, type TestBroker } from '../support';

export interface BrokerLine {
  broker: TestBroker;
  weight?: number;
  draining?: boolean;
  /** Lists the broker's websocketPort too. */
  websocket?: boolean;
  labels?: Record<string, string>;
}

/** Writes a brokers file atomically (write, then rename), as a careful operator would. */
export function writeBrokersFile(file: string, lines: readonly BrokerLine[]): void {
  const body =
    'brokers:\n' +
    lines
      .map(
        (l) =>
          `  - name: ${l.broker.name}\n    host: 127.0.0.1\n    port: ${l.broker.port}\n` +
          (l.websocket ? `    websocketPort: ${l.broker.websocketPort}\n` : '') +
          (l.weight !== undefined ? `    weight: ${l.weight}\n` : '') +
          (l.draining ? '    draining: true\n' : '') +
          (l.labels ? `    labels: ${JSON.stringify(l.labels)}\n` : ''),
      )
      .join('');
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, body);
  fs.renameSync(tmp, file);
}

/** A broker listed with its metrics page (and agent), as metrics-mode tests list them. */
export interface ScrapedBroker {
  readonly name: string;
  readonly port: number;
  readonly metricsUrl: string;
  readonly agentUrl?: string;
}

/** Writes a brokers file of scraped brokers atomically, like writeBrokersFile. */
export function writeScrapedBrokersFile(file: string, entries: readonly ScrapedBroker[]): void {
  const body =
    'brokers:\n' +
    entries
      .map(
        (e) =>
          `  - name: ${e.name}\n    host: 127.0.0.1\n    port: ${e.port}\n    metricsUrl: ${e.metricsUrl}\n` +
          (e.agentUrl ? `    agentUrl: ${e.agentUrl}\n` : ''),
      )
      .join('');
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, body);
  fs.renameSync(tmp, file);
}

export interface PlaneSetup {
  dir: string;
  brokersFile: string;
  config: Config;
}

/** A config for tests: free ports, fast health checks, and a brokers file in a temp dir. */
export async function planeConfig(): Promise<PlaneSetup> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mqtt-xds-it-'));
  const brokersFile = path.join(dir, 'brokers.yaml');
  const config = withOverrides(defaultConfig(dir), {
    logLevel: 'warn',
    xds: { port: await freePort() },
    admin: { port: await freePort() },
    discovery: { brokersFile },
    listener: { address: '127.0.0.1', port: await freePort() },
    cluster: { healthCheck: { intervalMs: 1000, timeoutMs: 500, unhealthyThreshold: 2, healthyThreshold: 1 } },
    pushDebounceMs: 20,
  });
  return { dir, brokersFile, config };
}

export function startPlane(config: Config): Promise<{ plane: ControlPlane }> {
  // MQTT_XDS_TEST_LOG=info (or debug) shows the control plane's log when a test misbehaves.
  const level = process.env.MQTT_XDS_TEST_LOG;
  const logger = level === 'debug' || level === 'info' ? createLogger(level) : silentLogger;
  const plane = new ControlPlane({ config, logger });
  return plane.start().then(() => ({ plane }));
}
