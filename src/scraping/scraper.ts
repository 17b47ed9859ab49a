import { performance } from 'node:perf_hooks';
import type { Registry } from 'prom-client';
import type { Broker } from '../domain/broker';
import type { BrokerLoad, ScrapeError } from '../domain/broker-load';
import type { Logger } from '../util/log';
import { formatProblems } from '../util/result';
import { forEachBounded } from './bounded';
import { fetchPage, type CodedScrapeError, type FetchLike } from './fetch-page';
import { readHivemqPage, type PageReading, type Scrape } from './hivemq-signals';
import { implausibleSignal } from './plausible';
import { DEFAULT_MAX_PAGE_BYTES, parsePrometheusText } from './prom-text';
import { ScrapeMetrics } from './scrape-metrics';

export interface ScraperOptions {
  readonly logger: Logger;
  /** Every round ends with the loads of all brokers that have a metrics URL. */
  readonly onLoads: (loads: ReadonlyMap<string, BrokerLoad>) => void;
  readonly fetch?: FetchLike;
  /** One request's deadline, connect to last byte, in milliseconds. */
  readonly timeoutMs?: number;
  /** Time from the start of one round to the start of the next, in milliseconds. */
  readonly intervalMs?: number;
  /**
   * The interval after a round for which hurry() was called: an overload or a suspect page
   * waiting for its confirming scrape gets it this soon. 0 turns hurry() off.
   */
  readonly quickIntervalMs?: number;
  /** The interval varies by ± this fraction, so many control planes do not scrape in step. */
  readonly jitterRatio?: number;
  /** Requests in flight at once. */
  readonly concurrency?: number;
  /** A broker whose last good scrape is older than this (milliseconds) is `stale`. */
  readonly staleAfterMs?: number;
  readonly maxBodyBytes?: number;
  /** CPU cores per broker, if known and alike; only used with process_cpu_seconds_total. */
  readonly cores?: number;
  readonly registry?: Registry;
  /** Wall clock (ms since epoch) for scrape times and staleness; injectable for tests. */
  readonly nowMs?: () => number;
}

interface BrokerState {
  readonly name: string;
  readonly url: string;
  last?: { readonly scrape: Scrape; readonly reading: PageReading };
  error?: ScrapeError;
  consecutiveFailures: number;
}

const DEFAULTS = { timeoutMs: 2000, intervalMs: 5000, quickIntervalMs: 1000, jitterRatio: 0.1, concurrency: 8 };

/**
 * Scrapes every broker's metrics page in rounds and reports BrokerLoads. A broker that
 * fails keeps its last good signals (marked stale once they are old); one broker's
 * failure never touches another's load.
 */
export class Scraper {
  private readonly log: Logger;
  private readonly fetch: FetchLike;
  private readonly timeoutMs: number;
  private readonly intervalMs: number;
  private readonly quickIntervalMs: number;
  private readonly jitterRatio: number;
  private readonly concurrency: number;
  private readonly staleAfterMs: number;
  private readonly maxBodyBytes: number;
  private readonly now: () => number;
  private readonly metrics: ScrapeMetrics | undefined;
  private readonly states = new Map<string, BrokerState>();
  private round: Promise<ReadonlyMap<string, BrokerLoad>> | undefined;
  private roundCancel: AbortController | undefined;
  private lastRoundStartMs: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** When the pending timer fires (performance.now() time). */
  private timerDueMs = 0;
  /** lastRoundStartMs of the round after which the next one was brought forward. */
  private hurriedAfterMs: number | undefined;
  private running = false;
  /** Bumped by start(): a round begun before a stop()/start() must not schedule a second chain. */
  private generation = 0;

  constructor(private readonly opts: ScraperOptions) {
    this.log = opts.logger.child({ component: 'scraping' });
    this.fetch = opts.fetch ?? ((url, init) => fetch(url, init));
    this.timeoutMs = opts.timeoutMs ?? DEFAULTS.timeoutMs;
    this.intervalMs = opts.intervalMs ?? DEFAULTS.intervalMs;
    this.quickIntervalMs = opts.quickIntervalMs ?? DEFAULTS.quickIntervalMs;
    this.jitterRatio = Math.min(1, Math.max(0, opts.jitterRatio ?? DEFAULTS.jitterRatio));
    this.concurrency = Math.max(1, opts.concurrency ?? DEFAULTS.concurrency);
    this.staleAfterMs = opts.staleAfterMs ?? 3 * this.intervalMs;
    this.maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_PAGE_BYTES;
    this.now = opts.nowMs ?? Date.now;
    this.metrics = opts.registry && new ScrapeMetrics(opts.registry);
  }

