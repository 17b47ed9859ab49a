// The executor around step(): runs on a timer, reads the world once per round, performs the
// actions step() asks for (agent calls, the DRAINING marks, logs, metrics) and feeds the
// agents' answers back as events. All decisions are in step.ts; this file holds no rule.
import type { Registry } from 'prom-client';
import type { BrokerDecision } from '../balancing';
import type { Policy } from '../config/policy';
import type { Broker, BrokerLoad } from '../domain';
import type { Logger } from '../util/log';
import { LaggardReport, toDrainAck, type DrainAck, type LaggardView } from './ack';
import type { AgentHttpClient } from './agent-client';
import { drainStatusOf, type DrainRequest, type DrainStatus } from './drain-status';
import { RebalanceMetrics } from './metrics';
import type { MovePlan } from './plan';
import { drainsOf } from './round';
import { INITIAL_STATE, type RebalanceAction, type RebalanceEvent, type RebalanceState, type World } from './state';
import type { SourceState } from './sources';
import { step } from './step';
import type { StickySalts } from './sticky-salts';

/** The rebalance part of GET /status. */
export interface RebalanceStatus {
  readonly mode: Policy['rebalance']['mode'];
  readonly leader: boolean;
  /** Moved clients not back yet (src/rebalance/in-flight.ts): what rebalance.maxInFlight limits. */
  readonly missingClients: number;
  readonly ackLaggards: LaggardView;
  readonly plan: MovePlan | undefined;
  readonly sources: Readonly<Record<string, Omit<SourceState, 'lastError'> & { readonly lastError: string | undefined }>>;
  readonly drains: readonly DrainStatus[];
}

export interface RebalancerDeps {
  readonly logger: Logger;
  readonly registry: Registry;
  readonly agent: Pick<AgentHttpClient, 'listClients' | 'disconnect'>;
  readonly tickMs: number;
  policy(): Policy;
  isLeader(): boolean;
  brokers(): readonly Broker[];
  loads(): ReadonlyMap<string, BrokerLoad>;
  decisions(): readonly BrokerDecision[];
  /** Brokers to publish as DRAINING (name → why), beyond what discovery and policy say. */
  setMoving(moving: ReadonlyMap<string, string>): void;
  /**
   * Whether every Envoy with an EDS subscription ACKed a version in which these brokers are
   * DRAINING, and which did not. A bare boolean (no laggards named) is still accepted.
   */
  drainingAcked(names: readonly string[]): DrainAck | boolean;
  now(): number;
  /** Sticky placement: the salts for moved ids (absent: nobody is salted). */
  readonly stickySalts?: Pick<StickySalts, 'enabled' | 'salt' | 'listed' | 'expire'>;
}

interface DrainView {
  readonly now: number;
  readonly policy: Policy;
  readonly brokers: readonly Broker[];
  readonly loads: ReadonlyMap<string, BrokerLoad>;
  readonly drains: ReadonlyMap<string, DrainRequest>;
}

export class Rebalancer {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private state: RebalanceState = INITIAL_STATE;
  private readonly metrics: RebalanceMetrics;
  private readonly laggards: LaggardReport;

  constructor(private readonly deps: RebalancerDeps) {
    this.metrics = new RebalanceMetrics(deps.registry, () => this.status().drains);
    this.laggards = new LaggardReport(deps.registry, deps.logger);
  }

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.deps.tickMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** An operator asks for a drain; true when it is new. */
  requestDrain(name: string): boolean {
    if (this.state.apiDrains.has(name)) return false;
    this.apply({ kind: 'drain-requested', broker: name });
    void this.tick();
    return true;
  }

  /** Ends an API drain; drains from policy or discovery end where they were set. */
  cancelDrain(name: string): boolean {
    if (!this.state.apiDrains.has(name)) return false;
    this.apply({ kind: 'drain-cancelled', broker: name });
    void this.tick();
    return true;
  }

  hasApiDrain(name: string): boolean {
    return this.state.apiDrains.has(name);
  }

  /** The API drains become exactly what the shared record holds (a drain keeps the time it was first asked for). */
  syncApiDrains(record: ReadonlyMap<string, { readonly requestedAtMs: number; readonly by: string }>): void {
    const before = this.state.apiDrains;
    this.apply({ kind: 'drains-recorded', record });
    const after = this.state.apiDrains;
    if (before.size !== after.size || [...after.keys()].some((n) => !before.has(n))) void this.tick();
  }

  drainStatus(name: string): DrainStatus {
    return this.drainStatusIn(this.drainView(), name);
  }

