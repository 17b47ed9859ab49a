// Stream arrivals and departures in the log: an Envoy that connects or leaves on its own
// gets its line, a fleet doing it at once (a restart, a connect storm) one summary a
// second, so 10,000 reconnecting Envoys write a few lines, not 10,000. A line per stream
// was a tenth of the server's CPU time in a connect storm.
import type { LogFields, Logger } from '../util/log';

export const BURST_LOG_INTERVAL_MS = 1000;
/** Node ids a summary names; its count says how many there were. */
export const SUMMARY_NODES = 10;
/** Distinct reasons a summary counts; the rest are counted under OTHER_REASONS. */
export const SUMMARY_REASONS = 10;
export const OTHER_REASONS = '(other)';

export interface BurstLogOptions {
  /** The line logged for one event at info level; during a burst it goes at debug level. */
  readonly message: string;
  /** The info line for the rest of a burst. */
  readonly summary: string;
  readonly intervalMs?: number;
  /** Runs `fn` after `ms`; returns a cancel. An unref'd setTimeout by default. */
  readonly schedule?: (fn: () => void, ms: number) => () => void;
}

/**
 * The first event after a quiet interval is logged at once with all its fields. Events in
 * the interval after it are logged at debug level and counted; when the interval ends, one
 * info line gives their count, the first node ids and their reasons, and another interval
 * begins. An interval with no events ends the burst.
 */
export class BurstLog {
  private inBurst = false;
  private count = 0;
  private nodes: string[] = [];
  private reasons = new Map<string, number>();
  private cancel: (() => void) | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly opts: BurstLogOptions,
  ) {}

  /** One event, logged through the stream's own logger `log` when it gets a line of its own. */
  note(log: Logger, fields: LogFields, node: string | undefined, reason?: string): void {
    if (!this.inBurst) {
      log.info(this.opts.message, fields);
      this.inBurst = true;
      this.arm();
      return;
    }
    log.debug(this.opts.message, fields);
    this.count++;
    if (node !== undefined && this.nodes.length < SUMMARY_NODES) this.nodes.push(node);
    if (reason !== undefined) {
      const key = this.reasons.has(reason) || this.reasons.size < SUMMARY_REASONS ? reason : OTHER_REASONS;
      this.reasons.set(key, (this.reasons.get(key) ?? 0) + 1);
    }
  }

  /** Logs what the current interval counted and ends the burst. */
  flush(): void {
    this.cancel?.();
    this.cancel = undefined;
    this.summarise();
    this.inBurst = false;
  }

  private arm(): void {
    const ms = this.opts.intervalMs ?? BURST_LOG_INTERVAL_MS;
    const schedule = this.opts.schedule ?? unrefTimeout;
    this.cancel = schedule(() => this.tick(), ms);
  }

  private tick(): void {
    this.cancel = undefined;
    if (this.count === 0) {
      this.inBurst = false;
      return;
    }
    this.summarise();
    this.arm();
  }

  private summarise(): void {
    if (this.count === 0) return;
    const fields: LogFields = { count: this.count, nodes: this.nodes };
    if (this.reasons.size > 0) fields.reasons = Object.fromEntries(this.reasons);
    this.logger.info(this.opts.summary, fields);
    this.count = 0;
    this.nodes = [];
    this.reasons = new Map();
  }
}

function unrefTimeout(fn: () => void, ms: number): () => void {
  const timer = setTimeout(fn, ms);
  timer.unref();
  return () => clearTimeout(timer);
}