  /** Replaces the broker set. Brokers without a metrics URL are not scraped; removed ones are forgotten. */
  setBrokers(brokers: readonly Broker[]): void {
    const wanted = new Map<string, string>();
    for (const b of brokers) if (b.metricsUrl) wanted.set(b.name, b.metricsUrl);
    for (const [name, state] of this.states) {
      if (wanted.get(name) === state.url) continue;
      this.states.delete(name);
      // A new URL is a new target: its counters are not comparable with the old one's.
      if (!wanted.has(name)) this.metrics?.forget(name);
    }
    for (const [name, url] of wanted) {
      if (!this.states.has(name)) this.states.set(name, { name, url, consecutiveFailures: 0 });
    }
  }

  /** Scrapes in rounds until stop(). The first round starts now unless one ran recently. */
  start(): void {
    if (this.running) throw new Error('Scraper.start() called twice');
    this.running = true;
    this.generation++;
    const sinceLast = this.lastRoundStartMs === undefined ? Infinity : performance.now() - this.lastRoundStartMs;
    this.schedule(Math.max(0, this.jittered() - sinceLast));
  }

  /** Stops the rounds and abandons requests in flight; an abandoned round reports nothing. */
  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.roundCancel?.abort();
  }

  /** One round now (or the one already running): scrape all, report, and return the loads. */
  scrapeOnce(): Promise<ReadonlyMap<string, BrokerLoad>> {
    this.round ??= this.runRound().finally(() => {
      this.round = undefined;
    });
    return this.round;
  }

  /**
   * The next round starts at most quickIntervalMs (jittered) after the last one began,
   * instead of a full interval. It holds for one round: whoever needs quick rounds asks
   * again after each. At the production 5 s interval, an overload that needs two scrapes to
   * be believed would otherwise wait 5 s for the second, and a cut 5 s per calm scrape to end.
   */
  hurry(): void {
    if (!this.running || this.timer === undefined || this.lastRoundStartMs === undefined) return;
    if (this.quickIntervalMs <= 0 || this.quickIntervalMs >= this.intervalMs) return;
    if (this.hurriedAfterMs === this.lastRoundStartMs) return;
    this.hurriedAfterMs = this.lastRoundStartMs;
    const dueMs = this.lastRoundStartMs + this.jittered(this.quickIntervalMs);
    if (dueMs >= this.timerDueMs) return;
    clearTimeout(this.timer);
    this.metrics?.hurried();
    this.schedule(Math.max(0, dueMs - performance.now()));
  }

  /** The loads as of now, without scraping. */
  currentLoads(): ReadonlyMap<string, BrokerLoad> {
    const now = this.now();
    const loads = new Map<string, BrokerLoad>();
    for (const s of [...this.states.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const scrapedAtMs = s.last?.scrape.atMs;
      const stale = scrapedAtMs === undefined || now - scrapedAtMs > this.staleAfterMs;
      this.metrics?.stale(s.name, stale);
      loads.set(s.name, {
        broker: s.name,
        ...(scrapedAtMs === undefined ? {} : { scrapedAtMs }),
        signals: s.last?.reading.signals ?? {},
        ...(s.last && s.last.reading.unavailable.length > 0 ? { unavailable: s.last.reading.unavailable } : {}),
        ...(s.error ? { error: s.error } : {}),
        consecutiveFailures: s.consecutiveFailures,
        stale,
      });
    }
    return loads;
  }

  private schedule(delayMs: number): void {
    const generation = this.generation;
    this.timerDueMs = performance.now() + delayMs;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.scrapeOnce()
        .catch((err: unknown) => this.log.error('scrape round failed', { err }))
        .finally(() => {
          if (!this.running || generation !== this.generation) return;
          const elapsed = performance.now() - (this.lastRoundStartMs ?? 0);
          this.schedule(Math.max(0, this.jittered() - elapsed));
        });
    }, delayMs);
    this.timer.unref();
  }

  private jittered(intervalMs = this.intervalMs): number {
    return intervalMs * (1 + this.jitterRatio * (2 * Math.random() - 1));
  }

  private async runRound(): Promise<ReadonlyMap<string, BrokerLoad>> {
    this.lastRoundStartMs = performance.now();
    const cancel = new AbortController();
    this.roundCancel = cancel;
    await forEachBounded([...this.states.values()], this.concurrency, (s) => this.scrapeBroker(s, cancel.signal));
    if (this.roundCancel === cancel) this.roundCancel = undefined;
    const loads = this.currentLoads();
    if (!cancel.signal.aborted) {
      try {
        this.opts.onLoads(loads);
      } catch (err) {
        this.log.error('onLoads threw; the loads of this round were not delivered', { err });
      }
    }
    return loads;
  }

  private async scrapeBroker(s: BrokerState, cancel: AbortSignal): Promise<void> {
    const started = performance.now();
    const what = `broker ${s.name}: GET ${s.url}`;
    let outcome: { ok: true; scrape: Scrape } | { ok: false; error: CodedScrapeError } | undefined;
    try {
      const page = await fetchPage(s.url, {
        fetch: this.fetch,
        timeoutMs: this.timeoutMs,
        maxBodyBytes: this.maxBodyBytes,
        cancel,
        what,
      });
      if (page.ok) {
        const parsed = parsePrometheusText(page.text, { maxBytes: this.maxBodyBytes });
        outcome = parsed.ok
          ? { ok: true, scrape: { samples: parsed.value, atMs: this.now() } }
          : { ok: false, error: parseError(what, parsed.problems) };
      } else if ('error' in page) {
        outcome = { ok: false, error: page.error };
      }
    } catch (err) {
      // fetchPage turns every expected failure into a value; this is a bug, but one
      // broker's bug must not stop the round.
      outcome = { ok: false, error: { code: 'SCRAPE_CONNECT', message: `${what}: unexpected error: ${String(err)}` } };
      this.log.error('unexpected scrape error', { broker: s.name, err });
    }
    // Abandoned (stop()), or the broker left discovery meanwhile: nothing to record.
    if (!outcome || this.states.get(s.name) !== s) return;
    this.metrics?.observed(s.name, (performance.now() - started) / 1000);
    if (outcome.ok) this.succeeded(s, outcome.scrape);
    else this.failed(s, outcome.error);
  }

  private succeeded(s: BrokerState, scrape: Scrape): void {
    const reading = readHivemqPage(scrape, s.last?.scrape, this.opts.cores === undefined ? {} : { cores: this.opts.cores });
    // One broker's absurd page must not reach the balancer, where it would move every
    // broker's weight: that broker's metrics count as failed, its last good signals stay.
    const absurd = implausibleSignal(reading.signals);
    if (absurd !== undefined) {
      this.failed(s, { code: 'SCRAPE_IMPLAUSIBLE', message: `broker ${s.name}: GET ${s.url}: ${absurd}; the page is not used` });
      return;
    }
    if (s.consecutiveFailures > 0) {
      this.log.info('broker metrics reachable again', { broker: s.name, url: s.url, failures: s.consecutiveFailures });
    }
    s.last = { scrape, reading };
    s.error = undefined;
    s.consecutiveFailures = 0;
  }

  private failed(s: BrokerState, error: CodedScrapeError): void {
    this.metrics?.failed(s.name, error.code);
    // Log the transition only: a broker down for an hour must not log every round.
    if (s.consecutiveFailures === 0) {
      this.log.warn('broker metrics scrape failing; keeping its last good signals', {
        broker: s.name,
        url: s.url,
        code: error.code,
        error: error.message,
      });
    }
    s.error = error;
    s.consecutiveFailures++;
  }
}

function parseError(what: string, problems: Parameters<typeof formatProblems>[0]): CodedScrapeError {
  // Codes and lines only: a problem's message quotes the page, and a page is the broker's
  // (or an attacker's) text, which must never reach the log or the unauthenticated /status.
  const shown = problems.slice(0, 5).map((p) => `${p.code}${p.line !== undefined ? ` (line ${p.line})` : ''}`);
  const more = problems.length > shown.length ? ` (+${problems.length - shown.length} more)` : '';
  return {
    code: problems.some((p) => p.code === 'PROM_TOO_LARGE')
      ? 'SCRAPE_TOO_LARGE'
      : problems.some((p) => p.code === 'PROM_DUPLICATE_SERIES')
        ? 'SCRAPE_DUPLICATE_SERIES'
        : 'SCRAPE_PARSE',
    message: `${what}: not a valid Prometheus text page (does metricsUrl point at the Prometheus extension?): ${shown.join(', ')}${more}`,
  };
}
