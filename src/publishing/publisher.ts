import { Counter, Gauge, type Registry } from 'prom-client';
import { gatePush, type BrokerDecision } from '../balancing';
import type { WeightPlan } from '../domain';
import type { PlanOutcome } from '../planner';
import { buildResources, type ProxyModel, type ResourceSet } from '../translation';
import type { SnapshotCache } from '../xds';
import type { Clock, TimerHandle } from '../util/clock';
import type { Logger } from '../util/log';
import { formatProblems, type Problem } from '../util/result';

export interface PublisherOptions {
  readonly cache: SnapshotCache;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly registry: Registry;
  /** mqtt_xds_input_rejected_total, shared with the other stages. */
  readonly rejected: Counter<'stage' | 'code'>;
  readonly debounceMs: number;
  readonly minPushIntervalMs: number;
  /** The plan for now (the planner); undefined until there is one. */
  readonly plan: (nowMs: number) => PlanOutcome | undefined;
  /** `decisions`: the plan's, for sticky clusters' weight hold (publishing/model.ts). */
  readonly model: (plan: WeightPlan, decisions: readonly BrokerDecision[]) => ProxyModel;
  /** A reason nothing may be published yet (e.g. the configured policy is not applied); undefined = go. */
  readonly heldBy?: () => string | undefined;
  /** A snapshot built from the plan went out (or was the same as the one out already). */
  readonly published?: () => void;
}

export interface PublisherStatus {
  readonly publishedAt: Date | undefined;
  readonly held: string | undefined;
}

/**
 * Plan → Envoy resources → snapshot. Coalesces bursts of input behind a debounce, paces
 * weight-only changes with the push gate (the newest plan goes out when the interval is
 * over, without new input), and lets a policy change through at once. A snapshot the cache
 * refuses is counted and logged; the last good one stays.
 */
export class Publisher {
  private debounce: TimerHandle | undefined;
  private gateTimer: TimerHandle | undefined;
  private published: WeightPlan | undefined;
  private lastWeightPushMs = 0;
  private lastPublishedAt: Date | undefined;
  /**
   * Why the next plan goes out at once, not behind minPushIntervalMs: the policy changed (it
   * may change limits, not weights), or the broker list did (an operator's weight in the
   * brokers file, a broker added or gone). Only adjustments from metrics are paced.
   */
  private bypass: string | undefined;
  private readonly lastPublish: Gauge;
  private readonly brokerWeight: Gauge<'broker'>;
  private readonly brokerUtilisation: Gauge<'broker'>;
  private readonly brokerOverloaded: Gauge<'broker'>;

  constructor(private readonly opts: PublisherOptions) {
    this.lastPublish = new Gauge({
      name: 'mqtt_xds_snapshot_published_timestamp_seconds',
      help: 'When the current snapshot was published',
      registers: [opts.registry],
    });
    this.brokerWeight = new Gauge({
      name: 'mqtt_xds_broker_weight',
      help: 'Load-balancing weight published for each broker',
      labelNames: ['broker'],
      registers: [opts.registry],
    });
    this.brokerUtilisation = new Gauge({
      name: 'mqtt_xds_broker_utilisation',
      help: 'Estimated utilisation of each broker (1 = at capacity), metrics mode only',
      labelNames: ['broker'],
      registers: [opts.registry],
    });
    this.brokerOverloaded = new Gauge({
      name: 'mqtt_xds_broker_overloaded',
      help: "1 while a broker's weight is cut for overload (its signals past a policy.overload threshold), else 0; metrics mode only",
      labelNames: ['broker'],
      registers: [opts.registry],
    });
  }

  /** Some input changed. Coalesces bursts (an editor writing in pieces, pods changing together, a scrape round). */
  schedule(): void {
    if (this.debounce) return;
    this.debounce = this.opts.clock.setTimeout(() => {
      this.debounce = undefined;
      this.recompute();
    }, this.opts.debounceMs);
  }

  /** The policy changed: the next plan bypasses the push gate. */
  policyApplied(): void {
    this.bypass = 'policy changed';
    this.schedule();
  }

