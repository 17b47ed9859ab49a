// The capacity broker's PROXY protocol front: wraps the MQTT port's connection handler so
// each socket's header is decided (proxy-accept.ts) and recorded (proxy-ledger.ts) before
// aedes sees it, and joins a record to the client id the socket's CONNECT carries.
import type { Socket } from 'node:net';
import { acceptProxied } from './proxy-accept';
import type { ProxyProtocolConfig } from './proxy-flags';
import { ProxyLedger, type ProxyConnectionRecord, type ProxyCounts, type ProxyReport, type ProxyReportQuery } from './proxy-ledger';
import type { Logger } from '../../../src/util/log';

export class ProxyFront {
  private readonly ledger: ProxyLedger;
  private readonly records = new WeakMap<Socket, ProxyConnectionRecord>();

  constructor(
    private readonly config: ProxyProtocolConfig,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.ledger = new ProxyLedger(config.proxyHistory);
  }

  /** The MQTT server's connection handler: `handle` itself when the protocol is off. */
  wrap(handle: (socket: Socket) => void): (socket: Socket) => void {
    const { proxyProtocol: mode, proxyMaxHeaderBytes: maxHeaderBytes, proxyHeaderTimeoutMs: headerTimeoutMs } = this.config;
    if (mode === 'off') return handle;
    return (socket) => {
      // Read now: a destroyed socket no longer knows its peer.
      const peer = { address: socket.remoteAddress ?? '', port: socket.remotePort ?? null };
      acceptProxied(
        socket,
        { mode, maxHeaderBytes, headerTimeoutMs },
        (outcome) => {
          const record = this.ledger.record(outcome, peer, this.now());
          this.records.set(socket, record);
          if (outcome.kind === 'refused') this.log.info('proxy header refused', { peer, ...outcome.error });
        },
        handle,
      );
    };
  }

  /** The client on `conn` sent CONNECT with `clientId` (or was assigned it). */
  noteClient(conn: unknown, clientId: string): void {
    const record = this.records.get(conn as Socket);
    if (record) this.ledger.attachClient(record, clientId);
  }

  counts(): ProxyCounts {
    return this.ledger.counts();
  }

  report(query?: ProxyReportQuery): ProxyReport {
    const { proxyProtocol: mode, proxyMaxHeaderBytes: maxHeaderBytes, proxyHeaderTimeoutMs: headerTimeoutMs } = this.config;
    return this.ledger.report({ mode, maxHeaderBytes, headerTimeoutMs, historySize: this.config.proxyHistory }, query);
  }
}
