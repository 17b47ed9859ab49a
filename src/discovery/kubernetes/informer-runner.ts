import type * as k8s from '@kubernetes/client-node';
import type { Logger } from '../../util/log';

export interface InformerRunnerOptions {
  readonly what: string;
  readonly logger: Logger;
  /** After each complete (re)list. */
  readonly onListed: () => void;
  /** On each failure, with the error as client-node raised it (its `code` or `statusCode` is the HTTP status). */
  readonly onFailed: (message: string, err: unknown) => void;
  readonly onSynced: (synced: boolean) => void;
  readonly maxRetryMs?: number;
  /** The caller logs failures itself (in onFailed); the runner then logs none. */
  readonly quiet?: boolean;
}

/**
 * Keeps a client-node informer running. client-node lists, then watches, and lists again
 * on 410 Gone; but when the watch fails outright (API server down) it stops. This restarts
 * it with exponential backoff and reports synced / not synced on every transition.
 */
export class InformerRunner {
  private retry: NodeJS.Timeout | undefined;
  private retryMs = 500;
  private synced = false;
  private stopped = false;
  private failures = 0;

  constructor(
    private readonly informer: k8s.Informer<k8s.KubernetesObject>,
    private readonly opts: InformerRunnerOptions,
  ) {
    informer.on('error', (err: unknown) => this.failed(err));
    informer.on('connect', () => opts.logger.debug(`${opts.what} watch connected`));
  }

  /** Resolves after the first list attempt, good or bad. */
  async start(): Promise<void> {
    // client-node reports a failed list or watch through 'error' and still resolves
    // start(): only a start without a failure meanwhile holds a complete list.
    const failuresBefore = this.failures;
    try {
      await this.informer.start();
      if (this.stopped || this.failures !== failuresBefore) return;
      this.setSynced(true);
      this.retryMs = 500;
      this.opts.onListed();
    } catch (err) {
      this.failed(err);
    }
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retry);
    void this.informer.stop().catch(() => undefined);
  }

  isSynced(): boolean {
    return this.synced;
  }

  private failed(err: unknown): void {
    if (this.stopped) return;
    this.failures++;
    this.setSynced(false);
    const message = err instanceof Error ? err.message : String(err);
    if (!this.opts.quiet) {
      this.opts.logger.warn(`${this.opts.what} watch failed; keeping the last known state`, { error: message, retryInMs: this.retryMs });
    }
    this.opts.onFailed(message, err);
    clearTimeout(this.retry);
    this.retry = setTimeout(() => void this.start(), this.retryMs);
    this.retry.unref();
    this.retryMs = Math.min(this.retryMs * 2, this.opts.maxRetryMs ?? 30_000);
  }

  private setSynced(synced: boolean): void {
    if (synced === this.synced) return;
    this.synced = synced;
    this.opts.onSynced(synced);
  }
}
