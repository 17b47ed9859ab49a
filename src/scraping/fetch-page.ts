// One GET of a metrics page with a deadline and a size cap. Expected failures come back
// as values with a stable code; nothing here throws for a broker's misbehaviour.
import type { ScrapeError } from '../domain/broker-load';
import { readCapped } from '../util/read-capped';

export const SCRAPE_ERROR_CODES = [
  'SCRAPE_TIMEOUT',
  'SCRAPE_CONNECT',
  'SCRAPE_HTTP_STATUS',
  'SCRAPE_PARSE',
  'SCRAPE_TOO_LARGE',
  /** Parsed, but a series appears twice: which value is true cannot be known. */
  'SCRAPE_DUPLICATE_SERIES',
  /** Parsed, but a value no broker can have (1e308 connections, a negative rate). */
  'SCRAPE_IMPLAUSIBLE',
  /** A redirect: followed only when allowed, and then to the same host only. */
  'SCRAPE_REDIRECT',
] as const;
export type ScrapeErrorCode = (typeof SCRAPE_ERROR_CODES)[number];

export interface CodedScrapeError extends ScrapeError {
  readonly code: ScrapeErrorCode;
}

/** The part of `fetch` we use, so tests and callers can inject their own. */
export type FetchLike = (
  url: string,
  init: { readonly signal: AbortSignal; readonly headers: Record<string, string>; readonly redirect: 'manual' },
) => Promise<Response>;

export interface FetchPageOptions {
  readonly fetch: FetchLike;
  readonly timeoutMs: number;
  readonly maxBodyBytes: number;
  /** Aborts the request without it counting as a failure (the scraper is stopping). */
  readonly cancel?: AbortSignal;
  /** Prefixes every message, e.g. `broker hivemq-0: GET http://…/metrics`. */
  readonly what: string;
}

export type PageResult =
  | { readonly ok: true; readonly text: string }
  | { readonly ok: false; readonly error: CodedScrapeError }
  | { readonly ok: false; readonly cancelled: true };

// Ask for the classic text format: a client that can speak OpenMetrics or protobuf
// would otherwise pick one of those.
const ACCEPT = 'text/plain;version=0.0.4;q=1,*/*;q=0.1';

export async function fetchPage(url: string, opts: FetchPageOptions): Promise<PageResult> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, opts.timeoutMs);
  timer.unref();
  const onCancel = (): void => controller.abort();
  opts.cancel?.addEventListener('abort', onCancel, { once: true });
  const failed = (code: ScrapeErrorCode, message: string): PageResult => ({
    ok: false,
    error: { code, message: `${opts.what}: ${message}` },
  });
  const interrupted = (err: unknown, during: string): PageResult => {
    if (opts.cancel?.aborted) return { ok: false, cancelled: true };
    if (timedOut) {
      return failed('SCRAPE_TIMEOUT', `no complete answer within ${opts.timeoutMs} ms; is the broker overloaded or the port wrong?`);
    }
    return failed('SCRAPE_CONNECT', `${during} failed (${describe(err)}); is the Prometheus extension running on that port?`);
  };

  try {
    let res: Response;
    try {
      // Never follow a redirect: a metrics URL that redirects could make the control plane
      // fetch any address on its network and show part of the answer.
      res = await opts.fetch(url, { signal: controller.signal, headers: { accept: ACCEPT }, redirect: 'manual' });
    } catch (err) {
      return interrupted(err, 'connecting');
    }
    if ((res.status >= 300 && res.status <= 399) || res.type === 'opaqueredirect') {
      await res.body?.cancel().catch(() => undefined);
      return failed(
        'SCRAPE_REDIRECT',
        `answered a redirect (HTTP ${res.status}), which is not followed; set metricsUrl to the page itself`,
      );
    }
    if (res.status < 200 || res.status > 299) {
      await res.body?.cancel().catch(() => undefined);
      return failed('SCRAPE_HTTP_STATUS', `answered HTTP ${res.status}; check the metrics path`);
    }
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (declared > opts.maxBodyBytes) {
      await res.body?.cancel().catch(() => undefined);
      return failed('SCRAPE_TOO_LARGE', `page is ${declared} bytes, over the limit of ${opts.maxBodyBytes}`);
    }
    let body: Uint8Array | 'too large';
    try {
      body = await readCapped(res, opts.maxBodyBytes);
    } catch (err) {
      return interrupted(err, 'reading the page');
    }
    if (body === 'too large') {
      return failed('SCRAPE_TOO_LARGE', `page is over the limit of ${opts.maxBodyBytes} bytes`);
    }
    try {
      return { ok: true, text: new TextDecoder('utf-8', { fatal: true }).decode(body) };
    } catch {
      return failed('SCRAPE_PARSE', 'page is not valid UTF-8 text');
    }
  } finally {
    clearTimeout(timer);
    opts.cancel?.removeEventListener('abort', onCancel);
  }
}

function describe(err: unknown): string {
  // Node's fetch wraps the socket error: "fetch failed", cause { code: 'ECONNREFUSED', … }.
  // Duck-typed, not instanceof: the error may come from another realm (a VM context).
  const cause = isErrorLike(err) && isErrorLike(err.cause) ? err.cause : err;
  if (!isErrorLike(cause)) return String(cause);
  const code = typeof cause.code === 'string' ? cause.code : undefined;
  if (!code || cause.message.includes(code)) return cause.message || String(cause.name ?? 'error');
  return cause.message ? `${code}: ${cause.message}` : code;
}

function isErrorLike(v: unknown): v is { message: string; name?: unknown; code?: unknown; cause?: unknown } {
  return typeof v === 'object' && v !== null && typeof (v as { message?: unknown }).message === 'string';
}