  /** The listener's certificate was rotated: it goes out at once, past the push gate. */
  certificateChanged(): void {
    this.bypass ??= 'listener certificate rotated';
    this.schedule();
  }

  /** Sticky salts changed (src/rebalance/sticky-salts.ts): a rebalance waits for them, so they go out at once. */
  stickySaltsChanged(): void {
    this.bypass ??= 'sticky salts changed';
    this.schedule();
  }

  /** Discovery delivered a changed broker list: the next plan bypasses the push gate. */
  brokersChanged(): void {
    this.bypass ??= 'brokers changed';
    this.schedule();
  }

  stop(): void {
    this.opts.clock.clearTimeout(this.debounce);
    this.opts.clock.clearTimeout(this.gateTimer);
    this.debounce = undefined;
    this.gateTimer = undefined;
  }

  /** The plan in the snapshot Envoys are served; undefined before the first publish. */
  publishedPlan(): WeightPlan | undefined {
    return this.published;
  }

  status(): PublisherStatus {
    return { publishedAt: this.lastPublishedAt, held: this.opts.heldBy?.() };
  }

  /** Publishes a resource set as it is; returns the problems if it was refused. */
  publish(set: ResourceSet): Problem[] {
    const result = this.opts.cache.publish(set);
    if (!result.ok) {
      for (const p of result.problems) this.opts.rejected.inc({ stage: 'translation', code: p.code });
      this.opts.logger.error('snapshot refused; still serving the last good one', { problems: formatProblems(result.problems) });
      return result.problems;
    }
    const { snapshot, changed } = result.value;
    if (changed.size > 0) {
      this.lastPublishedAt = new Date(this.opts.clock.nowMs());
      this.lastPublish.set(this.lastPublishedAt.getTime() / 1000);
      this.opts.logger.info('snapshot published', { version: snapshot.version, changed: [...changed].map(shortType) });
    }
    return [];
  }

  private recompute(): void {
    // Held: the inputs stay with the planner; whoever lifts the hold schedules again.
    if (this.opts.heldBy?.() !== undefined) return;
    const nowMs = this.opts.clock.nowMs();
    const outcome = this.opts.plan(nowMs);
    if (!outcome) return;
    const verdict =
      this.bypass !== undefined
        ? ({ push: true, why: this.bypass } as const)
        : gatePush(this.published, outcome.plan, this.lastWeightPushMs, nowMs, this.opts.minPushIntervalMs);
    this.bypass = undefined;
    if (!verdict.push) {
      // The newest plan goes out when the interval is over, even if no new input arrives.
      if (!this.gateTimer) {
        this.gateTimer = this.opts.clock.setTimeout(() => {
          this.gateTimer = undefined;
          this.recompute();
        }, verdict.retryAtMs - nowMs);
      }
      return;
    }
    this.opts.clock.clearTimeout(this.gateTimer);
    this.gateTimer = undefined;
    const before = this.opts.cache.snapshot()?.version;
    if (this.publish(buildResources(this.opts.model(outcome.plan, outcome.decisions))).length > 0) return;
    this.published = outcome.plan;
    this.opts.published?.();
    const changed = this.opts.cache.snapshot()?.version !== before;
    if (changed) this.lastWeightPushMs = nowMs;
    this.brokerWeight.reset();
    for (const e of outcome.plan.endpoints) this.brokerWeight.set({ broker: e.name }, e.weight);
    this.brokerUtilisation.reset();
    this.brokerOverloaded.reset();
    for (const d of outcome.decisions) {
      if (d.utilisation !== undefined) this.brokerUtilisation.set({ broker: d.name }, d.utilisation);
      if (!d.excluded) this.brokerOverloaded.set({ broker: d.name }, d.factors.overload < 1 ? 1 : 0);
    }
    if (outcome.decisions.length > 0 && changed) {
      this.opts.logger.info('weights decided', {
        why: verdict.why,
        decisions: outcome.decisions.map((d) => ({ broker: d.name, weight: d.weight, reason: d.reason })),
      });
    }
  }
}

export function shortType(t: string): string {
  return t.slice(t.lastIndexOf('.') + 1);
}
