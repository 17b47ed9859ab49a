// Pacing for disconnects: a token bucket (the rate) and the fleet's missing clients (how
// many moved clients have not come back yet). Pure: the caller passes the time.

export class TokenBucket {
  private tokens: number;
  private lastMs: number | undefined;

  constructor(
    private ratePerSec: number,
    private burst: number,
  ) {
    this.tokens = burst;
  }

  configure(ratePerSec: number, burst: number): void {
    this.ratePerSec = ratePerSec;
    this.burst = burst;
    this.tokens = Math.min(this.tokens, burst);
  }

  available(nowMs: number): number {
    if (this.lastMs !== undefined) this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.lastMs) / 1000) * this.ratePerSec);
    this.lastMs = nowMs;
    return Math.floor(this.tokens);
  }

  take(n: number): void {
    this.tokens -= n;
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
