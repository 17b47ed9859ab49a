// Holds what the pure balancing function needs between calls (brokers, latest loads,
// policy, the policy's own state) and turns it into the next WeightPlan. No I/O.
import { awaitingScrape, computeWeights, staticWeightPlan, type BrokerDecision, type PolicyState } from './balancing';
import type { Policy } from './config';
import type { Broker, BrokerLoad, EnvoyBrokerLoad, WeightPlan } from './domain';

export type BalancingMode = 'metrics' | 'static';

export interface PlanOutcome {
  readonly plan: WeightPlan;
  /** Per broker: which inputs produced which weight (metrics mode). */
  readonly decisions: readonly BrokerDecision[];
}

export class Planner {
  private brokers: readonly Broker[] | undefined;
  private loads: ReadonlyMap<string, BrokerLoad> = new Map();
  private state: PolicyState | undefined;
  private last: PlanOutcome | undefined;
  private moving: ReadonlyMap<string, string> = new Map();
  private envoys: ((nowMs: number) => ReadonlyMap<string, EnvoyBrokerLoad>) | undefined;

  /** `onOutcome` observes every plan computed (the missing-signal report); it changes nothing. */
  constructor(
    private readonly mode: BalancingMode,
    private policy: Policy,
    private readonly onOutcome: (outcome: PlanOutcome) => void = () => undefined,
  ) {}

  setBrokers(brokers: readonly Broker[]): void {
    this.brokers = brokers;
  }

  setLoads(loads: ReadonlyMap<string, BrokerLoad>): void {
    this.loads = loads;
  }

  /** Brokers the rebalancer takes new connections from (published DRAINING): name → why. */
  setMoving(moving: ReadonlyMap<string, string>): void {
    this.moving = moving;
  }

  /** What the Envoys report per broker (the Envoy view), read at every computation. */
  setEnvoySource(envoys: (nowMs: number) => ReadonlyMap<string, EnvoyBrokerLoad>): void {
    this.envoys = envoys;
  }

  setPolicy(policy: Policy): void {
    this.policy = policy;
  }

  hasBrokers(): boolean {
    return this.brokers !== undefined;
  }

  lastOutcome(): PlanOutcome | undefined {
    return this.last;
  }

  /** Why the next scrape should come soon (a decision waits for it), or undefined. */
  awaitingScrape(): string | undefined {
    return this.mode === 'metrics' && this.state ? awaitingScrape(this.state, this.policy) : undefined;
  }

  /** The plan for now; undefined until discovery delivered a broker set. */
  next(nowMs: number): PlanOutcome | undefined {
    if (!this.brokers) return undefined;
    if (this.mode === 'static') {
      const brokers = this.brokers.map((b) => (this.moving.has(b.name) ? { ...b, draining: true } : b));
      this.last = { plan: staticWeightPlan(brokers), decisions: [] };
      this.onOutcome(this.last);
      return this.last;
    }
    const outcome = computeWeights({
      brokers: this.brokers,
      loads: this.loads,
      previous: this.state ?? this.seed(this.brokers, nowMs),
      policy: this.policy,
      nowMs,
      moving: this.moving,
      ...(this.envoys === undefined ? {} : { envoys: this.envoys(nowMs) }),
    });
    this.state = outcome.state;
    this.last = { plan: outcome.plan, decisions: outcome.decisions };
    this.onOutcome(this.last);
    return this.last;
  }

  /**
   * The brokers present when the control plane starts are not new: they may hold most of
   * the fleet's clients already. Without this seed a restarted control plane would put
   * every broker through slow start again and publish new weights for unchanged state.
   */
  private seed(brokers: readonly Broker[], nowMs: number): PolicyState {
    const settled = nowMs - this.policy.slowStart.windowMs;
    return { brokers: brokers.map((b) => ({ name: b.name, firstSeenMs: settled })), plan: { endpoints: [] } };
  }
}
