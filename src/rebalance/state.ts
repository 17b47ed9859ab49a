// What the rebalancer knows between rounds, what it observes, and what it asks for: the
// values step() (src/rebalance/step.ts) reads and returns. Plain data: step() never changes
// a state it is given; it works on a draft and returns that as the next state.
import type { BrokerDecision } from '../balancing';
import type { Policy } from '../config/policy';
import type { Broker, BrokerLoad } from '../domain';
import type { LogFields } from '../util/log';
import type { DrainAck } from './ack';
import type { AgentError, AgentResult, ClientList, DisconnectOutcome } from './agent-client';
import type { DrainRequest } from './drain-status';
import { NO_IN_FLIGHT, type InFlight } from './in-flight';
import { NO_MISSING, type MissingClients, type RateWindow } from './pacer';
import { enter } from './phases';
import type { MovePlan, SourceKind } from './plan';
import type { SourceState } from './sources';

/** A client asked to leave is not chosen again for this long (it may still show in a list). */
export const SKIP_MS = 60_000;
/** Sources that are done stay DRAINING this long after the last disconnect, while moved clients reconnect. */
export const SETTLE_MS = 5000;
/**
 * A moved client counts as in flight for at most this long (src/rebalance/in-flight.ts):
 * long enough for a first reconnect plus a scrape on each side (5 s by default), short
 * enough that the fleet's own churn stays small within it.
 */
export const IN_FLIGHT_WINDOW_MS = 20_000;
/** Moved clients that never came back stop holding up a new rebalance after this long. */
export const MISSING_FORGET_MS = 10 * 60_000;
/** Disconnects are remembered this long, to correct scrapes that may not have seen them yet. */
export const RECENT_MS = 5 * 60_000;

/** What a round sees of the rest of the control plane, read once when it starts. */
export interface World {
  readonly leader: boolean;
  readonly policy: Policy;
  readonly brokers: readonly Broker[];
  readonly loads: ReadonlyMap<string, BrokerLoad>;
  readonly decisions: readonly BrokerDecision[];
  /** Whether every Envoy ACKed a version with this broker DRAINING, and which did not (read when asked). */
  drainAck(broker: string): DrainAck;
  /** Sticky placement: a rebalance salts the ids it moves before it disconnects them (sticky-salts.ts). */
  readonly stickySalts?: boolean;
}

export interface AgentCount {
  readonly total: number;
  readonly atMs: number;
}

export interface RecentMove {
  readonly atMs: number;
  readonly broker: string;
  readonly n: number;
}

/** The source a round is moving clients from right now. */
export interface Moving {
  readonly broker: string;
  readonly agentUrl: string;
  readonly kind: SourceKind;
  /** Disconnect requests still to send, at most rebalance.batchSize ids each. */
  readonly batches: readonly (readonly string[])[];
  /** Clients disconnected from this source in this round so far. */
  readonly count: number;
  /** How many this round may move from it (its share, the rate and maxInFlight allowing). */
  readonly wanted: number;
}

/** A round in progress: it waits for agent answers between steps. */
export interface Round {
  readonly startedAtMs: number;
  readonly world: World;
  readonly drains: ReadonlyMap<string, DrainRequest>;
  /** Draining brokers whose agent count is still awaited. */
  readonly counting: readonly string[];
  /** Sources still to move from this round, in order. */
  readonly queue: readonly string[];
  /** Disconnects the rate window still allows this round. */
  readonly tokens: number;
  readonly current?: Moving;
}

export interface RebalanceState {
  readonly apiDrains: ReadonlyMap<string, DrainRequest>;
  /** When a drain set by policy or discovery was first seen. */
  readonly seenDrains: ReadonlyMap<string, DrainRequest>;
  readonly sources: ReadonlyMap<string, Readonly<SourceState>>;
  /** Rebalance sources that are done while others still move: they take no new clients until all are done. */
  readonly finished: ReadonlySet<string>;
  /**
   * Serving brokers at or over their share while a rebalance moves: DRAINING like the finished
   * ones, so the moved clients land on the brokers with room, not on whichever Envoy weighs
   * highest (a new broker's weight is still slow-starting). Released with the finished ones.
   */
  readonly held: ReadonlySet<string>;
  /** Disconnects made in the last RECENT_MS, oldest first. */
  readonly recent: readonly RecentMove[];
  /** Client ids asked to leave, and when. */
  readonly skip: ReadonlyMap<string, number>;
  readonly movedTotal: ReadonlyMap<string, number>;
  /** What a draining broker's agent last said it holds: more current than a scrape. */
  readonly agentTotals: ReadonlyMap<string, AgentCount>;
  readonly rate: RateWindow;
  /** Moved clients not back yet, which rebalance.maxInFlight limits. */
  readonly inFlight: InFlight;
  /**
   * The fleet's count short of its level while moving, kept after moving ends until it is
   * back or MISSING_FORGET_MS passed: a new rebalance waits for it, so clients that never
   * return are not followed by more moves. Too slow and too noisy for pacing (inFlight).
   */
  readonly missing: MissingClients;
  readonly lastTotal?: number;
  /** When the fleet's connection count last moved by minExcess or more. */
  readonly totalChangedAtMs: number;
  /** The brokers last published as DRAINING for moving (name → why). */
  readonly moving: ReadonlyMap<string, string>;
  readonly plan?: MovePlan;
  readonly planText: string;
  /** Envoys (node ids) per source that had not ACKed the DRAINING push within ackTimeoutMs. */
  readonly laggards: ReadonlyMap<string, readonly string[]>;
  readonly round?: Round;
}

