// What the move planner is told about each broker, from discovery, scraping, balancing and
// the rebalancer's own record of recent disconnects. Pure.
import type { BrokerDecision } from '../balancing';
import { entryOf, type Policy } from '../config/policy';
import type { Broker, BrokerLoad } from '../domain';
import type { MoveCandidate } from './plan';

/** A disconnect counts against the scrape that may not have seen it yet for this long. */
const SCRAPE_MARGIN_MS = 1000;

export interface CandidateInputs {
  readonly brokers: readonly Broker[];
  readonly loads: ReadonlyMap<string, BrokerLoad>;
  readonly decisions: readonly BrokerDecision[];
  readonly policy: Policy;
  readonly draining: ReadonlySet<string>;
  /** A draining broker's count as its agent last gave it. */
  readonly agentTotals: ReadonlyMap<string, { readonly total: number; readonly atMs: number }>;
  /** Disconnects made, oldest first. */
  readonly recent: readonly { readonly atMs: number; readonly broker: string; readonly n: number }[];
}

export function moveCandidates(i: CandidateInputs): MoveCandidate[] {
  const decisions = new Map(i.decisions.map((d) => [d.name, d]));
  return i.brokers.map((b): MoveCandidate => {
    const load = i.loads.get(b.name);
    const d = decisions.get(b.name);
    // A draining broker's agent count, when newer than the scrape, is the better one.
    const counted = i.draining.has(b.name) ? i.agentTotals.get(b.name) : undefined;
    const useAgent = counted !== undefined && counted.atMs >= (load?.scrapedAtMs ?? 0);
    const since = useAgent ? counted.atMs : (load?.scrapedAtMs ?? 0) - SCRAPE_MARGIN_MS;
    const movedSinceScrape = i.recent.filter((m) => m.broker === b.name && m.atMs >= since).reduce((n, m) => n + m.n, 0);
    const connections = useAgent ? counted.total : freshConnections(load);
    return {
      name: b.name,
      ...(connections === undefined ? {} : { connections }),
      ...(d?.utilisation === undefined ? {} : { utilisation: d.utilisation }),
      ...(d?.capacity === undefined ? {} : { capacity: d.capacity }),
      drainRequested: i.draining.has(b.name),
      movedSinceScrape,
      hasAgent: b.agentUrl !== undefined,
      overloaded: (d?.factors.overload ?? 1) < 1,
      leftAlone: d?.excluded === true || b.staticWeight !== undefined || entryOf(i.policy.overrides, b.name)?.weight !== undefined,
    };
  });
}

/** Connections from a fresh scrape; undefined when stale, missing or broken. */
export function freshConnections(load: BrokerLoad | undefined): number | undefined {
  if (!load || load.stale || load.scrapedAtMs === undefined) return undefined;
  const c = load.signals.connections;
  return c !== undefined && Number.isFinite(c) && c >= 0 ? c : undefined;
}

/** The fleet's connections, or undefined while any broker lacks a fresh count. */
export function totalConnections(loads: ReadonlyMap<string, BrokerLoad>): number | undefined {
  let total = 0;
  for (const l of loads.values()) {
    const c = freshConnections(l);
    if (c === undefined) return undefined;
    total += c;
  }
  return total;
}
