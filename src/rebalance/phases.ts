// A moving source's phases and every way into one, as one table: the rebalancer enters a
// phase only through `enter`, and docs/rebalancing.md shows the same table (a unit test
// checks the doc against it), so the rules are read in one place.

export const SOURCE_PHASES = ['waiting-for-ack', 'moving', 'paused', 'failed', 'no-agent', 'dry-run'] as const;
export type SourcePhase = (typeof SOURCE_PHASES)[number];

interface Transition {
  readonly to: SourcePhase;
  /** What the round observed (the row of the doc's table). */
  readonly when: string;
}

/** Every event that puts a source in a phase. Keys are stable: status notes and tests name them. */
export const TRANSITIONS = {
  'no-agent': { to: 'no-agent', when: 'the broker has no agent URL: only the weights steer new connections' },
  'drain-deadline-passed': { to: 'dry-run', when: 'a drain is past drain.deadlineMs: it stays DRAINING, nobody more is moved' },
  'drain-move-off': { to: 'dry-run', when: 'drain.moveClients is false: DRAINING in EDS only' },
  'rebalance-not-on': { to: 'dry-run', when: 'rebalance.mode is not on: the plan is reported, nobody is moved' },
  'plan-blocked': { to: 'paused', when: 'no broker can take clients (all overloaded or none serving)' },
  'ack-pending': { to: 'waiting-for-ack', when: 'an Envoy has not ACKed the DRAINING push yet (within rebalance.ackTimeoutMs)' },
  'ack-late-wait': {
    to: 'waiting-for-ack',
    when: 'past rebalance.ackTimeoutMs with laggards and laggardAction wait, or laggards not named',
  },
  'in-flight-full': { to: 'paused', when: 'rebalance.maxInFlight moved clients are not back yet' },
  'rate-limit': { to: 'paused', when: 'rebalance.ratePerSec is used up for this second' },
  'nothing-to-choose': { to: 'paused', when: 'the agent lists no client that may be moved (rebalance.safeOnly)' },
  moved: { to: 'moving', when: 'the agent disconnected the chosen clients (acked, or past ackTimeoutMs with laggardAction proceed)' },
  'agent-failed': { to: 'failed', when: 'an agent request failed: moving stops until rebalance.retryAfterMs' },
} as const satisfies Record<string, Transition>;

export type PhaseEvent = keyof typeof TRANSITIONS;

export interface PhaseHolder {
  phase: SourcePhase;
  note: string;
}

/** Puts a source in the phase the table gives for the event, with a note saying why in this case. */
export function enter(s: PhaseHolder, event: PhaseEvent, note: string): void {
  s.phase = TRANSITIONS[event].to;
  s.note = note;
}

/** The table as docs/rebalancing.md shows it. */
export function transitionTable(): string {
  const rows = Object.entries(TRANSITIONS).map(([event, t]) => `| \`${event}\` | \`${t.to}\` | ${t.when} |`);
  return ['| event | phase | when |', '|---|---|---|', ...rows].join('\n');
}
