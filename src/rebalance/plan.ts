// Which brokers hold more clients than they should, and how many to move from each. Pure:
// the rebalancer's shell feeds it what scraping and balancing know and acts on the answer.

/** One broker as the move planner sees it. */
export interface MoveCandidate {
  readonly name: string;
  /** Connections from the latest fresh scrape; undefined without one. */
  readonly connections?: number;
  /** Utilisation (1 = at capacity) as balancing estimated it, when it could. */
  readonly utilisation?: number;
  /** Connections at utilisation 1, as balancing assumed it. */
  readonly capacity?: number;
  /** Draining on request (operator, policy, Kubernetes termination): every client leaves. */
  readonly drainRequested: boolean;
  /** Clients this broker's agent was asked to disconnect since that scrape. */
  readonly movedSinceScrape: number;
  readonly hasAgent: boolean;
  readonly overloaded: boolean;
  /** Published weight is pinned or the broker is excluded: the planner does not move its clients. */
  readonly leftAlone: boolean;
}

export interface MoveSettings {
  readonly tolerance: number;
  readonly minExcess: number;
}

/** Brokers already being moved from: they go on down to their target (hysteresis). */
export type ActiveSources = ReadonlySet<string>;

export type SourceKind = 'drain' | 'rebalance';

export interface SourcePlan {
  readonly name: string;
  readonly kind: SourceKind;
  readonly connections: number;
  /** Connections the broker should end with. */
  readonly target: number;
  /** How many to move now: the excess over the target, less what is already on its way. */
  readonly toMove: number;
  /** False when the broker has no agent: nothing can be moved, only reported. */
  readonly movable: boolean;
  readonly reason: string;
}

export interface MovePlan {
  readonly sources: readonly SourcePlan[];
  /** Serving brokers that are not sources and not overloaded: within tolerance of their target or below it. */
  readonly targets: readonly string[];
  /** Those of the targets below their target: where moved clients should land. */
  readonly room: readonly string[];
  /** Why nothing moves (no targets, no metrics); empty when sources can move. */
  readonly blocked: string;
}

/**
 * The brokers to move clients from. A draining broker moves all of its clients. Otherwise
 * a broker's target is the connection count at which its utilisation equals the fleet's
 * mean: connections × mean / own utilisation, or its capacity share of the fleet's
 * A broker above (1 + tolerance) × its target starts moving and goes on down to the target,
 * never further, so at most the excess is disconnected; between the two it is left alone.
 */
export function planMoves(candidates: readonly MoveCandidate[], settings: MoveSettings, active: ActiveSources = new Set()): MovePlan {
  const serving = candidates.filter((c) => !c.drainRequested && !c.leftAlone && c.connections !== undefined);
  const targets = targetsOf(serving);
  const sources: SourcePlan[] = [];

  for (const c of candidates) {
    if (c.connections === undefined) continue;
    const onTheWay = Math.min(c.movedSinceScrape, c.connections);
    if (c.drainRequested) {
      // Listed until it is empty, even while every client left is already on its way.
      if (c.connections > 0) {
        const toMove = c.connections - onTheWay;
        sources.push({
          name: c.name,
          kind: 'drain',
          connections: c.connections,
          target: 0,
          toMove,
          movable: c.hasAgent,
          reason: `draining: ${c.connections} connections to move`,
        });
      }
      continue;
    }
    if (c.leftAlone) continue;
    const target = targets.get(c.name);
    if (target === undefined) continue;
    const excess = c.connections - target;
    // A source stays one until it reaches its target, even while its excess is on its way.
    const starts = c.connections > target * (1 + settings.tolerance) && excess >= settings.minExcess;
    const goesOn = active.has(c.name) && excess >= 1;
    if (!starts && !goesOn) continue;
    const toMove = Math.max(0, Math.floor(excess) - onTheWay);
    sources.push({
      name: c.name,
      kind: 'rebalance',
      connections: c.connections,
      target: Math.round(target),
      toMove,
      movable: c.hasAgent,
      reason: `${c.connections} connections, target ${Math.round(target)} (+${Math.round(settings.tolerance * 100)}% tolerance): ${Math.floor(excess)} over`,
    });
  }

  const sourceNames = new Set(sources.map((s) => s.name));
  // Every serving broker that is not itself a source is within tolerance of its target.
  const takers = serving.filter((c) => !sourceNames.has(c.name) && !c.overloaded);
  let blocked = '';
  if (sources.length > 0 && takers.length === 0) {
    blocked =
      serving.length === 0 ? 'no serving broker with fresh metrics to take the clients' : 'every serving broker is overloaded or full';
  }
  const room = takers.filter((c) => c.connections! < (targets.get(c.name) ?? Infinity)).map((c) => c.name);
  return {
    sources: blocked === '' ? sources : sources.map((s) => ({ ...s, toMove: 0 })),
    targets: takers.map((c) => c.name),
    room,
    blocked,
  };
}

/**
 * Each serving broker's target connection count: its capacity share of the serving
 * brokers' connections. An overloaded broker's target is lowered further, to where its
 * utilisation would meet the fleet's mean (its clients cost more than average). Capacities
 * come from balancing (hints, inferred, or the fleet mean for unknown ones), so targets
 * agree with the weights.
 */
function targetsOf(serving: readonly MoveCandidate[]): Map<string, number> {
  const out = new Map<string, number>();
  const total = serving.reduce((n, c) => n + c.connections!, 0);
  const capacities = serving.map((c) => (c.capacity !== undefined && c.capacity > 0 ? c.capacity : undefined));
  const known = capacities.filter((x): x is number => x !== undefined);
  const fallback = known.length > 0 ? known.reduce((a, b) => a + b, 0) / known.length : 1;
  const capacityOf = (i: number): number => capacities[i] ?? fallback;
  const sum = serving.reduce((n, _c, i) => n + capacityOf(i), 0);
  const withUtil = serving.map((c, i) => [c.utilisation, capacityOf(i)] as const).filter(([u]) => u !== undefined);
  const weighed = withUtil.reduce((n, [, cap]) => n + cap, 0);
  const mean = weighed > 0 ? withUtil.reduce((n, [u, cap]) => n + u! * cap, 0) / weighed : undefined;
  serving.forEach((c, i) => {
    const share = (total * capacityOf(i)) / sum;
    const u = c.utilisation;
    const relief = c.overloaded && u !== undefined && u > 0 && mean !== undefined ? (c.connections! * mean) / u : Infinity;
    out.set(c.name, Math.min(share, relief));
  });
  return out;
}
