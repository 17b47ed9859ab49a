// The shell around planMoves: runs on the leader only, takes new connections away from a
// broker (DRAINING in EDS) and waits for every Envoy to ACK that before asking the broker's
// agent to disconnect chosen clients, paced by a one-second rate window and by how many moved
// clients have not come back yet. Drains and automatic rebalancing share this path.
import type { Registry } from 'prom-client';
import type { BrokerDecision } from '../balancing';
import { entryOf, type Policy } from '../config/policy';
import type { Broker, BrokerLoad } from '../domain';
import type { Logger } from '../util/log';
import { LaggardReport, laggardView, toDrainAck, type DrainAck } from './ack';
import type { AgentError, AgentHttpClient, DisconnectOutcome } from './agent-client';
import { moveCandidates, totalConnections } from './candidates';
import { chooseClients } from './choose';
import { RebalanceMetrics } from './metrics';
import { MissingClients, RateWindow } from './pacer';
import { enter } from './phases';
import { nextSources, type SourceState } from './sources';
import { drainStatusOf, type DrainOrigin, type DrainRequest, type DrainStatus } from './drain-status';
import { planMoves, type MoveCandidate, type MovePlan } from './plan';

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
}

/** A client asked to leave is not chosen again for this long (it may still show in a list). */
const SKIP_MS = 60_000;
/** Sources that are done stay DRAINING this long after the last disconnect, while moved clients reconnect. */
const SETTLE_MS = 5000;
/** Moved clients that never came back stop holding up new rebalancing after this long. */
const MISSING_FORGET_MS = 10 * 60_000;

export class Rebalancer {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private readonly apiDrains = new Map<string, DrainRequest>();
  private readonly seenDrains = new Map<string, DrainRequest>();
  private readonly sources = new Map<string, SourceState>();
  /** Rebalance sources that are done while others still move: they take no new clients until all are done. */
  private readonly finished = new Set<string>();
  private readonly recent: { atMs: number; broker: string; n: number }[] = [];
  private readonly skip = new Map<string, number>();
  private readonly movedTotal = new Map<string, number>();
  /** What a draining broker's agent last said it holds: more current than a scrape. */
  private readonly agentTotals = new Map<string, { total: number; atMs: number }>();
  private readonly rate: RateWindow;
  private readonly missing = new MissingClients(MISSING_FORGET_MS);
  private lastPlan: MovePlan | undefined;
  private lastPlanText = '';
  private missingNow = 0;
  private lastTotal: number | undefined;
  private totalChangedAtMs = -Infinity;
  private moving: ReadonlyMap<string, string> = new Map();
  private readonly metrics: RebalanceMetrics;
  private readonly laggards: LaggardReport;

  constructor(private readonly deps: RebalancerDeps) {
    const r = deps.policy().rebalance;
    this.rate = new RateWindow(r.ratePerSec);
    this.metrics = new RebalanceMetrics(deps.registry);
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
    if (this.apiDrains.has(name)) return false;
    this.apiDrains.set(name, { requestedAtMs: this.deps.now(), origin: 'api' });
    this.deps.logger.info('drain requested', { broker: name });
    void this.tick();
    return true;
  }

  /** Ends an API drain; drains from policy or discovery end where they were set. */
  cancelDrain(name: string): boolean {
    const had = this.apiDrains.delete(name);
    if (had) {
      this.deps.logger.info('drain cancelled', { broker: name });
      void this.tick();
    }
    return had;
  }

  hasApiDrain(name: string): boolean {
    return this.apiDrains.has(name);
  }

