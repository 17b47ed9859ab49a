// Whom to move: the clients that lose least by a reconnect go first. Pure.
import type { MoveOrder } from '../config/policy';

/** One connected client as an agent reports it (docs/agent-api.md). */
export interface AgentClient {
  readonly clientId: string;
  /** The CONNECT protocol level: 3 (3.1), 4 (3.1.1) or 5. */
  readonly mqttVersion: number;
  readonly cleanStart: boolean;
  readonly sessionExpirySec: number;
  readonly sharedSubscriber: boolean;
  readonly connectedSinceMs: number;
}

/** 0 = safest to move. */
export type Safety = 0 | 1 | 2;

/**
 * A shared-subscription member loses nothing: the group's other members take its messages
 * while it reconnects. A client whose session ends with the connection loses nothing
 * either: it subscribes again. A persistent session survives only where the brokers share
 * sessions (a HiveMQ cluster does), so those go last.
 */
export function safetyOf(c: AgentClient): Safety {
  if (c.sharedSubscriber) return 0;
  if (c.sessionExpirySec === 0) return 1;
  return 2;
}

/**
 * Up to `count` clients, safest first. Within a class `order` decides: `oldest-first` takes
 * the longest-connected clients, because a connection that has lasted long tends to go on
 * lasting, so the client stays where it is moved to; the latest arrivals are mostly
 * short-lived (mobile apps) and would leave again within minutes, their place refilled by
 * the weights (docs/fleet-simulation.md measures it). `newest-first` takes the latest
 * arrivals, whose state is the least settled. Clients in `skip` (already asked to leave)
 * are passed over. With safeOnly, persistent sessions are never chosen.
 */
export function chooseClients(
  clients: readonly AgentClient[],
  count: number,
  opts: { safeOnly: boolean; order: MoveOrder; skip?: ReadonlySet<string> },
): AgentClient[] {
  if (count <= 0) return [];
  const age = opts.order === 'oldest-first' ? 1 : -1;
  return clients
    .filter((c) => !opts.skip?.has(c.clientId) && (!opts.safeOnly || safetyOf(c) < 2))
    .sort(
      (a, b) =>
        safetyOf(a) - safetyOf(b) ||
        age * (a.connectedSinceMs - b.connectedSinceMs) ||
        (a.clientId < b.clientId ? -1 : a.clientId > b.clientId ? 1 : 0),
    )
    .slice(0, count);
}
