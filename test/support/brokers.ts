import { fork } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from './repo-root';
import { LineRing, awaitReady, captureOutput, stopChild, track } from './child-process';

export interface TestBroker {
  name: string;
  port: number;
  /** MQTT over WebSockets (any path, subprotocol "mqtt"), on 127.0.0.1 too. */
  websocketPort: number;
  /** Clients connected right now, as last reported by the broker process. */
  clientCount(): number;
  /** Connections accepted since start, including ones already gone. */
  connectionsTotal(): number;
  /** How many clients with this id have connected since start (the last MAX_SEEN_IDS distinct ids). */
  connectsOf(clientId: string): number;
  logs(): string;
  /** Closes the broker and its client connections, then the process. Safe to call twice. */
  stop(): Promise<void>;
  /** SIGKILL: a crash, as clients and Envoy would see one. */
  kill(): Promise<void>;
}

const MAX_SEEN_IDS = 100_000;

const BROKER_SCRIPT = path.join(REPO_ROOT, 'test', 'tools', 'testbroker', 'mqtt-broker.mjs');

/**
 * Starts one real aedes broker in a child process on 127.0.0.1. `port` 0 (default)
 * lets the broker bind a free port itself; pass a port to restart a broker in place.
 */
export async function startBroker(name: string, port = 0, startTimeoutMs = 15_000): Promise<TestBroker> {
  const child = fork(BROKER_SCRIPT, [], {
    env: { ...process.env, BROKER_NAME: name, BROKER_PORT: String(port) },
    // jest workers carry their own node flags; the broker needs none of them.
    execArgv: [],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  track(child);
  const ring = new LineRing(200);
  captureOutput(child, ring);

  let clients = 0;
  let total = 0;
  const seen = new Map<string, number>();
  child.on('message', (msg: any) => {
    if (msg?.type === 'clients') {
      clients = Number(msg.count);
      total = Number(msg.connectionsTotal);
      if (typeof msg.clientId === 'string') {
        // Bounded: a long demo run must not grow this without end (Map keeps insertion order).
        if (!seen.has(msg.clientId) && seen.size >= MAX_SEEN_IDS) seen.delete(seen.keys().next().value as string);
        seen.set(msg.clientId, (seen.get(msg.clientId) ?? 0) + 1);
      }
    }
  });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= stopChild(child, {
      graceMs: 5000,
      ask: () => (child.connected ? child.send({ type: 'stop' }) : child.kill('SIGTERM')),
    }));
  const kill = (): Promise<void> => (stopping ??= stopChild(child, { graceMs: 0, ask: () => child.kill('SIGKILL') }));

  const { port: boundPort, websocketPort } = await awaitReady<{ type: 'ready'; port: number; websocketPort: number }>(child, {
    what: `broker ${name}`,
    timeoutMs: startTimeoutMs,
    abort: kill,
    output: () => ring.text(),
  });

  return {
    name,
    port: boundPort,
    websocketPort,
    clientCount: () => clients,
    connectionsTotal: () => total,
    connectsOf: (clientId) => seen.get(clientId) ?? 0,
    logs: () => ring.text(),
    stop,
    kill,
  };
}

/** Starts `n` brokers named broker-0 … broker-(n-1) in parallel. */
export async function startBrokers(n: number): Promise<TestBroker[]> {
  const settled = await Promise.allSettled(Array.from({ length: n }, (_, i) => startBroker(`broker-${i}`)));
  const started = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(started.map((b) => b.stop()));
    throw failed.reason;
  }
  return started;
}

export async function stopBrokers(brokers: readonly TestBroker[]): Promise<void> {
  await Promise.all(brokers.map((b) => b.stop()));
}
