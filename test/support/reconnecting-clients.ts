import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';

export interface ReconnectingOptions {
  host: string;
  port: number;
  count: number;
  prefix: string;
  protocolVersion?: 4 | 5;
  /** Delay before each reconnect, as an MQTT client's backoff. Default 300 ms. */
  reconnectPeriodMs?: number;
  /** Ids of clients that join a shared subscription ($share/<group>/<topic>) after each connect. */
  sharedSubscriber?: (i: number) => boolean;
  concurrency?: number;
}

export interface ReconnectingPool {
  readonly clients: MqttClient[];
  /** Connections that ended after CONNACK (moved, dropped), excluding endAll. */
  lost(): number;
  /** Connection attempts that ended before CONNACK: what a client sees as a failed connect. */
  failedAttempts(): number;
  /** Clients connected right now. */
  connected(): number;
  /** Server DISCONNECT reason codes received (MQTT 5), by code. */
  disconnectReasons(): Map<number, number>;
  /** Ids of the clients that lost a connection at least once. */
  movedIds(): Set<string>;
  endAll(): Promise<void>;
}

/**
 * MQTT clients that behave like real devices: when their connection ends they reconnect
 * after a short backoff, through whatever sits at host:port. Counts what a drain or a
 * rebalance must keep at zero (failed attempts) and what it causes (lost connections).
 */
export async function connectReconnectingClients(options: ReconnectingOptions): Promise<ReconnectingPool> {
  const { count, concurrency = 50 } = options;
  const token = randomBytes(3).toString('hex');
  const clients: MqttClient[] = [];
  let lost = 0;
  let failed = 0;
  let ending = false;
  const reasons = new Map<number, number>();
  const moved = new Set<string>();
  /** Every client made, connected or not: a pool that fails to start ends them all. */
  const opened: MqttClient[] = [];

  const open = (i: number): Promise<MqttClient> => {
    const clientId = `${options.prefix}-${token}-${i}`;
    const client = mqtt.connect({
      host: options.host,
      port: options.port,
      protocolVersion: options.protocolVersion ?? 4,
      clientId,
      clean: true,
      keepalive: 60,
      reconnectPeriod: options.reconnectPeriodMs ?? 300,
      connectTimeout: 10_000,
    });
    opened.push(client);
    let up = false;
    client.on('connect', () => {
      up = true;
      if (options.sharedSubscriber?.(i)) void client.subscribeAsync('$share/workers/jobs', { qos: 0 }).catch(() => undefined);
    });
    client.on('close', () => {
      if (ending) return;
      if (up) {
        lost += 1;
        moved.add(clientId);
      } else failed += 1;
      up = false;
    });
    client.on('disconnect', (packet) => {
      const code = packet.reasonCode ?? 0;
      reasons.set(code, (reasons.get(code) ?? 0) + 1);
    });
    client.on('error', () => undefined);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${clientId}: no CONNACK within 30 s`)), 30_000);
      client.once('connect', () => {
        clearTimeout(timer);
        resolve(client);
      });
    });
  };

  try {
    for (let start = 0; start < count; start += concurrency) {
      const batch = await Promise.all(Array.from({ length: Math.min(concurrency, count - start) }, (_, k) => open(start + k)));
      clients.push(...batch);
    }
  } catch (err) {
    // Otherwise the clients keep reconnecting after the test file is torn down, and their
    // timers crash the jest process that runs the files after it.
    ending = true;
    await Promise.all(opened.map((c) => new Promise<void>((resolve) => c.end(true, {}, () => resolve()))));
    throw err;
  }
  // Attempts that failed while the pool was first connecting are not what a test measures.
  failed = 0;

  let ended: Promise<void> | undefined;
  return {
    clients,
    lost: () => lost,
    failedAttempts: () => failed,
    connected: () => clients.filter((c) => c.connected).length,
    disconnectReasons: () => reasons,
    movedIds: () => moved,
    endAll: () => {
      ending = true;
      ended ??= Promise.all(
        clients.map(
          (c) =>
            new Promise<void>((resolve) => {
              const force = setTimeout(() => c.end(true, {}, () => resolve()), 3000);
              c.end(false, {}, () => {
                clearTimeout(force);
                resolve();
              });
            }),
        ),
      ).then(() => undefined);
      return ended;
    },
  };
}
