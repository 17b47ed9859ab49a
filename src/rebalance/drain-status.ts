// A drain's progress as GET /drain/<broker> reports it: pure, from what the rebalancer holds.
import type { Policy } from '../config/policy';
import type { Broker, BrokerLoad } from '../domain';
import type { LaggardView } from './ack';
import { freshConnections } from './candidates';
import type { SourcePhase } from './phases';
import type { SourceState } from './sources';

export type DrainOrigin = 'api' | 'policy' | 'discovery';

export interface DrainRequest {
  readonly requestedAtMs: number;
  readonly origin: DrainOrigin;
}

export interface DrainStatus {
  readonly broker: string;
  readonly state: 'draining' | 'drained' | 'timed-out' | 'not-draining';
  readonly drained: boolean;
  readonly origin?: DrainOrigin;
  /** Why discovery marks it draining (pod terminating, pod annotation), when it does. */
  readonly reason?: string;
  readonly connections?: number;
  readonly moved: number;
  readonly requestedAt?: string;
  readonly deadlineAt?: string;
  readonly phase?: SourcePhase;
  readonly note?: string;
  readonly error?: string;
  /** Node ids (at most 20) of Envoys that did not ACK the DRAINING push within rebalance.ackTimeoutMs. */
  readonly ackLaggards?: LaggardView;
}

export interface DrainStatusInput {
  readonly name: string;
  readonly request: DrainRequest;
  readonly moved: number;
  readonly broker: Broker | undefined;
  readonly load: BrokerLoad | undefined;
  /** What the broker's agent last said it holds, and when. */
  readonly counted: { readonly total: number; readonly atMs: number } | undefined;
  readonly source: SourceState | undefined;
  readonly policy: Policy;
  readonly now: number;
}

export function drainStatusOf(input: DrainStatusInput): DrainStatus {
  const { name, request, moved, broker, load, counted, source, policy, now } = input;
  const deadlineMs = request.requestedAtMs + policy.drain.deadlineMs;
  // Drained only on a count taken after the request: the agent's, or else a scrape's.
  const fromAgent = broker?.agentUrl !== undefined && counted !== undefined && counted.atMs >= request.requestedAtMs;
  const scraped = (load?.scrapedAtMs ?? 0) >= request.requestedAtMs ? freshConnections(load) : undefined;
  const connections = !broker ? 0 : fromAgent ? counted.total : (scraped ?? freshConnections(load));
  // With an agent, both must say empty: the agent's list (current) and, when the broker
  // exports it, its own connection gauge (a list that misses a client must not end a drain).
  const byAgent = broker?.agentUrl !== undefined && policy.drain.moveClients;
  const drained = !broker || (byAgent ? fromAgent && counted.total === 0 && (scraped === undefined || scraped === 0) : scraped === 0);
  const state = drained ? 'drained' : now > deadlineMs ? 'timed-out' : 'draining';
  return {
    broker: name,
    state,
    drained,
    origin: request.origin,
    ...(broker?.drainReason !== undefined && request.origin === 'discovery' ? { reason: broker.drainReason } : {}),
    ...(connections === undefined ? {} : { connections }),
    moved,
    requestedAt: new Date(request.requestedAtMs).toISOString(),
    deadlineAt: new Date(deadlineMs).toISOString(),
    ...(source ? { phase: source.phase, note: source.note } : {}),
    ...(source?.lastError ? { error: source.lastError.message } : {}),
    ...(source?.ackLaggards ? { ackLaggards: source.ackLaggards } : {}),
  };
}
