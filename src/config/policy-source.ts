import { basename } from 'node:path';
import { contentHash } from '../util/hash';
import type { Logger } from '../util/log';
import { formatProblems, type Problem } from '../util/result';
import { WatchedFile } from '../util/watched-file';
import { defaultPolicy, diffPolicies, parsePolicy, type Policy } from './policy';

export interface AppliedPolicy {
  readonly policy: Policy;
  /** Content hash of the policy in force (of its canonical JSON). */
  readonly hash: string;
  /** Where it came from: a file path, "defaults", or a Kubernetes ConfigMap later. */
  readonly source: string;
  readonly appliedAt: Date;
}

export interface PolicySourceOptions {
  /** '' for the built-in defaults only. */
  readonly path: string;
  readonly logger: Logger;
  readonly onPolicy: (applied: AppliedPolicy) => void;
  readonly onError: (problems: Problem[]) => void;
  readonly pollIntervalMs?: number;
}

/**
 * The operator policy from a watched YAML file. An invalid document is refused with its
 * problems (path and line) and the last good policy stays; before any good document the
 * built-in defaults apply. Every applied change is logged with a diff.
 */
export class PolicySource {
  private readonly file: WatchedFile | undefined;
  private current: AppliedPolicy;

  constructor(private readonly opts: PolicySourceOptions) {
    const policy = defaultPolicy();
    this.current = { policy, hash: hashOf(policy), source: 'defaults', appliedAt: new Date() };
    if (opts.path === '') return;
    this.file = new WatchedFile({
      path: opts.path,
      logger: opts.logger,
      pollIntervalMs: opts.pollIntervalMs,
      onText: async (text) => this.handle(text),
      onReadError: (err) =>
        this.reject([{ code: 'POLICY_FILE_UNREADABLE', path: opts.path, message: `cannot read the policy file: ${err.message}` }]),
    });
  }

  async start(): Promise<void> {
    this.opts.onPolicy(this.current);
    await this.file?.start();
  }

  stop(): void {
    this.file?.stop();
  }

  applied(): AppliedPolicy {
    return this.current;
  }

  private handle(text: string): void {
    const parsed = parsePolicy(text, basename(this.opts.path));
    if (!parsed.ok) {
      this.reject(parsed.problems);
      return;
    }
    const hash = hashOf(parsed.value);
    if (hash === this.current.hash && this.current.source === this.opts.path) return;
    const diff = diffPolicies(this.current.policy, parsed.value);
    this.current = { policy: parsed.value, hash, source: this.opts.path, appliedAt: new Date() };
    this.opts.logger.info('policy applied', { source: this.opts.path, hash, diff });
    this.opts.onPolicy(this.current);
  }

  private reject(problems: Problem[]): void {
    this.opts.logger.error('policy refused; keeping the last good one', {
      source: this.opts.path,
      kept: this.current.source,
      problems: formatProblems(problems),
    });
    this.opts.onError(problems);
  }
}

function hashOf(policy: Policy): string {
  return contentHash(JSON.stringify(policy));
}
