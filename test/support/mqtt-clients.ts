import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';

export interface ConnectClientsOptions {
  host: string;
  port: number;
  count: number;
  /** Client ids are `${prefix}-${poolToken}-${i}`; the token keeps pools apart. */
  prefix: string;
  /** 4 = MQTT 3.1.1 (default), 5 = MQTT 5. aedes speaks 3.1.1 only. */
  protocolVersion?: 4 | 5;
  /** Connects in flight at once. Default 50. */
  concurrency?: number;
  connectTimeoutMs?: number;
  /** Seconds; 0 disables keepalive pings. Default 60. */
  keepaliveS?: number;
  /** MQTT over TLS (mqtts), verifying the server against `ca` for `servername`; `cert`/`key`: a client certificate (mTLS). */
  tls?: { ca: string; servername: string; cert?: string; key?: string };
}

export interface ClientPool {
  clients: MqttClient[];
  /** How many clients lost their connection after CONNACK, not counting endAll. */
  closed(): number;
  /** Ids of those clients, for messages. */
  closedIds(): string[];
  /** Ends every client (DISCONNECT, then force after 5 s). Safe to call twice. */
  endAll(): Promise<void>;
}

/**
 * Connects `count` MQTT clients that never reconnect, so a connection Envoy or a
 * broker drops stays visible in closed(). Rejects (after ending the ones that did
 * connect) if any client fails.
 */
export async function connectClients(options: ConnectClientsOptions): Promise<ClientPool> {
  const { pool, refused, reasons } = await connectBatches(options, true);
  if (refused > 0) {
    await pool.endAll();
    throw new Error(
      `${refused} of ${options.count} MQTT clients failed to connect to ${options.host}:${options.port} ` +
        `(stopped after the failing batch); first: ${reasons[0]}`,
    );
  }
  return pool;
}

export interface Attempt {
  /** The clients that got a CONNACK; closed() counts those lost later, as for connectClients. */
  pool: ClientPool;
  /** Clients whose connection was closed (or timed out) before CONNACK. */
  refused: number;
  /** Why, for the first few. */
  reasons: string[];
}

/**
 * Like connectClients, but a client that fails is counted instead of failing the lot:
 * for tests where Envoy is expected to shed some of them.
 */
export function tryConnectClients(options: ConnectClientsOptions): Promise<Attempt> {
  return connectBatches(options, false);
}

/** Connects in batches of `concurrency`; with stopOnRefusal, no batch starts after one that had a failure. */
async function connectBatches(options: ConnectClientsOptions, stopOnRefusal: boolean): Promise<Attempt> {
  const { count, prefix, concurrency = 50 } = options;
  const token = randomBytes(3).toString('hex');
  const clients: MqttClient[] = [];
  const closedIds = new Set<string>();
  const reasons: string[] = [];
  let refused = 0;
  let ending = false;
  for (let start = 0; start < count; start += concurrency) {
    const batch = Array.from({ length: Math.min(concurrency, count - start) }, (_, k) =>
      connectOne(options, `${prefix}-${token}-${start + k}`),
    );
    for (const result of await Promise.allSettled(batch)) {
      if (result.status === 'fulfilled') {
        const client = result.value;
        clients.push(client);
        client.once('close', () => {
          if (!ending) closedIds.add(client.options.clientId ?? '?');
        });
        // With reconnectPeriod 0 an error is followed by 'close'; this only keeps an
        // unhandled 'error' from crashing the test.
        client.on('error', () => undefined);
      } else {
        refused += 1;
        if (reasons.length < 5) reasons.push(result.reason instanceof Error ? result.reason.message : String(result.reason));
      }
    }
    if (stopOnRefusal && refused > 0) break;
  }
  let ended: Promise<void> | undefined;
  const endAll = (): Promise<void> => {
    ending = true;
    return (ended ??= Promise.all(clients.map(endClient)).then(() => undefined));
  };
  return { pool: { clients, closed: () => closedIds.size, closedIds: () => [...closedIds], endAll }, refused, reasons };
}

