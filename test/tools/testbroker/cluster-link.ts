// The test brokers' cluster link: a loopback-only full mesh that makes capacity test
// brokers share messages like a broker cluster. Each broker listens on 127.0.0.1 for its
// peers and dials every peer it is told of. A PUBLISH a client sent to one broker is sent
// once over each outgoing link; a broker delivers what arrives on a link to its own
// subscribers and never sends it on. One hop in a full mesh: no loops, no duplicates.
//
// Delivery across a link is at most once: frames wait in a bounded queue per peer (while
// the link connects or the socket is full) and are dropped, and counted, beyond it or when
// the peer goes away. docs/test-broker.md#cluster-link has the semantics.
import net from 'node:net';
import { clusterFrameBytes, ClusterFrameDecoder, DEFAULT_MAX_FRAME_BYTES, encodeClusterFrame, type ClusterMessage } from './cluster-frame';
import { fail, ok, type Problem, type Result } from '../../../src/util/result';
import type { Logger } from '../../../src/util/log';

export const CLUSTER_HOST = '127.0.0.1';
/** Peers a broker may be given; a mesh of test brokers on one machine is small. */
export const MAX_CLUSTER_PEERS = 64;
const MAX_INBOUND_LINKS = 64;
/** Messages received but not yet delivered, across links, before the links stop reading. */
const MAX_PENDING_DELIVERIES = 1000;
const QUEUE_BYTES_LIMIT = 16 * 1024 * 1024;
const RECONNECT_MIN_MS = 200;
const RECONNECT_MAX_MS = 5000;

export interface ClusterLinkOptions {
  /** Port to listen on at 127.0.0.1; 0 = any free port. */
  readonly port: number;
  /** Frames queued per peer before new ones are dropped. */
  readonly queueLimit: number;
  readonly maxFrameBytes?: number;
  readonly log: Logger;
  /**
   * A message from a peer, to be delivered to this broker's own subscribers only. The
   * link waits for one delivery to finish before it starts the next.
   */
  readonly onMessage: (message: ClusterMessage) => Promise<void>;
}

export interface PeerStatus {
  readonly address: string;
  readonly connected: boolean;
  readonly queued: number;
  readonly sent: number;
  readonly dropped: number;
}

/** GET /admin/cluster. */
export interface ClusterStatus {
  readonly port: number;
  readonly peers: PeerStatus[];
  /** Messages sent to peers (one per peer), received from peers, and inbound links open. */
  readonly forwarded: number;
  readonly received: number;
  readonly inboundLinks: number;
  readonly dropped: { readonly queueFull: number; readonly tooLarge: number; readonly peerRemoved: number };
  readonly refusedLinks: number;
}

export interface PeerAddress {
  readonly host: string;
  readonly port: number;
}

/** "127.0.0.1:40001" → a loopback peer, or the reason it is not one. */
export function parsePeerAddress(text: string, path: string): Result<PeerAddress> {
  const m = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|\[::1\]):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port < 1 || port > 65535) {
    const problem: Problem = {
      code: 'CLUSTER_PEER',
      path,
      message: `expected a loopback "host:port" such as "127.0.0.1:40001" (the cluster link never leaves the machine), got ${JSON.stringify(text)}`,
    };
    return fail([problem]);
  }
  return ok({ host: m[1] === '[::1]' ? '::1' : m[1], port });
}

const key = (p: PeerAddress): string => (p.host.includes(':') ? `[${p.host}]:${p.port}` : `${p.host}:${p.port}`);

export class ClusterLink {
  private readonly server = net.createServer((socket) => this.accept(socket));
  private readonly peers = new Map<string, Peer>();
  private readonly inbound = new Set<net.Socket>();
  private port = 0;
  private forwarded = 0;
  private received = 0;
  private refusedLinks = 0;
  private readonly dropped = { queueFull: 0, tooLarge: 0, peerRemoved: 0 };
  private closed = false;
  private readonly maxFrameBytes: number;
  private readonly pending: ClusterMessage[] = [];
  private delivering = false;

  constructor(private readonly options: ClusterLinkOptions) {
    this.maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  }

