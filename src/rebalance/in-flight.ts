// Clients in flight: disconnected by the agents and not seen back yet. This is what
// rebalance.maxInFlight limits. Pure: the caller passes the fleet's connection count as the
// round saw it, the moves it made and the time, and keeps what comes back.
//
// Why a window and not "since moving began": at a million clients the fleet's count wanders
// by hundreds every few seconds and falls steadily on a falling daily curve, so a count kept
// since moving began (the earlier design) paused moving for minutes on churn alone. Over a
// short window the wander is small, and the moves made in that window bound the count, so
// churn can never count when nothing was moved. Moved clients that really do not come back
// (an Envoy refusing them) keep the fleet's count down by what was moved, so the count
// reaches maxInFlight and moving pauses; a move older than the window stops counting, so a
// lasting failure slows moving to about maxInFlight per window instead of stopping it.

/** The fleet's connection count as one round saw it. */
export interface TotalSample {
  readonly atMs: number;
  readonly total: number;
}

/** A disconnect request's outcome, booked at the time of the round that made it. */
export interface MoveRecord {
  readonly atMs: number;
  readonly n: number;
}

export interface InFlight {
  /** The fleet's counts, oldest first: the first is the newest one at least a window old, when there is one. */
  readonly samples: readonly TotalSample[];
  /** Moved clients not back yet, as the last observation gave it. */
  readonly count: number;
}

export const NO_IN_FLIGHT: InFlight = { samples: [], count: 0 };

/**
 * The clients moved since the window's first sample less those seen back: the fleet's count
 * then less its count now, never below 0 and never above what was moved since. Moves are
 * booked at the start of their round, after that round's sample, so a move at a sample's
 * time is one the sample did not see. Without a count now (a broker without a fresh scrape)
 * the last count is kept, bounded by the moves still in the window.
 */
export function observeInFlight(
  f: InFlight,
  total: number | undefined,
  moves: readonly MoveRecord[],
  nowMs: number,
  windowMs: number,
): InFlight {
  const all = total === undefined ? f.samples : [...f.samples, { atMs: nowMs, total }];
  let i = 0;
  while (i + 1 < all.length && all[i + 1].atMs <= nowMs - windowMs) i++;
  const samples = i === 0 ? all : all.slice(i);
  const ref = samples[0];
  if (ref === undefined) return NO_IN_FLIGHT;
  const moved = moves.reduce((n, m) => (m.atMs >= ref.atMs ? n + m.n : n), 0);
  const short = total === undefined ? f.count : ref.total - total;
  return { samples, count: Math.max(0, Math.min(short, moved)) };
}
