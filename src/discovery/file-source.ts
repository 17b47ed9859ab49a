import { unwatchFile, watch, watchFile, type FSWatcher, type Stats } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import type { Broker } from '../domain/broker';
import { contentHash } from '../util/hash';
import type { Logger } from '../util/log';
import { formatProblems, type Problem } from '../util/result';
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
}

const MAX_RETRY_MS = 30_000;
// Kubernetes ConfigMap volumes publish an update by swapping the `..data` symlink; the
// file itself is a symlink through it, so the directory event names `..data`, not the file.
const CONFIGMAP_SWAP = '..data';

/**
 * Watches a brokers file and reports each new good broker set. A broken, unreadable or
 * unresolvable file never replaces the last good set: it is reported and then waited out.
 */
export class FileBrokerSource {
  private readonly path: string;
  private readonly log: Logger;
  private readonly pollIntervalMs: number;
  private readonly debounceMs: number;
  private watcher: FSWatcher | undefined;
  private polling = false;
  private debounceTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelayMs: number;
  private good: { brokers: Broker[]; hash: string } | undefined;
  /** Hash of the bytes last handled for good; the same bytes again need no work. */
  private handledTextHash: string | undefined;
  private failing = false;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(private readonly opts: FileBrokerSourceOptions) {
    this.path = resolve(opts.path);
    this.log = opts.logger.child({ component: 'discovery', file: this.path });
    this.pollIntervalMs = opts.pollIntervalMs ?? 1000;
    this.debounceMs = opts.debounceMs ?? 50;
    this.retryDelayMs = this.pollIntervalMs;
  }

  /** Loads once (resolving after that attempt, good or bad), then watches for changes. */
  async start(): Promise<void> {
    if (this.polling) throw new Error('FileBrokerSource.start() called twice');
    this.stopped = false;
    // Watch first, so a write during the initial load is not missed.
    this.watch();
    await this.reload();
  }

  stop(): void {
    this.stopped = true;
    this.watcher?.close();
    this.watcher = undefined;
    if (this.polling) unwatchFile(this.path, this.onPoll);
    this.polling = false;
    clearTimeout(this.debounceTimer);
    clearTimeout(this.retryTimer);
    this.debounceTimer = this.retryTimer = undefined;
  }

  /** The broker set in force, or undefined before the first good load. */
  lastGood(): Broker[] | undefined {
    return this.good === undefined ? undefined : [...this.good.brokers];
  }

  private watch(): void {
    const dir = dirname(this.path);
    const name = basename(this.path);
    // The directory, not the file: editors and `mv` replace the file, which ends a watch on
    // its old inode. persistent: false because the servers, not a watcher, keep us alive.
    try {
      this.watcher = watch(dir, { persistent: false }, (_event, changed) => {
        if (changed === null || changed === name || changed === CONFIGMAP_SWAP) this.schedule();
      });
      this.watcher.on('error', (err) => {
        this.log.warn('directory watch failed; relying on polling', { err });
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch (err) {
      this.log.warn('cannot watch the directory; relying on polling', { dir, err });
    }
    // Polling catches what directory events miss (network filesystems, symlink chains).
    watchFile(this.path, { persistent: false, interval: this.pollIntervalMs }, this.onPoll);
    this.polling = true;
  }

  private readonly onPoll = (_curr: Stats, _prev: Stats): void => this.schedule();

  private schedule(): void {
    if (this.stopped) return;
    clearTimeout(this.debounceTimer);
    this.debounceTimer = setTimeout(() => {
      this.debounceTimer = undefined;
      this.reload().catch((err: unknown) => this.log.error('brokers reload crashed', { err }));
    }, this.debounceMs);
  }

  /** Runs one reload at a time; a request during a reload runs once more afterwards. */
  private reload(): Promise<void> {
    if (this.running !== undefined) {
      this.again = true;
      return this.running;
    }
    const run = async (): Promise<void> => {
      try {
        do {
          this.again = false;
          await this.reloadOnce();
        } while (this.again && !this.stopped);
      } finally {
        this.running = undefined;
      }
    };
    this.running = run();
    return this.running;
  }

  private async reloadOnce(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if (this.stopped) return;
      this.handledTextHash = undefined;
      const why = err instanceof Error ? err.message : String(err);
      this.reject([{ code: 'BROKERS_FILE_UNREADABLE', path: this.path, message: `cannot read the brokers file: ${why}` }]);
      return;
    }
    if (this.stopped) return;
    const textHash = contentHash(text);
    if (textHash === this.handledTextHash) return;
    this.handledTextHash = textHash;

    const parsed = parseBrokersFile(text, basename(this.path));
    if (!parsed.ok) {
      this.reject(parsed.problems);
      return;
    }
    const resolved = await resolveBrokers(parsed.value, this.opts.lookup);
    if (this.stopped) return;
    if (!resolved.ok) {
      // DNS failures can be transient (a broker pod not yet published): retry the same bytes.
      this.handledTextHash = undefined;
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
    if (this.retryTimer !== undefined || this.stopped) return;
    const delay = this.retryDelayMs;
    this.retryDelayMs = Math.min(delay * 2, MAX_RETRY_MS);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.schedule();
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
