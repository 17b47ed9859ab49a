// Pacing for disconnects: a sliding one-second window (the rate) and the fleet's missing clients (how
// many moved clients have not come back yet). Pure values and functions: the caller passes the time
// and keeps what comes back; nothing here is changed in place.

/** Disconnects booked in the last second, oldest first. */
export type RateWindow = readonly { readonly atMs: number; readonly n: number }[];

/**
 * How many more may go now without exceeding `ratePerSec` in any window of one second: a
 * sliding window, not a token bucket, because a bucket lets its burst and a second's refill
 * land in the same second (the benchmark saw 191 in one second at 100/s).
 */
export function rateAvailable(w: RateWindow, ratePerSec: number, nowMs: number): number {
  const used = rateCurrent(w, nowMs).reduce((sum, e) => sum + e.n, 0);
  return Math.max(0, Math.floor(ratePerSec) - used);
}

/** The window with `n` disconnects booked at `nowMs` (and what left the window dropped). */
export function rateTake(w: RateWindow, n: number, nowMs: number): RateWindow {
  const current = rateCurrent(w, nowMs);
  return n > 0 ? [...current, { atMs: nowMs, n }] : current;
}

function rateCurrent(w: RateWindow, nowMs: number): RateWindow {
  let i = 0;
  while (i < w.length && nowMs - w[i].atMs >= 1000) i++;
  return i === 0 ? w : w.slice(i);
}

/**
 * Clients moved but not back yet, as the fleet's total connection count shows them: the
 * total when moving began (raised when it grows) less the total now. Clients that leave
 * for good count too, which only makes the pacing more careful. After moving ends the
 * count is kept until the clients are back or `forgetMs` passed, so a new round of moves
 * does not start while the last one's clients are still away.
 */
export interface MissingClients {
  readonly reference?: number;
  readonly endedAtMs?: number;
  /** The count the last observation gave. */
  readonly count: number;
}

export const NO_MISSING: MissingClients = { count: 0 };

export function observeMissing(
  m: MissingClients,
  totalConnections: number | undefined,
  active: boolean,
  nowMs: number,
  forgetMs: number,
): MissingClients {
  if (totalConnections === undefined) return m;
  let { reference, endedAtMs } = m;
  if (active) {
    reference = Math.max(reference ?? totalConnections, totalConnections);
    endedAtMs = undefined;
  } else if (reference !== undefined) {
    endedAtMs ??= nowMs;
    if (totalConnections >= reference || nowMs - endedAtMs > forgetMs) reference = undefined;
  }
  const count = reference === undefined ? 0 : Math.max(0, reference - totalConnections);
  return { ...(reference === undefined ? {} : { reference }), ...(endedAtMs === undefined ? {} : { endedAtMs }), count };
}
