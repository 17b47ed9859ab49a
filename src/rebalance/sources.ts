// Which brokers are moved from this round, and in what phase: the pure part of a round.
// The Rebalancer shell feeds it the plan, the last round's sources and what it observed,
// and keeps what comes back; nothing here does I/O or reads the clock.
import type { Policy } from '../config/policy';
import type { LaggardView } from './ack';
import type { AgentError } from './agent-client';
import { enter, type SourcePhase } from './phases';
import type { SourceKind, SourcePlan } from './plan';

export interface SourceState {
  readonly kind: SourceKind;
  readonly markedAtMs: number;
  phase: SourcePhase;
  moved: number;
  toMove: number;
  /** A rebalance moves at most the excess it first saw, even if targets drift while it runs. */
  readonly budget: number;
  note: string;
  lastError?: AgentError;
  retryAtMs?: number;
  /** Envoys that had not ACKed the DRAINING push within ackTimeoutMs, when some had not. */
  ackLaggards?: LaggardView;
}

export interface SourcesInput {
  readonly plan: readonly SourcePlan[];
  readonly previous: ReadonlyMap<string, SourceState>;
  /** When each drain was asked for. */
  readonly drainRequestedAtMs: ReadonlyMap<string, number>;
  readonly policy: Policy;
  /** The fleet is still enough for a new rebalance to start (see Rebalancer.settled). */
  readonly settled: boolean;
  readonly now: number;
}

/** The sources of this round; a source missing from the answer has ended. Copies, never mutates, the previous states. */
export function nextSources(input: SourcesInput): Map<string, SourceState> {
  const { policy, now } = input;
  const r = policy.rebalance;
  const active = new Map<string, SourceState>();
  for (const s of input.plan) {
    const requestedAtMs = input.drainRequestedAtMs.get(s.name);
    const timedOut = requestedAtMs !== undefined && now > requestedAtMs + policy.drain.deadlineMs;
    const moveAllowed = s.kind === 'drain' ? policy.drain.moveClients && !timedOut : r.mode === 'on';
    const prev = input.previous.get(s.name);
    // Clients are arriving or leaving in numbers (a wave of connects, the last round's
    // clients not all back), so brokers scraped a moment apart disagree: wait.
    if (s.kind === 'rebalance' && !prev && !input.settled) continue;
    const state: SourceState =
      prev?.kind === s.kind
        ? { ...prev }
        : { kind: s.kind, markedAtMs: now, phase: 'waiting-for-ack', moved: 0, toMove: 0, budget: s.toMove, note: '' };
    state.toMove = s.kind === 'drain' ? s.toMove : Math.max(0, Math.min(s.toMove, state.budget - state.moved));
    // A rebalance ends once it moved the excess it first saw, whatever lagging metrics say.
    if (s.kind === 'rebalance' && state.moved >= state.budget) continue;
    if (!s.movable) {
      enter(state, 'no-agent', 'no agent for this broker: only the weights steer new connections');
      if (s.kind === 'rebalance') continue;
    } else if (!moveAllowed) {
      if (timedOut) enter(state, 'drain-deadline-passed', 'drain deadline passed: no more clients are moved');
      else if (s.kind === 'drain') enter(state, 'drain-move-off', 'drain.moveClients is false');
      else enter(state, 'rebalance-not-on', `rebalance.mode is ${r.mode}: would move ${s.toMove}`);
      if (s.kind === 'rebalance') continue;
    }
    active.set(s.name, state);
  }
  return active;
}
