// Pacing for disconnects: a sliding one-second window (the rate) and the fleet's missing clients (how
// many moved clients have not come back yet). Pure: the caller passes the time.

/**
 * At most `ratePerSec` disconnects in any window of one second: a sliding window, not a
 * token bucket, because a bucket lets its burst and a second's refill land in the same
 * second (the benchmark saw 191 in one second at 100/s).
 */
export class RateWindow {
  private readonly events: { atMs: number; n: number }[] = [];

  constructor(private ratePerSec: number) {}

  configure(ratePerSec: number): void {
    this.ratePerSec = ratePerSec;
  }

  /** How many more may go now without exceeding the rate in the last second. */
  available(nowMs: number): number {
    while (this.events.length > 0 && nowMs - this.events[0].atMs >= 1000) this.events.shift();
    const used = this.events.reduce((sum, e) => sum + e.n, 0);
    return Math.max(0, Math.floor(this.ratePerSec) - used);
  }

  take(n: number, nowMs: number): void {
    if (n > 0) this.events.push({ atMs: nowMs, n });
  }
}

/**
 * Clients moved but not back yet, as the fleet's total connection count shows them: the
 * total when moving began (raised when it grows) less the total now. Clients that leave
 * for good count too, which only makes the pacing more careful. After moving ends the
 * count is kept until the clients are back or `forgetMs` passed, so a new round of moves
 * does not start while the last one's clients are still away.
 */
export class MissingClients {
  private reference: number | undefined;
  private endedAtMs: number | undefined;
  private last = 0;

  constructor(private readonly forgetMs: number) {}

  observe(totalConnections: number | undefined, active: boolean, nowMs: number): number {
    if (totalConnections === undefined) return this.last;
    if (active) {
      this.reference = Math.max(this.reference ?? totalConnections, totalConnections);
      this.endedAtMs = undefined;
    } else if (this.reference !== undefined) {
      this.endedAtMs ??= nowMs;
      if (totalConnections >= this.reference || nowMs - this.endedAtMs > this.forgetMs) this.reference = undefined;
    }
    this.last = this.reference === undefined ? 0 : Math.max(0, this.reference - totalConnections);
    return this.last;
  }
}
