// What the test broker saw of each connection's PROXY header, for GET /admin/proxy: the
// last `capacity` connections (older ones are forgotten, the counts are not), each joined
// to the MQTT client id its CONNECT then carried. No I/O; the broker passes `nowMs`.
import type { ProxyOutcome } from './proxy-accept';
import type { ProxyCommand, ProxyEndpoint, ProxyError, ProxyFamily, ProxyTlvs, ProxyTransport } from './proxy-header';

/** One connection, as GET /admin/proxy lists it. */
export interface ProxyConnectionRecord {
  /** 1, 2, … in the order connections were accepted. */
  readonly connection: number;
  readonly acceptedAtMs: number;
  /** The TCP peer: the proxy itself when there was a header. */
  readonly peer: ProxyEndpoint;
  readonly outcome: ProxyOutcome['kind'];
  /** Null unless outcome is 'header'. */
  readonly version: 1 | 2 | null;
  readonly command: ProxyCommand | null;
  readonly family: ProxyFamily | null;
  readonly transport: ProxyTransport | null;
  readonly source: ProxyEndpoint | null;
  readonly destination: ProxyEndpoint | null;
  readonly tlvs: ProxyTlvs | null;
  readonly headerBytes: number | null;
  /** Why it was refused; null otherwise. */
  readonly error: ProxyError | null;
  /** The client id of the connection's CONNECT (the one aedes assigned if it was empty); null before one arrived. */
  readonly clientId: string | null;
}

export interface ProxyCounts {
  /** Connections the MQTT port accepted while the PROXY protocol was on. */
  readonly connections: number;
  /** Valid headers, of which v1, v2 and LOCAL (v2 only) commands. */
  readonly headers: number;
  readonly v1: number;
  readonly v2: number;
  readonly local: number;
  /** optional only: connections that began without a signature, passed on as plain MQTT. */
  readonly absent: number;
  /** Refused connections by error code; `refusedTotal` is their sum. */
  readonly refused: Readonly<Record<string, number>>;
  readonly refusedTotal: number;
}

export interface ProxyReportSettings {
  readonly mode: 'off' | 'required' | 'optional';
  readonly maxHeaderBytes: number;
  readonly headerTimeoutMs: number;
  readonly historySize: number;
}

/** GET /admin/proxy. */
export interface ProxyReport extends ProxyReportSettings {
  readonly counts: ProxyCounts;
  /** Oldest first; filtered by ?clientId= and cut to the newest ?limit= entries. */
  readonly connections: readonly ProxyConnectionRecord[];
}

export interface ProxyReportQuery {
  readonly clientId?: string;
  readonly limit?: number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export class ProxyLedger {
  /** A ring: `records[(start + i) % capacity]` is the i-th oldest. */
  private readonly records: Mutable<ProxyConnectionRecord>[] = [];
  private start = 0;
  private next = 1;
  private readonly totals = { connections: 0, headers: 0, v1: 0, v2: 0, local: 0, absent: 0, refusedTotal: 0 };
  private readonly refused = new Map<string, number>();

  constructor(private readonly capacity: number) {}

  /** Records a decided connection; the returned handle names it for `attachClient`. */
  record(outcome: ProxyOutcome, peer: ProxyEndpoint, nowMs: number): ProxyConnectionRecord {
    this.totals.connections += 1;
    const header = outcome.kind === 'header' ? outcome.header : null;
    if (outcome.kind === 'header') {
      this.totals.headers += 1;
      this.totals[outcome.header.version === 1 ? 'v1' : 'v2'] += 1;
      if (outcome.header.command === 'local') this.totals.local += 1;
    } else if (outcome.kind === 'absent') this.totals.absent += 1;
    else {
      this.totals.refusedTotal += 1;
      this.refused.set(outcome.error.code, (this.refused.get(outcome.error.code) ?? 0) + 1);
    }
    const entry: Mutable<ProxyConnectionRecord> = {
      connection: this.next++,
      acceptedAtMs: nowMs,
      peer,
      outcome: outcome.kind,
      version: header?.version ?? null,
      command: header?.command ?? null,
      family: header?.family ?? null,
      transport: header?.transport ?? null,
      source: header?.source ?? null,
      destination: header?.destination ?? null,
      tlvs: header?.tlvs ?? null,
      headerBytes: header?.headerBytes ?? null,
      error: outcome.kind === 'refused' ? outcome.error : null,
      clientId: null,
    };
    if (this.records.length < this.capacity) this.records.push(entry);
    else {
      this.records[this.start] = entry;
      this.start = (this.start + 1) % this.capacity;
    }
    return entry;
  }

  /** The connection behind `handle` sent CONNECT with this client id (a forgotten record is still updated, harmlessly). */
  attachClient(handle: ProxyConnectionRecord, clientId: string): void {
    (handle as Mutable<ProxyConnectionRecord>).clientId = clientId;
  }

  counts(): ProxyCounts {
    return { ...this.totals, refused: Object.fromEntries([...this.refused].sort(([a], [b]) => (a < b ? -1 : 1))) };
  }

  report(settings: ProxyReportSettings, query: ProxyReportQuery = {}): ProxyReport {
    const ordered = [...this.records.slice(this.start), ...this.records.slice(0, this.start)];
    const matching = query.clientId === undefined ? ordered : ordered.filter((r) => r.clientId === query.clientId);
    const connections = query.limit === undefined ? matching : matching.slice(Math.max(0, matching.length - query.limit));
    return {
      ...settings,
      counts: this.counts(),
      connections: connections.map((r) => ({ ...r })),
    };
  }
}
