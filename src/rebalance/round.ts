// A round up to the first move: which brokers drain, what their agents count, the move plan,
// this round's sources and what is published as DRAINING. Pure: step() calls these on a draft.
import { entryOf, type Policy } from '../config/policy';
import type { Broker } from '../domain';
import { moveCandidates, totalConnections } from './candidates';
import type { DrainOrigin, DrainRequest } from './drain-status';
import { nextMove } from './moves';
import type { AgentResult } from './agent-client';
import { observeInFlight } from './in-flight';
import { observeMissing, rateAvailable } from './pacer';
import { enter } from './phases';
import { planMoves, type MovePlan } from './plan';
import { nextSources } from './sources';
import {
  failed,
  log,
  marked,
  IN_FLIGHT_WINDOW_MS,
  MISSING_FORGET_MS,
  RECENT_MS,
  retrying,
  SETTLE_MS,
  type Round,
  type Work,
  type World,
} from './state';

const API_DRAIN = 'drain requested through the API';

/** API drains, plus what policy overrides and discovery (e.g. a terminating pod) mark as draining. */
export function drainsOf(
  apiDrains: ReadonlyMap<string, DrainRequest>,
  seenDrains: ReadonlyMap<string, DrainRequest>,
  brokers: readonly Broker[],
  policy: Policy,
  now: number,
): { drains: Map<string, DrainRequest>; seen: Map<string, DrainRequest> } {
  const drains = new Map(apiDrains);
  const seen = new Map(seenDrains);
  for (const b of brokers) {
    if (drains.has(b.name)) continue;
    const origin: DrainOrigin | undefined =
      entryOf(policy.overrides, b.name)?.drain === true ? 'policy' : b.draining === true ? 'discovery' : undefined;
    if (origin === undefined) {
      seen.delete(b.name);
      continue;
    }
    const first = seen.get(b.name) ?? { requestedAtMs: now, origin };
    seen.set(b.name, first);
    drains.set(b.name, first);
  }
  return { drains, seen };
}

/** A tick starts a round: a standby only publishes the API drains; the leader first counts what draining brokers hold. */
export function startRound(w: Work, world: World): void {
  const { d, now } = w;
  const { drains, seen } = drainsOf(d.apiDrains, d.seenDrains, world.brokers, world.policy, now);
  d.seenDrains = seen;
  if (!world.leader) {
    // Only the leader moves clients; a standby forgets its sources so a new leader starts clean.
    d.sources = new Map();
    publishMoving(w, new Map([...d.apiDrains.keys()].map((n) => [n, API_DRAIN])));
    return;
  }
  // Scrapes lag behind disconnects; a drain is only done when the agent says so (limit 0: the count alone).
  const counting: string[] = [];
  if (world.policy.drain.moveClients) {
    for (const b of world.brokers) {
      if (!drains.has(b.name) || b.agentUrl === undefined) continue;
      const s = d.sources.get(b.name);
      if (s && retrying(s, now)) continue;
      counting.push(b.name);
      w.actions.push({ kind: 'count', broker: b.name, agentUrl: b.agentUrl });
    }
  }
  d.round = { startedAtMs: now, world, drains, counting, queue: [], tokens: 0 };
  if (counting.length === 0) plan(w, d.round);
}

/** An agent's count for a draining broker came back; once all have, the round plans. */
export function counted(w: Work, round: Round, broker: string, result: AgentResult<{ readonly total: number }>): void {
  const { d } = w;
  if (!round.counting.includes(broker)) return;
  if (result.ok) d.agentTotals = new Map(d.agentTotals).set(broker, { total: result.value.total, atMs: round.startedAtMs });
  else {
    const s = d.sources.get(broker);
    if (s) failed(w, round.world.policy, broker, s, result.error, round.startedAtMs);
    else
      log(w, 'warn', 'agent request failed while counting a draining broker', {
        broker,
        code: result.error.code,
        error: result.error.message,
      });
  }
  const rest = round.counting.filter((n) => n !== broker);
  d.round = { ...round, counting: rest };
  if (rest.length === 0) plan(w, d.round);
}

