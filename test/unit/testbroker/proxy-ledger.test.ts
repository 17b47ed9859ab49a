import type { ProxyOutcome } from '../../tools/testbroker/proxy-accept';
import { decodeProxyHeader, type ProxyHeader } from '../../tools/testbroker/proxy-protocol';
import { ProxyLedger, type ProxyReportSettings } from '../../tools/testbroker/proxy-ledger';
import { tlv, v2Header } from '../../support/proxy-header';

const SETTINGS: ProxyReportSettings = { mode: 'required', maxHeaderBytes: 4096, headerTimeoutMs: 3000, historySize: 3 };
const PEER = { address: '127.0.0.1', port: 50000 };

function headerOf(bytes: Buffer): ProxyOutcome {
  const result = decodeProxyHeader(bytes, { maxHeaderBytes: 4096, optional: false });
  return { kind: 'header', header: (result as { header: ProxyHeader }).header };
}

const proxied = (port: number): ProxyOutcome =>
  headerOf(
    v2Header({
      source: { address: '192.0.2.1', port },
      destination: { address: '10.0.0.1', port: 1883 },
      tlvs: [tlv(0x02, 'b.example'), tlv(0xe0, 'x')],
    }),
  );
const LOCAL = headerOf(v2Header({ command: 'local' }));
const refused = (code: 'PROXY_BAD_SIGNATURE' | 'PROXY_TIMEOUT'): ProxyOutcome => ({ kind: 'refused', error: { code, message: code } });

describe('ProxyLedger', () => {
  it('records what each connection said, joined to the client id its CONNECT carried', () => {
    const ledger = new ProxyLedger(3);
    const handle = ledger.record(proxied(40001), PEER, 1000);
    ledger.attachClient(handle, 'sensor-1');
    expect(ledger.report(SETTINGS).connections).toEqual([
      {
        connection: 1,
        acceptedAtMs: 1000,
        peer: PEER,
        outcome: 'header',
        version: 2,
        command: 'proxy',
        family: 'inet4',
        transport: 'stream',
        source: { address: '192.0.2.1', port: 40001 },
        destination: { address: '10.0.0.1', port: 1883 },
        tlvs: expect.objectContaining({ authority: 'b.example', custom: [{ type: 0xe0, hex: '78', utf8: 'x' }] }),
        headerBytes: 16 + 12 + 12 + 4,
        error: null,
        clientId: 'sensor-1',
      },
    ]);
  });

  it('records a refused connection with its error and no header', () => {
    const ledger = new ProxyLedger(3);
    ledger.record(refused('PROXY_TIMEOUT'), PEER, 5);
    expect(ledger.report(SETTINGS).connections[0]).toMatchObject({
      outcome: 'refused',
      version: null,
      tlvs: null,
      error: { code: 'PROXY_TIMEOUT' },
      clientId: null,
    });
  });

  it('counts headers by version, LOCAL commands, absent headers and refusals by code', () => {
    const ledger = new ProxyLedger(2);
    ledger.record(proxied(1), PEER, 0);
    ledger.record(LOCAL, PEER, 0);
    ledger.record({ kind: 'absent' }, PEER, 0);
    ledger.record(refused('PROXY_TIMEOUT'), PEER, 0);
    ledger.record(refused('PROXY_BAD_SIGNATURE'), PEER, 0);
    ledger.record(refused('PROXY_TIMEOUT'), PEER, 0);
    expect(ledger.counts()).toEqual({
      connections: 6,
      headers: 2,
      v1: 0,
      v2: 2,
      local: 1,
      absent: 1,
      refused: { PROXY_BAD_SIGNATURE: 1, PROXY_TIMEOUT: 2 },
      refusedTotal: 3,
    });
  });

  it('forgets the oldest connections beyond its size, oldest first in the report, but keeps counting', () => {
    const ledger = new ProxyLedger(3);
    for (let port = 1; port <= 7; port++) ledger.record(proxied(port), PEER, port);
    const report = ledger.report(SETTINGS);
    expect(report.connections.map((c) => c.source?.port)).toEqual([5, 6, 7]);
    expect(report.connections.map((c) => c.connection)).toEqual([5, 6, 7]);
    expect(report.counts.headers).toBe(7);
  });

  it('filters by client id and keeps the newest `limit` matches', () => {
    const ledger = new ProxyLedger(10);
    for (const [port, id] of [
      [1, 'a'],
      [2, 'b'],
      [3, 'a'],
      [4, 'a'],
    ] as const) {
      ledger.attachClient(ledger.record(proxied(port), PEER, port), id);
    }
    ledger.record(proxied(5), PEER, 5);
    expect(ledger.report(SETTINGS, { clientId: 'a' }).connections.map((c) => c.source?.port)).toEqual([1, 3, 4]);
    expect(ledger.report(SETTINGS, { clientId: 'a', limit: 2 }).connections.map((c) => c.source?.port)).toEqual([3, 4]);
    expect(ledger.report(SETTINGS, { limit: 0 }).connections).toEqual([]);
    expect(ledger.report(SETTINGS, { limit: 0 })).toMatchObject({ ...SETTINGS, counts: { connections: 5 } });
  });
});
