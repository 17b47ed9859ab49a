import type { Counter } from 'prom-client';
import { filePolicyFeed, PolicySource, type AppliedPolicy, type Config, type Policy, type PolicyFeed } from '../config';
import { configMapPolicyFeed } from '../discovery';
import type { Logger } from '../util/log';
import type { Problem } from '../util/result';

export interface PolicyRunnerOptions {
  readonly config: Config;
  readonly logger: Logger;
  readonly rejected: Counter<'stage' | 'code'>;
  readonly onPolicy: (policy: Policy) => void;
}

export interface PolicyStatus {
  readonly policy: Omit<AppliedPolicy, 'policy'>;
  readonly policyProblems: readonly Problem[];
}

/** The operator policy from its feed (file, ConfigMap or the defaults), with the problems of the last refused document. */
export class PolicyRunner {
  private readonly source: PolicySource;
  private problems: Problem[] = [];

  constructor(opts: PolicyRunnerOptions) {
    this.source = new PolicySource({
      feed: policyFeed(opts.config, opts.logger),
      logger: opts.logger,
      onPolicy: (applied) => {
        this.problems = [];
        opts.onPolicy(applied.policy);
      },
      onError: (problems) => {
        this.problems = problems;
        for (const p of problems) opts.rejected.inc({ stage: 'policy', code: p.code });
      },
    });
  }

  start(): Promise<void> {
    return this.source.start();
  }

  stop(): void {
    this.source.stop();
  }

  policy(): Policy {
    return this.source.applied().policy;
  }

  /** Why no policy is in force yet; undefined once one is (src/config/policy-source.ts). */
  waiting(): string | undefined {
    return this.source.waiting();
  }

  status(): PolicyStatus {
    const { hash, source, appliedAt } = this.source.applied();
    return { policy: { hash, source, appliedAt }, policyProblems: this.problems };
  }
}

function policyFeed(config: Config, logger: Logger): PolicyFeed | undefined {
  const { policyFile, policyConfigMap, policyConfigMapKey } = config.balancing;
  if (policyConfigMap !== '') {
    const [namespace, name] = policyConfigMap.includes('/')
      ? policyConfigMap.split('/', 2)
      : [config.discovery.kubernetes.namespace, policyConfigMap];
    return configMapPolicyFeed({ kubeconfig: config.discovery.kubernetes.kubeconfig, namespace, name, key: policyConfigMapKey, logger });
  }
  return policyFile !== '' ? filePolicyFeed(policyFile, logger) : undefined;
}
