// The real rebalancer state machine (src/rebalance/step.ts) on simulated time, with
// simulated agents: each call answers after a latency, listing clients drawn from the
// broker's class mix and disconnecting them for real (they wait out a backoff, then
// reconnect through the Envoys). This is the executor's loop (rebalancer.ts) without I/O.
import type { BrokerDecision } from '../../../src/balancing';
import type { Policy } from '../../../src/config/policy';
import type { Broker, BrokerLoad } from '../../../src/domain';
import {
  INITIAL_STATE,
  step,
  type AgentClient,
  type RebalanceAction,
  type RebalanceEvent,
  type RebalanceState,
} from '../../../src/rebalance';
import type { BrokerFleet } from './brokers';
import type { EnvoyFleet } from './envoys';
import type { Population } from './population';
import type { Random } from './random';
import type { ReconnectQueue } from './reconnects';

export interface AgentSettings {
  readonly latencyMinMs: number;
  readonly latencyMaxMs: number;
  /** The clock time of the simulation's second 0: the reconnect queue counts seconds from it. */
  readonly epochMs: number;
}

export interface RoundView {
  readonly policy: Policy;
  readonly brokers: readonly Broker[];
  readonly loads: ReadonlyMap<string, BrokerLoad>;
  readonly decisions: readonly BrokerDecision[];
}

/** Always-on devices keep persistent sessions (moved last); apps and dashboards start clean. */
const PERSISTENT = new Set(['always-on']);

export class AgentDriver {
  /**
   * Milliseconds spent in step() per round (tick to last answer). Timed with hrtime, not
   * process.cpuUsage: a round calls step() dozens of times and getrusage cost more than
   * step() itself; for synchronous code on an idle core the two agree.
   */
  readonly roundCpuMs: number[] = [];
  readonly moved = { drain: 0, rebalance: 0 };
  private state: RebalanceState = INITIAL_STATE;
  private busyUntilMs = -Infinity;
  private seq = 0;

  constructor(
    private readonly settings: AgentSettings,
    private readonly fleet: BrokerFleet,
    private readonly envoys: EnvoyFleet,
    private readonly pop: Population,
    private readonly queue: ReconnectQueue,
    private readonly rng: Random,
    private readonly setMoving: (moving: ReadonlyMap<string, string>) => void,
  ) {}

  /** One rebalancer tick: a whole round, agent answers included, in simulated time. */
  tick(nowMs: number, view: RoundView): void {
    // A tick while a round still waits for agents is dropped, as in the executor.
    if (nowMs < this.busyUntilMs) return;
    let t = nowMs;
    let cpu = 0;
    const apply = (event: RebalanceEvent): RebalanceAction[] => {
      const before = process.hrtime.bigint();
      const next = step(this.state, event, t);
      cpu += Number(process.hrtime.bigint() - before) / 1e6;
      this.state = next.state;
      const calls: RebalanceAction[] = [];
      for (const a of next.actions) {
        if (a.kind === 'count' || a.kind === 'list' || a.kind === 'disconnect') calls.push(a);
        else if (a.kind === 'set-moving') this.setMoving(a.moving);
        else if (a.kind === 'moved') this.moved[a.sourceKind] += a.n;
      }
      return calls;
    };
    const world = {
      leader: true,
      ...view,
      drainAck: (name: string) => this.envoys.drainAck(this.fleet.index.get(name)!),
    };
    let calls = apply({ kind: 'tick', world });
    while (calls.length > 0) {
      const [action, ...rest] = calls;
      t += this.settings.latencyMinMs + (this.settings.latencyMaxMs - this.settings.latencyMinMs) * this.rng.next();
      const answer = this.answer(action, t);
      calls = answer ? [...rest, ...apply(answer)] : rest;
    }
    this.busyUntilMs = t;
    this.roundCpuMs.push(cpu);
  }

  private answer(a: RebalanceAction, nowMs: number): RebalanceEvent | undefined {
    if (a.kind !== 'count' && a.kind !== 'list' && a.kind !== 'disconnect') return undefined;
    const b = this.fleet.index.get(a.broker)!;
    if (this.fleet.state[b] !== 'up') {
      const error = { code: 'AGENT_CONNECT' as const, message: `${a.agentUrl}: ECONNREFUSED` };
      return a.kind === 'disconnect'
        ? { kind: 'disconnected', broker: a.broker, result: { ok: false, error } }
        : { kind: a.kind === 'count' ? 'counted' : 'listed', broker: a.broker, result: { ok: false, error } };
    }
    const total = this.pop.connectedOn(b);
    if (a.kind === 'count') return { kind: 'counted', broker: a.broker, result: { ok: true, value: { total, clients: [] } } };
    if (a.kind === 'list')
      return { kind: 'listed', broker: a.broker, result: { ok: true, value: { total, clients: this.list(b, a.limit, nowMs) } } };
    return { kind: 'disconnected', broker: a.broker, result: { ok: true, value: this.disconnect(b, a.clientIds, nowMs) } };
  }

  /** Up to `limit` clients in proportion to the broker's classes, each with an age drawn from its lifetime. */
  private list(b: number, limit: number, nowMs: number): AgentClient[] {
    const { k, conn, classes } = this.pop;
    const total = this.pop.connectedOn(b);
    const n = Math.min(limit, total);
    const out: AgentClient[] = [];
    let cum = 0;
    let placed = 0;
    for (let c = 0; c < k; c++) {
      cum += conn[b * k + c];
      const upTo = c === k - 1 ? n : Math.floor((n * cum) / total);
      for (; placed < upTo; placed++) {
        const persistent = PERSISTENT.has(classes[c].name);
        out.push({
          clientId: `${c}.${this.seq++}`,
          mqttVersion: 5,
          cleanStart: !persistent,
          sessionExpirySec: persistent ? 3600 : 0,
          sharedSubscriber: false,
          // The age of a memoryless connection is distributed like its lifetime.
          connectedSinceMs: Math.round(nowMs + Math.log(1 - this.rng.next()) * classes[c].onMeanSec * 1000),
        });
      }
    }
    return out;
  }

  /** Disconnects the clients named (their class is in the id); those gone meanwhile are not found. */
  private disconnect(b: number, ids: readonly string[], nowMs: number): { disconnected: string[]; notFound: string[] } {
    const { k, conn } = this.pop;
    const disconnected: string[] = [];
    const notFound: string[] = [];
    const perClass = new Float64Array(k);
    for (const id of ids) {
      const c = Number(id.slice(0, id.indexOf('.')));
      if (conn[b * k + c] - perClass[c] >= 1) {
        perClass[c]++;
        disconnected.push(id);
      } else notFound.push(id);
    }
    for (let c = 0; c < k; c++) {
      conn[b * k + c] -= perClass[c];
      // A client told to use another server reconnects after its first backoff step. The
      // queue is a ring of simulated seconds: given clock seconds, moved clients came back
      // (epoch mod ring size) seconds late, about two minutes, not one second.
      this.queue.add(Math.floor((nowMs - this.settings.epochMs) / 1000), c, 0, perClass[c], this.rng.next());
    }
    return { disconnected, notFound };
  }
}
