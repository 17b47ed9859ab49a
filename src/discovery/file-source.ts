import { basename, resolve } from 'node:path';
import type { Broker } from '../domain/broker';
import { contentHash } from '../util/hash';
import type { Logger } from '../util/log';
import { formatProblems, type Problem } from '../util/result';
import { WatchedFile } from '../util/watched-file';
import { parseBrokersFile } from './brokers-file';
import { resolveBrokers, type HostLookup } from './resolve';

export interface FileBrokerSourceOptions {
  readonly path: string;
  readonly logger: Logger;
  /** A new good broker set, sorted by name; `contentHash` identifies the set. */
  readonly onBrokers: (brokers: Broker[], meta: { contentHash: string }) => void;
  /** The file could not be used; the last good set stays in force. */
  readonly onError: (problems: Problem[]) => void;
  /** How often the fallback poll stats the file, in milliseconds. */
  readonly pollIntervalMs?: number;
  /** Quiet time after a file event before reading, in milliseconds; editors write in bursts. */
  readonly debounceMs?: number;
  /** DNS lookup, injectable for tests. */
  readonly lookup?: HostLookup;
  /** Deadline for each DNS lookup, in milliseconds (default DEFAULT_DNS_TIMEOUT_MS). */
  readonly dnsTimeoutMs?: number;
  /** How long a changed file must stay unchanged before it is used, in milliseconds. */
  readonly settleMs?: number;
}

const MAX_RETRY_MS = 30_000;
/**
 * Watches a brokers file and reports each new good broker set. A broken, unreadable or
 * unresolvable file never replaces the last good set: it is reported and then waited out.
 */
export class FileBrokerSource {
  private readonly file: WatchedFile;
  private readonly log: Logger;
  private readonly pollIntervalMs: number;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelayMs: number;
  private good: { brokers: Broker[]; hash: string } | undefined;
  private failing = false;
  // Each text read gets a generation; only the newest may apply, so a slow lookup for an old
  // text never overrides a newer file, and never holds the reading of the next change.
  private generation = 0;
  private resolving: Promise<void> = Promise.resolve();

  constructor(private readonly opts: FileBrokerSourceOptions) {
    const path = resolve(opts.path);
    this.log = opts.logger.child({ component: 'discovery', file: path });
    this.pollIntervalMs = opts.pollIntervalMs ?? 1000;
    this.retryDelayMs = this.pollIntervalMs;
    this.file = new WatchedFile({
      path,
      logger: this.log,
      pollIntervalMs: this.pollIntervalMs,
      debounceMs: opts.debounceMs,
      settleMs: opts.settleMs,
      onText: (text) => this.handle(text),
      onReadError: (err) =>
        this.reject([{ code: 'BROKERS_FILE_UNREADABLE', path, message: `cannot read the brokers file: ${err.message}` }]),
    });
  }

  /** Loads once (resolving after that attempt, good or bad), then watches for changes. */
  async start(): Promise<void> {
    await this.file.start();
    await this.resolving;
  }

  stop(): void {
    this.file.stop();
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  /** The broker set in force, or undefined before the first good load. */
  lastGood(): Broker[] | undefined {
    return this.good === undefined ? undefined : [...this.good.brokers];
  }

  private handle(text: string): Promise<void> {
    const generation = ++this.generation;
    const parsed = parseBrokersFile(text, basename(this.file.path));
    if (!parsed.ok) {
      this.reject(parsed.problems);
      return Promise.resolve();
    }
    // Not awaited by the file reader: the next change is read while this one resolves.
    this.resolving = this.resolveAndApply(parsed.value, generation).catch((err: unknown) =>
      this.log.error('broker resolution crashed', { err }),
    );
    return Promise.resolve();
  }

  private async resolveAndApply(entries: Parameters<typeof resolveBrokers>[0], generation: number): Promise<void> {
    const resolved = await resolveBrokers(entries, this.opts.lookup, { timeoutMs: this.opts.dnsTimeoutMs });
    if (this.file.isStopped()) return;
    if (generation !== this.generation) {
      this.log.debug('broker resolution superseded by a newer file', { generation });
      return;
    }
    if (!resolved.ok) {
      // DNS failures can be transient (a broker pod not yet published): retry the same bytes.
      this.file.forget();
      this.reject(resolved.problems);
      this.retryLater();
      return;
    }
    this.apply(resolved.value);
  }

  private apply(brokers: Broker[]): void {
    const hash = contentHash(JSON.stringify(brokers));
    const recovered = this.failing;
    this.failing = false;
    this.retryDelayMs = this.pollIntervalMs;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const previous = this.good?.brokers ?? [];
    if (this.good?.hash === hash && !recovered) {
      this.log.debug('brokers file changed but the broker set did not', { contentHash: hash });
      return;
    }
    this.good = { brokers, hash };
    this.log.info('brokers applied', { contentHash: hash, count: brokers.length, ...diffBrokers(previous, brokers) });
    this.opts.onBrokers([...brokers], { contentHash: hash });
  }

  private reject(problems: Problem[]): void {
    this.failing = true;
    this.log.warn('brokers file rejected; keeping the last good set', {
      problems: formatProblems(problems),
      codes: problems.map((p) => p.code),
      kept: this.good?.brokers.length ?? 0,
    });
    this.opts.onError(problems);
  }

  private retryLater(): void {
    if (this.retryTimer !== undefined || this.file.isStopped()) return;
    const delay = this.retryDelayMs;
    this.retryDelayMs = Math.min(delay * 2, MAX_RETRY_MS);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.file.schedule();
    }, delay);
    // A retry alone must not keep a stopping process alive.
    this.retryTimer.unref();
  }
}

/** Names added, removed and changed between two broker sets, each list sorted. */
export function diffBrokers(
  before: readonly Broker[],
  after: readonly Broker[],
): { added: string[]; removed: string[]; changed: string[] } {
  const old = new Map(before.map((b) => [b.name, JSON.stringify(b)]));
  const now = new Map(after.map((b) => [b.name, JSON.stringify(b)]));
  const added = [...now.keys()].filter((n) => !old.has(n)).sort();
  const removed = [...old.keys()].filter((n) => !now.has(n)).sort();
  const changed = [...now.keys()].filter((n) => old.has(n) && old.get(n) !== now.get(n)).sort();
  return { added, removed, changed };
}