/** The plan, this round's sources, the DRAINING marks; then the first move. */
function plan(w: Work, round: Round): void {
  const { d } = w;
  const now = round.startedAtMs;
  const { policy, loads } = round.world;
  const r = policy.rebalance;
  if (policy.drain.moveClients) d.agentTotals = new Map([...d.agentTotals].filter(([n]) => round.drains.has(n)));
  watchTotal(w, totalConnections(loads), now, r.minExcess);
  const moving = new Set(
    [...d.sources].filter(([, s]) => s.kind === 'rebalance' && s.phase !== 'dry-run' && s.phase !== 'no-agent').map(([n]) => n),
  );
  d.recent = d.recent.filter((m) => now - m.atMs <= RECENT_MS);
  d.inFlight = observeInFlight(d.inFlight, totalConnections(loads), d.recent, now, IN_FLIGHT_WINDOW_MS);
  const candidates = moveCandidates({
    brokers: round.world.brokers,
    loads,
    decisions: round.world.decisions,
    policy,
    draining: new Set(round.drains.keys()),
    agentTotals: d.agentTotals,
    recent: d.recent,
  });
  const movePlan = planMoves(candidates, r, moving);
  report(w, movePlan, r.mode);

  // A new rebalance waits until the last one's clients are back (or long forgotten).
  const settled = now - d.totalChangedAtMs >= SETTLE_MS && d.missing.count < r.minExcess && d.finished.size === 0 && d.held.size === 0;
  const active = nextSources({
    plan: movePlan.sources,
    previous: d.sources,
    drainRequestedAtMs: new Map([...round.drains].map(([n, q]) => [n, q.requestedAtMs])),
    policy,
    settled,
    now,
  });
  const finished = new Set(d.finished);
  for (const [name, s] of d.sources) {
    if (active.has(name)) continue;
    log(w, 'info', 'moving from broker ended', { broker: name, moved: d.movedTotal.get(name) ?? 0 });
    if (s.kind === 'rebalance') finished.add(name);
  }
  // Clients moved from the other sources must not land on one that is done: it would be
  // over its target again. So the done ones stay DRAINING until every source is done and
  // the last moved clients had time to reconnect elsewhere.
  const stillMoving = [...active.values()].some((s) => s.kind === 'rebalance' && marked(s, now));
  const lastMoveMs = d.recent.at(-1)?.atMs ?? -Infinity;
  const room = new Set(movePlan.room);
  // Without a broker with room left, holding the others would leave Envoy nowhere to send anyone.
  const held = new Set(room.size === 0 ? [] : [...d.held].filter((n) => !room.has(n) && !active.has(n)));
  if (stillMoving && room.size > 0) for (const n of movePlan.targets) if (!room.has(n)) held.add(n);
  if (!stillMoving && now - lastMoveMs >= SETTLE_MS && d.inFlight.count < r.minExcess) {
    finished.clear();
    held.clear();
  }
  d.finished = finished;
  d.held = held;
  d.sources = active;
  d.laggards = new Map([...d.laggards].filter(([n]) => active.has(n)));

  const marks = new Map<string, string>();
  for (const n of d.apiDrains.keys()) marks.set(n, API_DRAIN);
  for (const [n, s] of d.sources) {
    if (s.kind === 'rebalance' && marked(s, now)) marks.set(n, 'rebalancing: clients are moved to brokers below their share');
  }
  for (const n of d.finished) if (!marks.has(n)) marks.set(n, 'rebalancing: done here, waiting for the other brokers to finish');
  for (const n of d.held) if (!marks.has(n)) marks.set(n, 'rebalancing: at its share, takes none of the moved clients');
  publishMoving(w, marks);

  d.missing = observeMissing(d.missing, totalConnections(loads), d.sources.size > 0, now, MISSING_FORGET_MS);
  if (movePlan.blocked !== '') {
    // Nothing moves from any source; without this a stuck drain kept reporting "moving".
    for (const s of d.sources.values()) {
      if (s.phase === 'no-agent' || s.phase === 'dry-run' || retrying(s, now)) continue;
      enter(s, 'plan-blocked', `nothing moves: ${movePlan.blocked}`);
    }
    d.round = undefined;
    return;
  }
  if (d.sources.size === 0) {
    d.round = undefined;
    return;
  }
  d.round = { ...round, counting: [], queue: [...d.sources.keys()], tokens: rateAvailable(d.rate, r.ratePerSec, now) };
  nextMove(w, d.round);
}

/** Logs the plan when it changes (not each tick). */
function report(w: Work, movePlan: MovePlan, mode: string): void {
  const { d } = w;
  d.plan = movePlan;
  const text = JSON.stringify({ sources: movePlan.sources.map((s) => [s.name, s.kind, s.target]), blocked: movePlan.blocked });
  if (text === d.planText) return;
  d.planText = text;
  if (movePlan.sources.length > 0 || movePlan.blocked !== '') {
    log(w, 'info', 'move plan', {
      mode,
      sources: movePlan.sources,
      targets: movePlan.targets,
      blocked: movePlan.blocked || undefined,
    });
  }
}

export function publishMoving(w: Work, marks: ReadonlyMap<string, string>): void {
  const { d } = w;
  const same = marks.size === d.moving.size && [...marks].every(([k, v]) => d.moving.get(k) === v);
  if (same) return;
  d.moving = marks;
  w.actions.push({ kind: 'set-moving', moving: marks });
}

/** Notes when the fleet's connection count last moved by minExcess or more. */
function watchTotal(w: Work, total: number | undefined, now: number, minExcess: number): void {
  const { d } = w;
  if (total === undefined) {
    d.totalChangedAtMs = now;
    return;
  }
  if (d.lastTotal === undefined || Math.abs(total - d.lastTotal) >= minExcess) {
    d.lastTotal = total;
    d.totalChangedAtMs = now;
  }
}
