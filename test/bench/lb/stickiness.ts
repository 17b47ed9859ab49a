// Stickiness: does a client id come back to the broker that held its previous connection?
// The runner reads every broker's connected clients once a second (GET /admin/clients)
// into a PlacementLog; each connection is one (client id, broker, connected-since) seen at
// least once. Pure apart from the log's own state; docs/lb-benchmark.md defines the metric.

/** One connection of a client id, in ms since t = 0 of the scenario. */
export interface Placement {
  readonly clientId: string;
  readonly broker: string;
  readonly atMs: number;
}

/** A moment the broker set changed (a join, leave, kill or drain), seconds since t = 0. */
export interface BrokerSetChange {
  readonly atSec: number;
  /** The broker that joined, for a join. */
  readonly joined?: string;
}

export interface StickinessCount {
  readonly reconnects: number;
  /** Reconnects that reached the broker of the id's previous connection. */
  readonly same: number;
  /** same / reconnects; null without reconnects. */
  readonly share: number | null;
}

export interface StickinessResult extends StickinessCount {
  /** Reconnects with no change of the broker set between the two connections. */
  readonly stable: StickinessCount;
  /** Reconnects with a change in between: how many moved, and how many of those to a broker that joined. */
  readonly acrossChanges: { readonly reconnects: number; readonly moved: number; readonly movedToJoined: number };
}

/** The harness's own probe connection (run-strategy.ts) is not a client of the scenario. */
const PROBE_PREFIX = 'bench-probe';

export class PlacementLog {
  private readonly seen = new Map<string, Placement>();

  /** @param t0Ms the scenario's t = 0, epoch ms; connections from before it are ignored. */
  constructor(private readonly t0Ms: number) {}

  observe(broker: string, clients: readonly { readonly clientId: string; readonly connectedSinceMs: number }[]): void {
    for (const c of clients) {
      if (c.clientId.startsWith(PROBE_PREFIX) || c.connectedSinceMs < this.t0Ms) continue;
      const key = `${c.clientId}\u0000${broker}\u0000${c.connectedSinceMs}`;
      if (!this.seen.has(key)) this.seen.set(key, { clientId: c.clientId, broker, atMs: c.connectedSinceMs - this.t0Ms });
    }
  }

  connections(): Placement[] {
    return [...this.seen.values()].sort((a, b) => a.atMs - b.atMs || a.clientId.localeCompare(b.clientId));
  }
}

export function stickiness(connections: readonly Placement[], changes: readonly BrokerSetChange[]): StickinessResult {
  const byId = new Map<string, Placement[]>();
  for (const c of connections) {
    const list = byId.get(c.clientId);
    if (list) list.push(c);
    else byId.set(c.clientId, [c]);
  }
  const changeMs = changes.map((c) => ({ atMs: c.atSec * 1000, joined: c.joined }));
  let reconnects = 0;
  let same = 0;
  let stableReconnects = 0;
  let stableSame = 0;
  let across = 0;
  let moved = 0;
  let movedToJoined = 0;
  for (const list of byId.values()) {
    list.sort((a, b) => a.atMs - b.atMs);
    for (let i = 1; i < list.length; i++) {
      const prev = list[i - 1];
      const next = list[i];
      const kept = prev.broker === next.broker;
      reconnects += 1;
      if (kept) same += 1;
      const between = changeMs.filter((c) => c.atMs > prev.atMs && c.atMs <= next.atMs);
      if (between.length === 0) {
        stableReconnects += 1;
        if (kept) stableSame += 1;
        continue;
      }
      across += 1;
      if (kept) continue;
      moved += 1;
      if (between.some((c) => c.joined === next.broker)) movedToJoined += 1;
    }
  }
  return {
    reconnects,
    same,
    share: shareOf(same, reconnects),
    stable: { reconnects: stableReconnects, same: stableSame, share: shareOf(stableSame, stableReconnects) },
    acrossChanges: { reconnects: across, moved, movedToJoined },
  };
}

function shareOf(part: number, whole: number): number | null {
  return whole > 0 ? part / whole : null;
}
