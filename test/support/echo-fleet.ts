// Devices with traffic: MQTT 5 clients that each subscribe to their own topic and publish
// to it at QoS 1 (every message comes back through the broker), and that end their
// connection after a random lifetime and connect again, as mobile devices do. A server
// DISCONNECT (a rebalance) or a dropped connection is followed by a reconnect too.
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';

export interface EchoFleetOptions {
  readonly host: string;
  readonly port: number;
  readonly count: number;
  readonly prefix: string;
  /** Each client publishes one message this often. */
  readonly publishIntervalMs: number;
  readonly payloadBytes?: number;
  /** A connection lives a random time in [min, max] ms, then the client connects again. */
  readonly lifetimeMs: readonly [number, number];
  /** Clients started at once while the fleet comes up. Default 25. */
  readonly concurrency?: number;
}

export interface EchoFleet {
  connected(): number;
  /** Messages that came back to their publisher. */
  received(): number;
  stop(): Promise<void>;
}

export async function startEchoFleet(o: EchoFleetOptions): Promise<EchoFleet> {
  const token = randomBytes(3).toString('hex');
  const payload = Buffer.alloc(o.payloadBytes ?? 64, 0x61);
  const live = new Set<MqttClient>();
  const timers = new Set<NodeJS.Timeout>();
  let received = 0;
  let stopping = false;
  const later = (fn: () => void, ms: number): void => {
    const t = setTimeout(() => {
      timers.delete(t);
      if (!stopping) fn();
    }, ms);
    timers.add(t);
  };

  /** One connection of client i; resolves at its first CONNACK (or after 30 s without one). */
  const connect = (i: number): Promise<void> =>
    new Promise((resolve) => {
      const topic = `${o.prefix}/${token}/${i}`;
      const client = mqtt.connect({
        host: o.host,
        port: o.port,
        protocolVersion: 5,
        clientId: `${o.prefix}-${token}-${i}`,
        clean: true,
        keepalive: 60,
        reconnectPeriod: 0,
        connectTimeout: 10_000,
      });
      live.add(client);
      let publisher: NodeJS.Timeout | undefined;
      let settled = false;
      const done = (): void => {
        if (!settled) resolve();
        settled = true;
      };
      const giveUp = setTimeout(done, 30_000);
      client.on('connect', () => {
        clearTimeout(giveUp);
        done();
        void client.subscribeAsync(topic, { qos: 1 }).catch(() => undefined);
        // Spread the clients' publishes over the interval.
        publisher = setInterval(() => client.publish(topic, payload, { qos: 1 }, () => undefined), o.publishIntervalMs);
        const [min, max] = o.lifetimeMs;
        later(() => client.end(false), min + Math.random() * (max - min));
      });
      client.on('message', () => {
        received += 1;
      });
      client.on('error', () => undefined);
      client.on('close', () => {
        clearInterval(publisher);
        clearTimeout(giveUp);
        done();
        if (!live.delete(client)) return;
        client.removeAllListeners('close');
        client.end(true);
        // Reconnect after a short backoff, through whatever sits at host:port.
        later(() => void connect(i), 200 + Math.random() * 300);
      });
    });

  const c = o.concurrency ?? 25;
  for (let start = 0; start < o.count && !stopping; start += c) {
    await Promise.all(Array.from({ length: Math.min(c, o.count - start) }, (_, k) => connect(start + k)));
  }
  return {
    connected: () => [...live].filter((cl) => cl.connected).length,
    received: () => received,
    stop: async () => {
      stopping = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      const clients = [...live];
      live.clear();
      await Promise.all(clients.map((cl) => new Promise<void>((resolve) => cl.end(true, {}, () => resolve()))));
    },
  };
}
