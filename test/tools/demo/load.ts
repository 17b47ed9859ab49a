// The demo's synthetic load (`scripts/demo --load[=N]`): N MQTT clients that connect
// through Envoy over TLS, a few per second, and each publish a small message every second
// to a topic of their own that nobody subscribes to. Bounded: a fixed number of clients,
// one message a second each; stopping ends them all. They give the capacity test brokers
// work, so the weights mqtt-xds computes from the brokers' metrics visibly move.
import fs from 'node:fs';
import mqtt, { type MqttClient } from 'mqtt';

export const DEFAULT_LOAD_CLIENTS = 150;
export const MAX_LOAD_CLIENTS = 2000;

export interface LoadOptions {
  readonly host: string;
  readonly port: number;
  readonly caFile: string;
  readonly clients: number;
  /** New clients per second while ramping up. */
  readonly perSecond?: number;
  readonly publishEveryMs?: number;
}

export interface Load {
  /** Clients connected now. */
  connected(): number;
  /** Clients started so far (connected or reconnecting). */
  started(): number;
  stop(): Promise<void>;
}

export function startLoad(options: LoadOptions): Load {
  const { perSecond = 10, publishEveryMs = 1000 } = options;
  const ca = fs.readFileSync(options.caFile);
  const clients: MqttClient[] = [];
  let stopped = false;
  const ramp = setInterval(() => {
    for (let i = 0; i < Math.max(1, Math.round(perSecond / 4)) && clients.length < options.clients; i++) clients.push(open(clients.length));
    if (clients.length >= options.clients) clearInterval(ramp);
  }, 250);
  const open = (n: number): MqttClient => {
    const id = `demo-load-${n}`;
    const client = mqtt.connect({
      protocol: 'mqtts',
      host: options.host,
      port: options.port,
      ca,
      servername: 'localhost',
      clientId: id,
      clean: true,
      protocolVersion: 4,
      keepalive: 30,
      // A client that loses its broker comes back, as an IoT device would.
      reconnectPeriod: 2000,
      connectTimeout: 10_000,
    });
    client.on('error', () => undefined);
    // Spread the publishes over the second, so the load is smooth.
    const offset = setTimeout(() => {
      const every = setInterval(() => {
        if (client.connected) client.publish(`load/${id}`, 'x', { qos: 0 });
      }, publishEveryMs);
      client.once('end', () => clearInterval(every));
    }, Math.random() * publishEveryMs);
    client.once('end', () => clearTimeout(offset));
    return client;
  };
  return {
    connected: () => clients.filter((c) => c.connected).length,
    started: () => clients.length,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      clearInterval(ramp);
      await Promise.all(clients.map((c) => new Promise<void>((resolve) => c.end(true, {}, () => resolve()))));
    },
  };
}

/** `--load` → the default count, `--load=N` → N; undefined without the flag; a string names a bad value. */
export function parseLoadFlag(argv: readonly string[]): { clients: number | undefined } | { error: string } {
  let clients: number | undefined;
  for (const arg of argv) {
    if (arg === '--load') clients = DEFAULT_LOAD_CLIENTS;
    else if (arg.startsWith('--load=')) {
      const text = arg.slice('--load='.length);
      const n = Number(text);
      if (!/^\d+$/.test(text) || n < 1 || n > MAX_LOAD_CLIENTS) {
        return { error: `--load=${text}: expected a number of clients in 1..${MAX_LOAD_CLIENTS}, e.g. --load=${DEFAULT_LOAD_CLIENTS}` };
      }
      clients = n;
    } else if (arg === '--help' || arg === '-h') {
      return {
        error:
          'usage: scripts/demo [--load[=N]]   (N simulated clients, default ' + `${DEFAULT_LOAD_CLIENTS}, at most ${MAX_LOAD_CLIENTS})`,
      };
    } else {
      return { error: `unknown argument ${JSON.stringify(arg)}; usage: scripts/demo [--load[=N]]` };
    }
  }
  return { clients };
}