  /**
   * The API drains become exactly what the shared record holds (every replica applies the
   * same set, whichever took the request); a drain keeps the time it was first asked for.
   */
  syncApiDrains(record: ReadonlyMap<string, { readonly requestedAtMs: number; readonly by: string }>): void {
    let changed = false;
    for (const [name, d] of record) {
      if (this.apiDrains.has(name)) continue;
      this.apiDrains.set(name, { requestedAtMs: d.requestedAtMs, origin: 'api' });
      this.deps.logger.info('drain requested', { broker: name, by: d.by, through: 'the shared drain record' });
      changed = true;
    }
    for (const name of [...this.apiDrains.keys()]) {
      if (record.has(name)) continue;
      this.apiDrains.delete(name);
      this.deps.logger.info('drain cancelled', { broker: name, through: 'the shared drain record' });
      changed = true;
    }
    if (changed) void this.tick();
  }

  drainStatus(name: string): DrainStatus {
    const request = this.drains().get(name);
    const moved = this.movedTotal.get(name) ?? 0;
    if (!request) return { broker: name, state: 'not-draining', drained: false, moved };
    return drainStatusOf({
      name,
      request,
      moved,
      broker: this.deps.brokers().find((b) => b.name === name),
      load: this.deps.loads().get(name),
      counted: this.agentTotals.get(name),
      source: this.sources.get(name),
      policy: this.deps.policy(),
      now: this.deps.now(),
    });
  }

  status(): unknown {
    const p = this.deps.policy();
    return {
      mode: p.rebalance.mode,
      leader: this.deps.isLeader(),
      missingClients: this.missingNow,
      ackLaggards: this.laggards.all(),
      plan: this.lastPlan,
      sources: Object.fromEntries([...this.sources].map(([name, s]) => [name, { ...s, lastError: s.lastError?.message }])),
      drains: [...this.drains().keys()].sort().map((n) => this.drainStatus(n)),
    };
  }