  status(): RebalanceStatus {
    const s = this.state;
    const view = this.drainView();
    return {
      mode: view.policy.rebalance.mode,
      leader: this.deps.isLeader(),
      missingClients: s.inFlight.count,
      ackLaggards: this.laggards.all(),
      plan: s.plan,
      sources: Object.fromEntries([...s.sources].map(([name, src]) => [name, { ...src, lastError: src.lastError?.message }])),
      drains: [...view.drains.keys()].sort().map((n) => this.drainStatusIn(view, n)),
    };
  }

  /** What drain statuses are read from, once per answer (status() reports every drain from the same view). */
  private drainView(): DrainView {
    const now = this.deps.now();
    const policy = this.deps.policy();
    const brokers = this.deps.brokers();
    const { drains } = drainsOf(this.state.apiDrains, this.state.seenDrains, brokers, policy, now);
    return { now, policy, brokers, loads: this.deps.loads(), drains };
  }

  private drainStatusIn(view: DrainView, name: string): DrainStatus {
    const s = this.state;
    const request = view.drains.get(name);
    const moved = s.movedTotal.get(name) ?? 0;
    if (!request) return { broker: name, state: 'not-draining', drained: false, moved };
    return drainStatusOf({
      name,
      request,
      moved,
      broker: view.brokers.find((b) => b.name === name),
      load: view.loads.get(name),
      counted: s.agentTotals.get(name),
      source: s.sources.get(name),
      policy: view.policy,
      now: view.now,
    });
  }

  /** One round; rounds never overlap. Exposed for tests. */
  async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      this.deps.stickySalts?.expire();
      let queue = this.apply({ kind: 'tick', world: this.world() });
      while (queue.length > 0) {
        const [action, ...rest] = queue;
        const answer = await this.perform(action);
        queue = answer ? [...rest, ...this.apply(answer)] : rest;
      }
    } catch (err) {
      this.deps.logger.error('rebalance round failed (a bug)', { error: String((err as Error).stack ?? err) });
      this.state = { ...this.state, round: undefined };
    } finally {
      this.running = false;
    }
  }

  private world(): World {
    return {
      leader: this.deps.isLeader(),
      policy: this.deps.policy(),
      brokers: this.deps.brokers(),
      loads: this.deps.loads(),
      decisions: this.deps.decisions(),
      drainAck: (name) => toDrainAck(this.deps.drainingAcked([name])),
      stickySalts: this.deps.stickySalts?.enabled() ?? false,
    };
  }

  /** Steps the machine; performs at once what needs no answer, and returns the agent calls to make. */
  private apply(event: RebalanceEvent): RebalanceAction[] {
    const next = step(this.state, event, this.deps.now());
    this.state = next.state;
    const calls: RebalanceAction[] = [];
    for (const a of next.actions) {
      if (a.kind === 'count' || a.kind === 'list' || a.kind === 'disconnect' || a.kind === 'salt') calls.push(a);
      else this.effect(a);
    }
    this.report();
    return calls;
  }

  private effect(a: RebalanceAction): void {
    switch (a.kind) {
      case 'set-moving':
        return this.deps.setMoving(a.moving);
      case 'log':
        return this.deps.logger[a.level](a.message, a.fields);
      case 'agent-error':
        return void this.metrics.agentErrors.inc({ broker: a.broker, code: a.code });
      case 'moved':
        return void this.metrics.disconnects.inc({ broker: a.broker, kind: a.sourceKind }, a.n);
    }
  }

  private async perform(a: RebalanceAction): Promise<RebalanceEvent | undefined> {
    switch (a.kind) {
      case 'count':
        return { kind: 'counted', broker: a.broker, result: await this.deps.agent.listClients(a.agentUrl, 0) };
      case 'list': {
        const result = await this.deps.agent.listClients(a.agentUrl, a.limit);
        if (result.ok) this.deps.stickySalts?.listed(a.broker, result.value.clients);
        return { kind: 'listed', broker: a.broker, result };
      }
      case 'salt':
        return { kind: 'salted', broker: a.broker, acked: (await this.deps.stickySalts?.salt(a.broker, a.clientIds)) ?? false };
      case 'disconnect':
        return { kind: 'disconnected', broker: a.broker, result: await this.deps.agent.disconnect(a.agentUrl, a.clientIds, a.sourceKind) };
      default:
        return undefined;
    }
  }

  /** Metrics and the laggard report follow the state. */
  private report(): void {
    const s = this.state;
    this.metrics.missing.set(s.inFlight.count);
    this.metrics.toMove.reset();
    for (const src of s.plan?.sources ?? []) this.metrics.toMove.set({ broker: src.name, kind: src.kind }, src.toMove);
    this.laggards.keepOnly(new Set(s.sources.keys()));
    const action = this.deps.policy().rebalance.laggardAction;
    for (const name of s.sources.keys()) this.laggards.set(name, s.laggards.get(name) ?? [], action);
  }
}
