// Each Envoy's standing per type for the alerts, and a gauge of how many
// streams are in each, so an alert can fire on an Envoy that rejects or sits on a push.
import { Gauge, type Registry } from 'prom-client';
import type { StreamStatus } from './stream-status';
import type { TypeStatus } from './stream-observer';
import { SHORT_NAME, type TypeUrl } from './type-urls';

/** SYNCED: the last response was ACKed. STALE: one is unanswered. NACKED: the latest was rejected. */
export type SyncState = 'SYNCED' | 'STALE' | 'NACKED';
export const SYNC_STATES: readonly SyncState[] = ['SYNCED', 'STALE', 'NACKED'];

/** Undefined until something of the type was sent or ACKed (a type the stream only asked for). */
export function syncStateOf(kind: StreamStatus['kind'], t: TypeStatus): SyncState | undefined {
  // SotW keeps the rejected version until a later one is sent; Delta keeps the rejected
  // resource versions until they are replaced and ACKed.
  const nacked = t.nackedVersion !== undefined && (kind === 'delta' || t.nackedVersion === t.sentVersion);
  if (nacked) return 'NACKED';
  if (t.awaitingAnswer) return 'STALE';
  return t.ackedVersion !== undefined || t.sentVersion !== undefined ? 'SYNCED' : undefined;
}

/** Streams per (short type name, state); every state of a type seen is reported, 0 included. */
export function syncCounts(streams: readonly StreamStatus[]): Map<string, Record<SyncState, number>> {
  const out = new Map<string, Record<SyncState, number>>();
  for (const s of streams) {
    for (const [t, st] of Object.entries(s.types) as Array<[TypeUrl, TypeStatus]>) {
      const state = syncStateOf(s.kind, st);
      if (state === undefined) continue;
      const type = SHORT_NAME[t];
      let row = out.get(type);
      if (!row) out.set(type, (row = { SYNCED: 0, STALE: 0, NACKED: 0 }));
      row[state]++;
    }
  }
  return out;
}

/** mqtt_xds_streams_sync{type,state}, read from the streams when scraped. */
export function registerSyncGauge(registry: Registry, streams: () => readonly StreamStatus[]): void {
  new Gauge({
    name: 'mqtt_xds_streams_sync',
    help: 'ADS streams per type by the state of their latest response: SYNCED (ACKed), STALE (unanswered) or NACKED (rejected)',
    labelNames: ['type', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [type, row] of syncCounts(streams())) for (const state of SYNC_STATES) this.set({ type, state }, row[state]);
    },
  });
}