function connectOne(options: ConnectClientsOptions, clientId: string): Promise<MqttClient> {
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  const client = mqtt.connect({
    host: options.host,
    port: options.port,
    ...(options.tls ? { protocol: 'mqtts' as const, rejectUnauthorized: true, ...options.tls } : { protocol: 'mqtt' as const }),
    protocolVersion: options.protocolVersion ?? 4,
    clientId,
    clean: true,
    keepalive: options.keepaliveS ?? 60,
    reconnectPeriod: 0,
    connectTimeout: connectTimeoutMs,
  });
  return new Promise((resolve, reject) => {
    let lastError = '';
    const cleanup = (): void => {
      client.removeListener('connect', onConnect);
      client.removeListener('error', onError);
      client.removeListener('close', onClose);
    };
    const onConnect = (): void => {
      cleanup();
      resolve(client);
    };
    const onError = (err: Error): void => {
      lastError = err.message;
    };
    // Envoy accepts the TCP connection even when no broker is behind it and then
    // closes it, so "closed before CONNACK" is the usual failure, not 'error'.
    const onClose = (): void => {
      cleanup();
      client.end(true);
      reject(new Error(`${clientId}: connection closed before CONNACK${lastError ? ` (${lastError})` : ''}`));
    };
    client.on('connect', onConnect);
    client.on('error', onError);
    client.on('close', onClose);
  });
}

function endClient(client: MqttClient): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => client.end(true, {}, () => resolve()), 5000);
    client.end(false, {}, () => {
      clearTimeout(force);
      resolve();
    });
  });
}

export interface PublishAndReceiveOptions {
  host: string;
  port: number;
  topic: string;
  timeoutMs?: number;
  protocolVersion?: 4 | 5;
  tls?: ConnectClientsOptions['tls'];
}

/**
 * Subscribes a client, publishes on the same topic from the same client and resolves
 * when the message comes back: a full MQTT round trip through whatever sits at
 * host:port. One client, because the test brokers are not clustered and two clients
 * behind a load balancer may land on different brokers.
 */
export async function publishAndReceive(options: PublishAndReceiveOptions): Promise<void> {
  const { host, port, topic, timeoutMs = 10_000, protocolVersion, tls } = options;
  const payload = `ping-${randomBytes(6).toString('hex')}`;
  const pools: ClientPool[] = [];
  let finished = false;
  // A pool that finishes connecting after the timeout ends itself instead of leaking.
  const open = async (prefix: string): Promise<MqttClient> => {
    const pool = await connectClients({
      host,
      port,
      count: 1,
      prefix,
      protocolVersion,
      connectTimeoutMs: timeoutMs,
      ...(tls ? { tls } : {}),
    });
    pools.push(pool);
    if (finished) {
      await pool.endAll();
      throw new Error('publishAndReceive already gave up');
    }
    return pool.clients[0];
  };
  const roundTrip = async (): Promise<void> => {
    const subscriber = await open('sub');
    const received = new Promise<void>((resolve) => {
      subscriber.on('message', (t, message) => {
        if (t === topic && message.toString() === payload) resolve();
      });
    });
    await subscriber.subscribeAsync(topic, { qos: 1 });
    await subscriber.publishAsync(topic, payload, { qos: 1 });
    await received;
  };

  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no message on ${topic} via ${host}:${port} within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([roundTrip(), timeout]);
  } finally {
    finished = true;
    clearTimeout(timer);
    await Promise.all(pools.map((p) => p.endAll()));
  }
}

/**
 * One MQTT 3.1.1 client over plain TCP that never reconnects: resolves at its CONNACK, and
 * rejects if the connection ends before it (a refusal by Envoy or its filter).
 */
export function connectClient(port: number, clientId: string): Promise<mqtt.MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, { clientId, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 10_000 });
    client.once('connect', () => resolve(client));
    client.once('error', (err) => {
      client.end(true);
      reject(err);
    });
    client.once('close', () => reject(new Error(`${clientId}: closed before CONNACK`)));
  });
}

/** Subscribes to `topic`, publishes to it at QoS 1 and resolves with what came back. */
export async function roundTrip(client: mqtt.MqttClient, topic: string): Promise<string> {
  const got = new Promise<string>((resolve) => client.on('message', (t, payload) => t === topic && resolve(payload.toString())));
  await client.subscribeAsync(topic, { qos: 1 });
  await client.publishAsync(topic, `via ${topic}`, { qos: 1 });
  return got;
}
