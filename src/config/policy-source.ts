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
  /** Where it came from: "defaults", "file <path>" or "configmap <ns>/<name>". */
  readonly source: string;
  readonly appliedAt: Date;
}

/** What a feed hands its documents to. */
export interface PolicySink {
  /** A document arrived; returns its problems ([] when applied or unchanged). */
  offer(text: string): Problem[];
  /** The document could not be fetched at all. */
  fail(problems: Problem[]): void;
}

/** Somewhere policy documents come from: a watched file, a Kubernetes ConfigMap. */
export interface PolicyFeed {
  /** Names the source in logs and in /status. */
  readonly source: string;
  /** Resolves after the first document (or failure); keeps feeding afterwards. */
  start(sink: PolicySink): Promise<void>;
  stop(): void;
}

export interface PolicySourceOptions {
  /** Undefined: the built-in defaults only. */
  readonly feed?: PolicyFeed;
  readonly logger: Logger;
  readonly onPolicy: (applied: AppliedPolicy) => void;
  readonly onError: (problems: Problem[]) => void;
}

/**
 * The operator policy in force. Documents come from a feed; an invalid one is refused with
 * its problems (path and line) and the last good policy stays. Without a feed the built-in
 * defaults apply. With a feed, nothing is applied until its first good document: serving
 * the defaults instead would bring back excluded brokers and serve ones set to drain, so
 * the caller holds publishing and readiness while waiting() names the reason.
 * Every applied change is logged with a diff.
 */
export class PolicySource {
  private current: AppliedPolicy;
  /** A feed is configured and none of its documents has been applied yet. */
  private awaitingFeed: boolean;
  private lastProblems: readonly Problem[] = [];

  constructor(private readonly opts: PolicySourceOptions) {
    const policy = defaultPolicy();
    this.current = { policy, hash: hashOf(policy), source: 'defaults', appliedAt: new Date() };
    this.awaitingFeed = opts.feed !== undefined;
  }

  async start(): Promise<void> {
    if (!this.awaitingFeed) this.opts.onPolicy(this.current);
    await this.opts.feed?.start({ offer: (text) => this.offer(text), fail: (problems) => this.reject(problems) });
  }

  stop(): void {
    this.opts.feed?.stop();
  }

  applied(): AppliedPolicy {
    return this.current;
  }

  /** Why no policy is in force yet (a feed is configured, none of its documents applied); undefined once one is. */
  waiting(): string | undefined {
    if (!this.awaitingFeed) return undefined;
    const source = this.opts.feed?.source ?? 'defaults';
    if (this.lastProblems.length === 0) return `waiting for the policy from ${source}`;
    return `no valid policy from ${source} yet: ${formatProblems(this.lastProblems)}`;
  }

  private offer(text: string): Problem[] {
    const source = this.opts.feed?.source ?? 'defaults';
    const parsed = parsePolicy(text, source);
    if (!parsed.ok) {
      this.reject(parsed.problems);
      return parsed.problems;
    }
    const hash = hashOf(parsed.value);
    if (hash === this.current.hash && this.current.source === source) return [];
    const diff = diffPolicies(this.current.policy, parsed.value);
    this.current = { policy: parsed.value, hash, source, appliedAt: new Date() };
    this.awaitingFeed = false;
    this.lastProblems = [];
    this.opts.logger.info('policy applied', { source, hash, diff });
    this.opts.onPolicy(this.current);
    return [];
  }

  private reject(problems: Problem[]): void {
    this.lastProblems = problems;
    this.opts.logger.error(
      this.awaitingFeed ? 'policy refused; publishing nothing until a valid one arrives' : 'policy refused; keeping the last good one',
      {
        source: this.opts.feed?.source,
        kept: this.awaitingFeed ? 'nothing' : this.current.source,
        problems: formatProblems(problems),
      },
    );
    this.opts.onError(problems);
  }
}

/** Policy documents from a YAML file, watched like the brokers file. */
export function filePolicyFeed(path: string, logger: Logger, pollIntervalMs?: number): PolicyFeed {
  let file: WatchedFile | undefined;
  return {
    source: `file ${path}`,
    start: (sink) => {
      file = new WatchedFile({
        path,
        logger,
        pollIntervalMs,
        onText: async (text) => void sink.offer(text),
        onReadError: (err) =>
          sink.fail([{ code: 'POLICY_FILE_UNREADABLE', path: basename(path), message: `cannot read the policy file: ${err.message}` }]),
      });
      return file.start();
    },
    stop: () => file?.stop(),
  };
}

function hashOf(policy: Policy): string {
  return contentHash(JSON.stringify(policy));
}
