// A gauge of how many ADS streams are in each sync state per type, so an alert can fire on
// an Envoy that rejects or sits on a push. The states are GET /proxy-status's (sync-state.ts),
// classified by the same function: a stream the page calls STALE is the one the gauge counts.
import { Gauge, type Registry } from 'prom-client';
import { STALE_AFTER_MS, classify, type StreamSync, type SyncState } from './sync-state';
import { SHORT_NAME, type TypeUrl } from './type-urls';

export const SYNC_STATES: readonly SyncState[] = ['SYNCED', 'PENDING', 'STALE', 'NACKED'];

/** Where the gauge reads the streams, the current snapshot's time and the clock. */
export interface SyncSource {
  streams(): readonly StreamSync[];
  publishedAtMs(): number | undefined;
  nowMs(): number;
}

/** Streams per (short type name, state); every state of a type seen is reported, 0 included. */
export function syncCounts(
  streams: readonly StreamSync[],
  nowMs: number,
  publishedAtMs: number | undefined,
  staleAfterMs = STALE_AFTER_MS,
): Map<string, Record<SyncState, number>> {
  const out = new Map<string, Record<SyncState, number>>();
  for (const s of streams) {
    for (const [t, st] of Object.entries(s.types) as Array<[TypeUrl, NonNullable<StreamSync['types'][TypeUrl]>]>) {
      // A type the stream only asked for, with nothing sent or ACKed yet, has no state.
      if (st.sentVersion === undefined && st.ackedVersion === undefined) continue;
      const type = SHORT_NAME[t];
      let row = out.get(type);
      if (!row) out.set(type, (row = { SYNCED: 0, PENDING: 0, STALE: 0, NACKED: 0 }));
      row[classify(st, nowMs, publishedAtMs, staleAfterMs).state]++;
    }
  }
  return out;
}

/** mqtt_xds_streams_sync{type,state}, classified from the streams when scraped. */
export function registerSyncGauge(registry: Registry, source: SyncSource): void {
  new Gauge({
    name: 'mqtt_xds_streams_sync',
    help:
      'ADS streams per type by sync state, as GET /proxy-status: SYNCED (holds the latest), PENDING (behind for less than ' +
      `${STALE_AFTER_MS / 1000} s), STALE (behind longer) or NACKED (rejected the latest)`,
    labelNames: ['type', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      const counts = syncCounts(source.streams(), source.nowMs(), source.publishedAtMs());
      for (const [type, row] of counts) for (const state of SYNC_STATES) this.set({ type, state }, row[state]);
    },
  });
}
