// What no broker's page can truthfully say. A value outside these bounds is a broken
// exporter, a counter gone wrong or a hostile page; used, it would move every broker's
// weight (the fleet mean is shared), so the scraper refuses the page instead.
import type { LoadSignals, NumericSignal } from '../domain/broker-load';

/** Inclusive upper bound per signal; every signal must also be finite and ≥ 0. */
export const SIGNAL_LIMITS: { readonly [K in NumericSignal]: number } = {
  // HiveMQ's largest documented clusters hold a few million connections per node.
  connections: 1e8,
  notWritable: 1e8,
  incomingPublishRate: 1e9,
  outgoingPublishRate: 1e10,
  droppedRate: 1e10,
  connectRate: 1e8,
  overloadLevel: 1000,
  backpressureClients: 1e8,
  creditsPerTick: 1e12,
  cpu: 1,
  throttledRatio: 1,
  gcPauseRatio: 1,
  heapUsedRatio: 1,
};

/** Why these signals cannot be true; undefined when they can. */
export function implausibleSignal(signals: LoadSignals): string | undefined {
  for (const [key, limit] of Object.entries(SIGNAL_LIMITS) as Array<[NumericSignal, number]>) {
    const v = signals[key];
    if (v === undefined) continue;
    if (!Number.isFinite(v) || v < 0 || v > limit) return `${key} = ${v} is outside 0..${limit}`;
  }
  return undefined;
}