  start(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, CLUSTER_HOST, () => {
        this.server.removeListener('error', reject);
        this.port = (this.server.address() as net.AddressInfo).port;
        resolve(this.port);
      });
    });
  }

  /** Replaces the peer set: new peers are dialled, removed ones closed (their queues dropped). */
  setPeers(peers: readonly PeerAddress[]): Result<PeerStatus[]> {
    const problems: Problem[] = [];
    const wanted = new Map<string, PeerAddress>();
    peers.forEach((p, i) => {
      const k = key(p);
      if (p.port === this.port && (p.host.startsWith('127.') || p.host === 'localhost' || p.host === '::1')) {
        problems.push({
          code: 'CLUSTER_PEER_SELF',
          path: `peers[${i}]`,
          message: `${k} is this broker's own link; it would deliver every message twice`,
        });
      } else if (wanted.has(k)) {
        problems.push({
          code: 'CLUSTER_PEER_DUPLICATE',
          path: `peers[${i}]`,
          message: `${k} is listed twice; it would get every message twice`,
        });
      }
      wanted.set(k, p);
    });
    if (wanted.size > MAX_CLUSTER_PEERS) {
      problems.push({ code: 'CLUSTER_PEERS_TOO_MANY', path: 'peers', message: `at most ${MAX_CLUSTER_PEERS} peers, got ${wanted.size}` });
    }
    if (problems.length > 0) return fail(problems);
    for (const [k, peer] of this.peers) {
      if (wanted.has(k)) continue;
      this.dropped.peerRemoved += peer.close();
      this.peers.delete(k);
    }
    for (const [k, address] of wanted) {
      if (!this.peers.has(k)) this.peers.set(k, new Peer(k, address, this.options.queueLimit, this.options.log));
    }
    return ok(this.status().peers);
  }

  /** Sends a client's PUBLISH to every peer, once each. */
  forward(message: ClusterMessage): void {
    if (this.closed || this.peers.size === 0) return;
    if (clusterFrameBytes(message) - 4 > this.maxFrameBytes) {
      this.dropped.tooLarge += this.peers.size;
      return;
    }
    const frame = encodeClusterFrame(message);
    for (const peer of this.peers.values()) {
      if (peer.send(frame)) this.forwarded += 1;
      else this.dropped.queueFull += 1;
    }
  }

  status(): ClusterStatus {
    return {
      port: this.port,
      peers: [...this.peers.values()].map((p) => p.status()),
      forwarded: this.forwarded,
      received: this.received,
      inboundLinks: this.inbound.size,
      dropped: { ...this.dropped },
      refusedLinks: this.refusedLinks,
    };
  }

  close(): void {
    this.closed = true;
    for (const peer of this.peers.values()) peer.close();
    this.peers.clear();
    for (const socket of this.inbound) socket.destroy();
    this.server.close();
  }

  private async deliver(): Promise<void> {
    if (this.delivering) return;
    this.delivering = true;
    try {
      for (let m = this.pending.shift(); m !== undefined; m = this.pending.shift()) {
        await this.options.onMessage(m).catch(() => undefined);
        if (this.pending.length < MAX_PENDING_DELIVERIES / 2) for (const s of this.inbound) if (s.isPaused()) s.resume();
      }
    } finally {
      this.delivering = false;
    }
  }

  private accept(socket: net.Socket): void {
    if (this.closed || this.inbound.size >= MAX_INBOUND_LINKS) {
      this.refusedLinks += 1;
      socket.destroy();
      return;
    }
    this.inbound.add(socket);
    const decoder = new ClusterFrameDecoder(this.maxFrameBytes);
    socket.on('data', (chunk: Buffer) => {
      const result = decoder.push(chunk);
      if (!result.ok) {
        this.options.log.warn('cluster link refused', { code: result.code, reason: result.message, from: socket.remotePort });
        this.refusedLinks += 1;
        socket.destroy();
        return;
      }
      this.received += result.messages.length;
      this.pending.push(...result.messages);
      // Bounded: a peer faster than local delivery waits on TCP (its own queue then fills).
      if (this.pending.length >= MAX_PENDING_DELIVERIES) socket.pause();
      void this.deliver();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => this.inbound.delete(socket));
  }
}

/** One outgoing link: dials, redials with backoff, and queues within bounds. */
class Peer {
  private socket: net.Socket | undefined;
  private connected = false;
  /** The socket asked us to wait for 'drain'. */
  private blocked = false;
  private queue: Buffer[] = [];
  private queuedBytes = 0;
  private sent = 0;
  private dropped = 0;
  private backoffMs = RECONNECT_MIN_MS;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private loggedDown = false;

  constructor(
    private readonly name: string,
    private readonly address: PeerAddress,
    private readonly queueLimit: number,
    private readonly log: Logger,
  ) {
    this.dial();
  }

  /** False when the frame was dropped because the queue is full. */
  send(frame: Buffer): boolean {
    if (this.connected && !this.blocked && this.queue.length === 0) {
      this.write(frame);
      return true;
    }
    if (this.queue.length >= this.queueLimit || this.queuedBytes + frame.length > QUEUE_BYTES_LIMIT) {
      this.dropped += 1;
      return false;
    }
    this.queue.push(frame);
    this.queuedBytes += frame.length;
    return true;
  }

  status(): PeerStatus {
    return { address: this.name, connected: this.connected, queued: this.queue.length, sent: this.sent, dropped: this.dropped };
  }

  /** Closes the link; returns how many queued frames were dropped with it. */
  close(): number {
    this.closed = true;
    clearTimeout(this.timer);
    this.socket?.destroy();
    const lost = this.queue.length;
    this.queue = [];
    this.queuedBytes = 0;
    return lost;
  }

  private write(frame: Buffer): void {
    this.sent += 1;
    if (!this.socket?.write(frame)) this.blocked = true;
  }

  private flush(): void {
    while (this.connected && !this.blocked && this.queue.length > 0) {
      const frame = this.queue.shift() as Buffer;
      this.queuedBytes -= frame.length;
      this.write(frame);
    }
  }

  private dial(): void {
    if (this.closed) return;
    const socket = net.connect({ host: this.address.host, port: this.address.port });
    this.socket = socket;
    socket.setNoDelay(true);
    socket.once('connect', () => {
      this.connected = true;
      this.blocked = false;
      this.backoffMs = RECONNECT_MIN_MS;
      if (this.loggedDown) this.log.info('cluster peer up', { peer: this.name });
      this.loggedDown = false;
      this.flush();
    });
    socket.on('drain', () => {
      this.blocked = false;
      this.flush();
    });
    // Nothing is read from an outgoing link; a peer that sends anything is ignored.
    socket.on('data', () => undefined);
    socket.on('error', () => undefined);
    socket.once('close', () => {
      const wasConnected = this.connected;
      this.connected = false;
      if (this.closed) return;
      // Frames written to a socket that then closed may be lost: at most once.
      if (!this.loggedDown) this.log.warn('cluster peer down; redialling', { peer: this.name, wasConnected });
      this.loggedDown = true;
      this.timer = setTimeout(() => this.dial(), this.backoffMs);
      this.timer.unref();
      this.backoffMs = Math.min(RECONNECT_MAX_MS, this.backoffMs * 2);
    });
  }
}