export const INITIAL_STATE: RebalanceState = {
  apiDrains: new Map(),
  seenDrains: new Map(),
  sources: new Map(),
  finished: new Set(),
  held: new Set(),
  recent: [],
  skip: new Map(),
  movedTotal: new Map(),
  agentTotals: new Map(),
  rate: [],
  inFlight: NO_IN_FLIGHT,
  missing: NO_MISSING,
  totalChangedAtMs: -Infinity,
  moving: new Map(),
  planText: '',
  laggards: new Map(),
};

/** What happens to the rebalancer: the clock ticks, an operator acts, an agent answers. */
export type RebalanceEvent =
  | { readonly kind: 'tick'; readonly world: World }
  | { readonly kind: 'drain-requested'; readonly broker: string }
  | { readonly kind: 'drain-cancelled'; readonly broker: string }
  | { readonly kind: 'drains-recorded'; readonly record: ReadonlyMap<string, { readonly requestedAtMs: number; readonly by: string }> }
  | { readonly kind: 'counted'; readonly broker: string; readonly result: AgentResult<ClientList> }
  | { readonly kind: 'listed'; readonly broker: string; readonly result: AgentResult<ClientList> }
  | { readonly kind: 'disconnected'; readonly broker: string; readonly result: AgentResult<DisconnectOutcome> }
  /** The salts for a source's chosen ids are published (acked: every Envoy ACKed them in time). */
  | { readonly kind: 'salted'; readonly broker: string; readonly acked: boolean };

/** What step() asks the executor to do. Agent calls come back as events. */
export type RebalanceAction =
  | { readonly kind: 'count'; readonly broker: string; readonly agentUrl: string }
  | { readonly kind: 'list'; readonly broker: string; readonly agentUrl: string; readonly limit: number }
  | {
      readonly kind: 'disconnect';
      readonly broker: string;
      readonly agentUrl: string;
      readonly clientIds: readonly string[];
      readonly sourceKind: SourceKind;
    }
  /** Sticky placement: salt these ids and publish that before they are disconnected; answered by 'salted'. */
  | { readonly kind: 'salt'; readonly broker: string; readonly clientIds: readonly string[] }
  | { readonly kind: 'set-moving'; readonly moving: ReadonlyMap<string, string> }
  | { readonly kind: 'log'; readonly level: 'info' | 'warn'; readonly message: string; readonly fields: LogFields }
  | { readonly kind: 'agent-error'; readonly broker: string; readonly code: string }
  | { readonly kind: 'moved'; readonly broker: string; readonly sourceKind: SourceKind; readonly n: number };

/** The state step() works on: top-level fields and the sources (copied) may be replaced or changed. */
export type Draft = Omit<Mutable<RebalanceState>, 'sources'> & { sources: Map<string, SourceState> };
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export function draftOf(s: RebalanceState): Draft {
  return { ...s, sources: new Map([...s.sources].map(([n, src]) => [n, { ...src }])) };
}

/** A step's working set: the draft and the actions asked for so far. */
export interface Work {
  readonly d: Draft;
  readonly actions: RebalanceAction[];
  readonly now: number;
}

export function log(w: Work, level: 'info' | 'warn', message: string, fields: LogFields): void {
  w.actions.push({ kind: 'log', level, message, fields });
}

export function retrying(s: SourceState, now: number): boolean {
  return s.phase === 'failed' && (s.retryAtMs ?? 0) > now;
}

/**
 * Only a source that is really moving takes new connections away; one whose agent is
 * failing gets its weight back until the retry. A drain stays DRAINING regardless.
 */
export function marked(s: SourceState, now: number): boolean {
  return s.phase !== 'no-agent' && s.phase !== 'dry-run' && !retrying(s, now);
}

/** An agent call failed: moving from this source stops until rebalance.retryAfterMs. */
export function failed(w: Work, policy: Policy, name: string, s: SourceState, error: AgentError, atMs: number): void {
  s.lastError = error;
  s.retryAtMs = atMs + policy.rebalance.retryAfterMs;
  enter(s, 'agent-failed', `agent failed; moving from ${name} stopped, retry at ${new Date(s.retryAtMs).toISOString()}`);
  w.actions.push({ kind: 'agent-error', broker: name, code: error.code });
  log(w, 'warn', 'agent request failed; moving from this broker stops', { broker: name, code: error.code, error: error.message });
}
