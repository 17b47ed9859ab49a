// bench:filter's clients: raw sockets with pre-encoded packets, so the client spends as little
// as possible per operation and the proxy is what limits the rate.
// - connectRate: `count` CONNECT→CONNACK exchanges, `concurrency` at a time, each on a fresh
//   connection that sends DISCONNECT and closes once its CONNACK is in.
// - publishFlood: `connections` clients CONNECT, then write QoS 0 PUBLISH packets as fast as
//   the socket takes them (write() and 'drain'), until told to stop.
import net from 'node:net';
import { connectPacket, utf8Field, varint } from '../../support/mqtt-packets';

const DISCONNECT = Buffer.from([0xe0, 0x00]);
const CONNACK_BYTES = 4;

export interface ConnectRateResult {
  readonly done: number;
  readonly failed: number;
  readonly elapsedMs: number;
  /** The deadline passed before every exchange was done. */
  readonly timedOut: boolean;
}

/** One CONNECT→CONNACK on a fresh connection; resolves true on an accepted CONNACK. */
function exchange(port: number, clientId: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const packet = Buffer.from(connectPacket({ level: 4, clientId, cleanStart: true, keepAliveS: 60 }));
    const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
    let got = 0;
    let settled = false;
    const finish = (ok: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (ok) socket.end(DISCONNECT);
      else socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('connect', () => socket.write(packet));
    socket.on('data', (chunk: Buffer) => {
      if (got === 0 && chunk[0] !== 0x20) return finish(false);
      got += chunk.length;
      if (got >= CONNACK_BYTES) finish(chunk[chunk.length - 1] === 0x00);
    });
    socket.on('error', () => finish(false));
    socket.on('close', () => finish(false));
  });
}

export async function connectRate(o: {
  port: number;
  count: number;
  concurrency: number;
  prefix: string;
  deadlineMs: number;
}): Promise<ConnectRateResult> {
  const started = Date.now();
  const deadline = started + o.deadlineMs;
  let next = 0;
  let done = 0;
  let failed = 0;
  await Promise.all(
    Array.from({ length: Math.min(o.concurrency, o.count) }, async () => {
      while (next < o.count && Date.now() < deadline) {
        const i = next++;
        if (await exchange(o.port, `${o.prefix}-${i}`, Math.max(1, deadline - Date.now()))) done++;
        else failed++;
      }
    }),
  );
  return { done, failed, elapsedMs: Date.now() - started, timedOut: done + failed < o.count };
}

/** A chunk of `packets` identical QoS 0 PUBLISH packets: topic, then `payloadBytes` bytes. */
export function publishChunk(topic: string, payloadBytes: number, packets: number): Buffer {
  const body = Buffer.concat([Buffer.from(utf8Field(topic)), Buffer.alloc(payloadBytes, 0x61)]);
  const one = Buffer.concat([Buffer.from([0x30, ...varint(body.length)]), body]);
  return Buffer.concat(Array.from({ length: packets }, () => one));
}

export interface Flood {
  /** PUBLISH packets written so far (the broker's count is the one to trust). */
  readonly written: () => number;
  stop(): Promise<void>;
}

export async function publishFlood(o: {
  port: number;
  connections: number;
  prefix: string;
  chunk: Buffer;
  packetsPerChunk: number;
  connectTimeoutMs: number;
}): Promise<Flood> {
  let written = 0;
  let stopped = false;
  const sockets = await Promise.all(
    Array.from(
      { length: o.connections },
      (_, i) =>
        new Promise<net.Socket>((resolve, reject) => {
          const socket = net.connect({ host: '127.0.0.1', port: o.port, noDelay: true });
          const timer = setTimeout(() => {
            socket.destroy();
            reject(new Error(`publisher ${i}: no CONNACK within ${o.connectTimeoutMs} ms`));
          }, o.connectTimeoutMs);
          socket.once('connect', () =>
            socket.write(Buffer.from(connectPacket({ level: 4, clientId: `${o.prefix}-${i}`, keepAliveS: 60 }))),
          );
          socket.once('data', (chunk: Buffer) => {
            clearTimeout(timer);
            if (chunk[0] !== 0x20) return reject(new Error(`publisher ${i}: expected CONNACK, got 0x${chunk[0].toString(16)}`));
            resolve(socket);
          });
          socket.on('error', (err) => {
            clearTimeout(timer);
            reject(new Error(`publisher ${i}: ${err.message}`));
          });
        }),
    ),
  );
  for (const socket of sockets) {
    const pump = (): void => {
      while (!stopped) {
        written += o.packetsPerChunk;
        if (!socket.write(o.chunk)) return void socket.once('drain', pump);
      }
    };
    // Data the broker sends back (none for QoS 0) is read and dropped, so nothing backs up.
    socket.on('data', () => undefined);
    setImmediate(pump);
  }
  return {
    written: () => written,
    stop: async () => {
      stopped = true;
      await Promise.all(
        sockets.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.once('close', () => resolve());
              s.destroy();
            }),
        ),
      );
    },
  };
}
