import { unwatchFile, watch, watchFile, type FSWatcher, type Stats } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { contentHash } from './hash';
import type { Logger } from './log';

// Kubernetes ConfigMap volumes publish an update by swapping the `..data` symlink; the
// file itself is a symlink through it, so the directory event names `..data`, not the file.
const CONFIGMAP_SWAP = '..data';

export interface WatchedFileOptions {
  readonly path: string;
  readonly logger: Logger;
  /** New bytes arrived (bytes equal to the last handled ones are skipped). */
  readonly onText: (text: string) => Promise<void>;
  /** The file could not be read. */
  readonly onReadError: (err: Error) => void;
  /** How often the fallback poll stats the file, in milliseconds. */
  readonly pollIntervalMs?: number;
  /** Quiet time after a file event before reading, in milliseconds; editors write in bursts. */
  readonly debounceMs?: number;
  /**
   * A changed file is used only once two reads this many milliseconds apart agree: a writer
   * cut mid-file can leave valid but wrong text (`port: 36` of `port: 36749`).
   */
  readonly settleMs?: number | undefined;
  /** Waits ms milliseconds; injectable so tests can act inside the settle window. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Default settle window; long enough for a slow writer, short enough to feel immediate. */
export const DEFAULT_SETTLE_MS = 400;
/** Reads per change before giving up on a file that keeps changing (the next event retries). */
const MAX_SETTLE_READS = 10;

const realSleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));

/**
 * A file that is read again whenever it changes: by directory events (editors and `mv`
 * replace the file; ConfigMaps swap a symlink) and by polling as a fallback. Reads run one
 * at a time, a change during a read triggers one more, and unchanged bytes are skipped.
 */
export class WatchedFile {
  readonly path: string;
  private readonly log: Logger;
  private readonly pollIntervalMs: number;
  private readonly debounceMs: number;
  private readonly settleMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private watcher: FSWatcher | undefined;
  private polling = false;
  private debounceTimer: NodeJS.Timeout | undefined;
  private handledTextHash: string | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(private readonly opts: WatchedFileOptions) {
    this.path = resolve(opts.path);
    this.log = opts.logger;
    this.pollIntervalMs = opts.pollIntervalMs ?? 1000;
    this.debounceMs = opts.debounceMs ?? 50;
    this.settleMs = opts.settleMs ?? DEFAULT_SETTLE_MS;
    this.sleep = opts.sleep ?? realSleep;
  }

  /** Reads once (resolving after that attempt, good or bad), then watches for changes. */
  async start(): Promise<void> {
    if (this.polling) throw new Error(`WatchedFile(${this.path}).start() called twice`);
    this.stopped = false;
    // Watch first, so a write during the initial read is not missed.
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
    this.debounceTimer = undefined;
  }

  isStopped(): boolean {
    return this.stopped;
  }

  /** The same bytes will be handled again on the next read (e.g. after a transient failure). */
  forget(): void {
    this.handledTextHash = undefined;
  }

  /** Reads again soon. */
  schedule(): void {
    if (this.stopped) return;
    clearTimeout(this.debounceTimer);
    this.debounceTimer = setTimeout(() => {
      this.debounceTimer = undefined;
      this.reload().catch((err: unknown) => this.log.error('file reload crashed', { file: this.path, err }));
    }, this.debounceMs);
  }

  private watch(): void {
    const name = basename(this.path);
    // persistent: false because the servers, not a watcher, keep the process alive.
    try {
      this.watcher = watch(dirname(this.path), { persistent: false }, (_event, changed) => {
        if (changed === null || changed === name || changed === CONFIGMAP_SWAP) this.schedule();
      });
      this.watcher.on('error', (err) => {
        this.log.warn('directory watch failed; relying on polling', { file: this.path, err });
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch (err) {
      this.log.warn('cannot watch the directory; relying on polling', { file: this.path, err });
    }
    // Polling catches what directory events miss (network filesystems, symlink chains).
    watchFile(this.path, { persistent: false, interval: this.pollIntervalMs }, this.onPoll);
    this.polling = true;
  }

  private readonly onPoll = (_curr: Stats, _prev: Stats): void => this.schedule();

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
    let text = await this.read();
    if (text === undefined) return;
    let textHash = contentHash(text);
    if (textHash === this.handledTextHash) return;
    // Unchanged bytes were skipped above, so only a change waits for the file to settle.
    for (let reads = 1; this.settleMs > 0; reads++) {
      if (reads >= MAX_SETTLE_READS) {
        this.log.warn('file keeps changing; not using it until it settles', { file: this.path, reads });
        this.schedule();
        return;
      }
      await this.sleep(this.settleMs);
      if (this.stopped) return;
      const again = await this.read();
      if (again === undefined) return;
      const againHash = contentHash(again);
      if (againHash === textHash) break;
      text = again;
      textHash = againHash;
    }
    if (textHash === this.handledTextHash) return;
    this.handledTextHash = textHash;
    await this.opts.onText(text);
  }

  /** The file's text, or undefined after reporting a read error (or when stopped). */
  private async read(): Promise<string | undefined> {
    try {
      const text = await readFile(this.path, 'utf8');
      return this.stopped ? undefined : text;
    } catch (err) {
      if (this.stopped) return undefined;
      this.handledTextHash = undefined;
      this.opts.onReadError(err instanceof Error ? err : new Error(String(err)));
      return undefined;
    }
  }
}
