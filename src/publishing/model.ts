import type { Config, Policy } from '../config';
import type { WeightPlan } from '../domain';
import { deriveLimits, type ConnectionLimits } from '../limits';
import type { ProxyModel } from '../translation';
import type { Logger } from '../util/log';

export interface ModelBuilderOptions {
  readonly config: Pick<Config, 'listener' | 'cluster' | 'balancing'>;
  readonly policy: () => Policy;
  readonly logger: Logger;
}

/**
 * Weight plan + policy + settings → the model translation builds Envoy resources from.
 * Remembers the limits it derived last, for /status, and logs only when their reason changes.
 */
export class ModelBuilder {
  private limitsWhy = '';
  private lastLimits: ConnectionLimits | undefined;

  constructor(private readonly opts: ModelBuilderOptions) {}

  build(plan: WeightPlan): ProxyModel {
    const { listener, cluster, balancing } = this.opts.config;
    // Circuit breakers, connection rate and duration from the policy's limits section
    // (src/limits); cluster.* settings are the fallback while capacities are unknown.
    const limits = deriveLimits({ policy: this.opts.policy(), plan, fallback: cluster });
    if (limits.why !== this.limitsWhy) {
      this.limitsWhy = limits.why;
      this.opts.logger.info('connection limits derived', { why: limits.why, listener: limits.listener, cluster: limits.cluster });
    }
    this.lastLimits = limits;
    return {
      listener: { ...listener, clusterName: cluster.name, ...limits.listener },
      cluster: { ...cluster, lbPolicy: balancing.lbPolicy, ...limits.cluster },
      plan,
    };
  }

  /** The limits in the last model built; undefined before the first. */
  status(): ConnectionLimits | undefined {
    return this.lastLimits;
  }
}