  /** One round; rounds never overlap. Exposed for tests. */
  async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      await this.round();
    } catch (err) {
      this.deps.logger.error('rebalance round failed (a bug)', { error: String((err as Error).stack ?? err) });
    } finally {
      this.running = false;
    }
  }

  private async round(): Promise<void> {
    const now = this.deps.now();
    const policy = this.deps.policy();
    const drains = this.drains();
    if (!this.deps.isLeader()) {
      // Only the leader moves clients; a standby forgets its sources so a new leader starts clean.
      this.sources.clear();
      this.publishMoving(new Map([...this.apiDrains.keys()].map((n) => [n, 'drain requested through the API'])));
      return;
    }
    const r0 = policy.rebalance;
    await this.countDraining(drains, now);
    this.watchTotal(totalConnections(this.deps.loads()), now, r0.minExcess);
    const moving = new Set(
      [...this.sources].filter(([, s]) => s.kind === 'rebalance' && s.phase !== 'dry-run' && s.phase !== 'no-agent').map(([n]) => n),
    );
    const plan = planMoves(this.candidates(drains, now), policy.rebalance, moving);
    this.report(plan);
    const r = policy.rebalance;
    this.rate.configure(r.ratePerSec);

    const active = nextSources({
      plan: plan.sources,
      previous: this.sources,
      drainRequestedAtMs: new Map([...drains].map(([n, d]) => [n, d.requestedAtMs])),
      policy,
      settled: this.settled(now, r.minExcess),
      now,
    });
    for (const [name, s] of this.sources) {
      if (active.has(name)) continue;
      this.deps.logger.info('moving from broker ended', { broker: name, moved: this.movedTotal.get(name) ?? 0 });
      if (s.kind === 'rebalance') this.finished.add(name);
    }
    // Clients moved from the other sources must not land on one that is done: it would be
    // over its target again. So the done ones stay DRAINING until every source is done and
    // the last moved clients had time to reconnect elsewhere.
    const stillMoving = [...active.values()].some((s) => s.kind === 'rebalance' && this.marked(s, now));
    const lastMoveMs = this.recent.at(-1)?.atMs ?? -Infinity;
    if (!stillMoving && now - lastMoveMs >= SETTLE_MS && this.missingNow < r.minExcess) this.finished.clear();
    this.sources.clear();
    for (const [n, s] of active) this.sources.set(n, s);
    this.laggards.keepOnly(new Set(this.sources.keys()));

    const marks = new Map<string, string>();
    for (const n of this.apiDrains.keys()) marks.set(n, 'drain requested through the API');
    for (const [n, s] of this.sources) {
      if (s.kind === 'rebalance' && this.marked(s, now)) marks.set(n, 'rebalancing: clients are moved to brokers below their share');
    }
    for (const n of this.finished) if (!marks.has(n)) marks.set(n, 'rebalancing: done here, waiting for the other brokers to finish');
    this.publishMoving(marks);

    this.missingNow = this.missing.observe(totalConnections(this.deps.loads()), this.sources.size > 0, now);
    this.metrics.missing.set(this.missingNow);
    if (plan.blocked !== '') {
      // Nothing moves from any source; without this a stuck drain kept reporting "moving".
      for (const s of this.sources.values()) {
        if (s.phase === 'no-agent' || s.phase === 'dry-run' || this.retrying(s, now)) continue;
        enter(s, 'plan-blocked', `nothing moves: ${plan.blocked}`);
      }
      return;
    }
    if (this.sources.size === 0) return;
    await this.move(now);
  }

  private async move(now: number): Promise<void> {
    const { rebalance: r } = this.deps.policy();
    let tokens = this.rate.available(now);
    const brokers = new Map(this.deps.brokers().map((b) => [b.name, b]));
    for (const [name, s] of this.sources) {
      if (s.phase === 'no-agent' || s.phase === 'dry-run' || s.toMove <= 0 || this.retrying(s, now)) continue;
      if (!this.acked(name, s, now)) continue;
      if (this.missingNow >= r.maxInFlight) {
        enter(s, 'in-flight-full', `${this.missingNow} moved clients not back yet (maxInFlight ${r.maxInFlight})`);
        continue;
      }
      const n = Math.min(s.toMove, tokens, r.maxInFlight - this.missingNow);
      if (n <= 0) {
        enter(s, 'rate-limit', 'rate limit');
        continue;
      }
      const agentUrl = brokers.get(name)?.agentUrl;
      if (agentUrl === undefined) continue;
      const moved = await this.moveFrom(name, agentUrl, s, n, now);
      tokens -= moved;
    }
  }

  /**
   * Whether moving from this source may go on. Before ackTimeoutMs every Envoy must have
   * ACKed the DRAINING push; after it, laggardAction decides: proceed with the Envoys that
   * did (a laggard may still send a few new clients here, which the drain moves again), or
   * wait. An answer that names no laggard cannot say who ACKed, so it waits either way.
   */
  private acked(name: string, s: SourceState, now: number): boolean {
    const r = this.deps.policy().rebalance;
    const ack = toDrainAck(this.deps.drainingAcked([name]));
    const waited = now - s.markedAtMs;
    const late = !ack.acked && waited > r.ackTimeoutMs;
    this.laggards.set(name, late ? ack.laggards : [], r.laggardAction);
    s.ackLaggards = late && ack.laggards.length > 0 ? laggardView(ack.laggards) : undefined;
    if (ack.acked) return true;
    if (late && s.ackLaggards && r.laggardAction === 'proceed') return true;
    const who = s.ackLaggards ? `${s.ackLaggards.laggardCount} Envoy(s) (${s.ackLaggards.laggards.join(', ')}) have` : 'an Envoy has';
    if (late)
      enter(
        s,
        'ack-late-wait',
        `${who} not ACKed the DRAINING push after ${Math.round(waited / 1000)}s; nobody is moved until they do (rebalance.laggardAction ${r.laggardAction})`,
      );
    else enter(s, 'ack-pending', 'waiting for every Envoy to ACK the DRAINING push');
    return false;
  }

  private async moveFrom(name: string, agentUrl: string, s: SourceState, n: number, now: number): Promise<number> {
    const { rebalance: r } = this.deps.policy();
    const list = await this.deps.agent.listClients(agentUrl, Math.min(100_000, Math.max(1000, n * 4)));
    if (!list.ok) return this.failed(name, s, list.error, now);
    this.pruneSkip(now);
    const chosen = chooseClients(list.value.clients, n, { safeOnly: r.safeOnly, skip: new Set(this.skip.keys()) });
    if (chosen.length === 0) {
      enter(
        s,
        'nothing-to-choose',
        r.safeOnly ? 'no client left that is safe to move (rebalance.safeOnly)' : 'the agent lists no client to move',
      );
      return 0;
    }
    // One listing, then requests of at most batchSize clients each.
    let count = 0;
    for (let i = 0; i < chosen.length; i += r.batchSize) {
      const ids = chosen.slice(i, i + r.batchSize).map((c) => c.clientId);
      const out = await this.deps.agent.disconnect(agentUrl, ids, s.kind);
      const done = out.ok ? out.value : out.error.partial;
      if (done) {
        count += this.recordMoved(name, s, done, now);
        // Booked when the agent answered, which is when the clients saw their disconnect:
        // booking at the round's start let a benchmark see 363 in one second at 200/s.
        this.rate.take(done.disconnected.length, this.deps.now());
      }
      if (!out.ok) {
        this.failed(name, s, out.error, now);
        return count;
      }
    }
    const without = s.ackLaggards
      ? `going on without ${s.ackLaggards.laggardCount} Envoy(s) that did not ACK the DRAINING push (rebalance.laggardAction proceed)`
      : '';
    enter(s, 'moved', without);
    s.lastError = undefined;
    return count;
  }

  /** Books what an agent did disconnect (all of a batch, or part of a failed one). */
  private recordMoved(name: string, s: SourceState, done: DisconnectOutcome, now: number): number {
    for (const id of [...done.disconnected, ...done.notFound]) this.skip.set(id, now);
    const count = done.disconnected.length;
    s.moved += count;
    this.movedTotal.set(name, (this.movedTotal.get(name) ?? 0) + count);
    this.recent.push({ atMs: now, broker: name, n: count });
    if (count > 0) this.metrics.disconnects.inc({ broker: name, kind: s.kind }, count);
    this.deps.logger.info('clients moved', {
      broker: name,
      kind: s.kind,
      disconnected: count,
      notFound: done.notFound.length,
      remaining: s.toMove - count,
    });
    return count;
  }

  private failed(name: string, s: SourceState, error: AgentError, now: number): number {
    s.lastError = error;
    s.retryAtMs = now + this.deps.policy().rebalance.retryAfterMs;
    enter(s, 'agent-failed', `agent failed; moving from ${name} stopped, retry at ${new Date(s.retryAtMs).toISOString()}`);
    this.metrics.agentErrors.inc({ broker: name, code: error.code });
    this.deps.logger.warn('agent request failed; moving from this broker stops', { broker: name, code: error.code, error: error.message });
    return 0;
  }

  /**
   * Asks each draining broker's agent how many clients it still holds (limit 0: the count
   * alone). Scrapes lag behind disconnects; a drain is only done when the agent says so.
   */
  private async countDraining(drains: ReadonlyMap<string, DrainRequest>, now: number): Promise<void> {
    if (!this.deps.policy().drain.moveClients) return;
    for (const b of this.deps.brokers()) {
      if (!drains.has(b.name) || b.agentUrl === undefined) continue;
      const s = this.sources.get(b.name);
      if (s && this.retrying(s, now)) continue;
      const r = await this.deps.agent.listClients(b.agentUrl, 0);
      if (r.ok) this.agentTotals.set(b.name, { total: r.value.total, atMs: now });
      else if (s) this.failed(b.name, s, r.error, now);
      else
        this.deps.logger.warn('agent request failed while counting a draining broker', {
          broker: b.name,
          code: r.error.code,
          error: r.error.message,
        });
    }
    for (const name of this.agentTotals.keys()) if (!drains.has(name)) this.agentTotals.delete(name);
  }

  /** API drains, plus what policy overrides and discovery (e.g. a terminating pod) mark as draining. */
  private drains(): Map<string, DrainRequest> {
    const now = this.deps.now();
    const out = new Map<string, DrainRequest>(this.apiDrains);
    const policy = this.deps.policy();
    for (const b of this.deps.brokers()) {
      if (out.has(b.name)) continue;
      const origin: DrainOrigin | undefined =
        entryOf(policy.overrides, b.name)?.drain === true ? 'policy' : b.draining === true ? 'discovery' : undefined;
      if (origin === undefined) {
        this.seenDrains.delete(b.name);
        continue;
      }
      const seen = this.seenDrains.get(b.name) ?? { requestedAtMs: now, origin };
      this.seenDrains.set(b.name, seen);
      out.set(b.name, seen);
    }
    return out;
  }

  private candidates(drains: ReadonlyMap<string, DrainRequest>, now: number): MoveCandidate[] {
    while (this.recent.length > 0 && now - this.recent[0].atMs > 5 * 60_000) this.recent.shift();
    return moveCandidates({
      brokers: this.deps.brokers(),
      loads: this.deps.loads(),
      decisions: this.deps.decisions(),
      policy: this.deps.policy(),
      draining: new Set(drains.keys()),
      agentTotals: this.agentTotals,
      recent: this.recent,
    });
  }

  private report(plan: MovePlan): void {
    this.lastPlan = plan;
    this.metrics.toMove.reset();
    for (const s of plan.sources) this.metrics.toMove.set({ broker: s.name, kind: s.kind }, s.toMove);
    const text = JSON.stringify({ sources: plan.sources.map((s) => [s.name, s.kind, s.target]), blocked: plan.blocked });
    if (text === this.lastPlanText) return;
    this.lastPlanText = text;
    if (plan.sources.length > 0 || plan.blocked !== '') {
      this.deps.logger.info('move plan', {
        mode: this.deps.policy().rebalance.mode,
        sources: plan.sources,
        targets: plan.targets,
        blocked: plan.blocked || undefined,
      });
    }
  }

  private publishMoving(marks: Map<string, string>): void {
    const same = marks.size === this.moving.size && [...marks].every(([k, v]) => this.moving.get(k) === v);
    if (same) return;
    this.moving = marks;
    this.deps.setMoving(marks);
  }

  /** Notes when the fleet's connection count last moved by minExcess or more. */
  private watchTotal(total: number | undefined, now: number, minExcess: number): void {
    if (total === undefined) {
      this.totalChangedAtMs = now;
      return;
    }
    if (this.lastTotal === undefined || Math.abs(total - this.lastTotal) >= minExcess) {
      this.lastTotal = total;
      this.totalChangedAtMs = now;
    }
  }

  /**
   * A new rebalance may start: the fleet's connection count has held still for SETTLE_MS,
   * the last round's clients are back, and no finished round is still settling.
   */
  private settled(now: number, minExcess: number): boolean {
    return now - this.totalChangedAtMs >= SETTLE_MS && this.missingNow < minExcess && this.finished.size === 0;
  }

  /**
   * Only a source that is really moving takes new connections away; one whose agent is
   * failing gets its weight back until the retry. A drain stays DRAINING regardless.
   */
  private marked(s: SourceState, now: number): boolean {
    return s.phase !== 'no-agent' && s.phase !== 'dry-run' && !this.retrying(s, now);
  }

  private retrying(s: SourceState, now: number): boolean {
    return s.phase === 'failed' && (s.retryAtMs ?? 0) > now;
  }

  private pruneSkip(now: number): void {
    for (const [id, at] of this.skip) if (now - at > SKIP_MS) this.skip.delete(id);
  }
}
