// A round's moves, one source at a time: check the DRAINING push was ACKed, ask the agent for
// its clients, choose, and disconnect in batches; each agent answer comes back as an event.
// Pure: step() calls these on a draft, and the executor performs the agent calls they ask for.
import { laggardView, toDrainAck } from './ack';
import type { AgentResult, ClientList, DisconnectOutcome } from './agent-client';
import { chooseClients } from './choose';
import { rateTake } from './pacer';
import { enter } from './phases';
import type { SourceState } from './sources';
import { failed, log, retrying, SKIP_MS, type Round, type Work } from './state';

/** Starts moving from the next source that may move; ends the round when none is left. */
export function nextMove(w: Work, round: Round): void {
  const { d } = w;
  const now = round.startedAtMs;
  const r = round.world.policy.rebalance;
  const queue = [...round.queue];
  for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
    const s = d.sources.get(name);
    if (!s || s.phase === 'no-agent' || s.phase === 'dry-run' || s.toMove <= 0 || retrying(s, now)) continue;
    if (!acked(w, round, name, s)) continue;
    const inFlight = d.inFlight.count;
    if (inFlight >= r.maxInFlight) {
      enter(s, 'in-flight-full', `${inFlight} moved clients not back yet (maxInFlight ${r.maxInFlight})`);
      continue;
    }
    const n = Math.min(s.toMove, round.tokens, r.maxInFlight - inFlight);
    if (n <= 0) {
      enter(s, 'rate-limit', 'rate limit');
      continue;
    }
    const agentUrl = round.world.brokers.find((b) => b.name === name)?.agentUrl;
    if (agentUrl === undefined) continue;
    d.round = { ...round, queue, current: { broker: name, agentUrl, kind: s.kind, batches: [], count: 0, wanted: n } };
    w.actions.push({ kind: 'list', broker: name, agentUrl, limit: Math.min(100_000, Math.max(1000, n * 4)) });
    return;
  }
  d.round = undefined;
}

/**
 * Whether moving from this source may go on. Before ackTimeoutMs every Envoy must have
 * ACKed the DRAINING push; after it, laggardAction decides: proceed with the Envoys that
 * did (a laggard may still send a few new clients here, which the drain moves again), or
 * wait. An answer that names no laggard cannot say who ACKed, so it waits either way.
 */
function acked(w: Work, round: Round, name: string, s: SourceState): boolean {
  const r = round.world.policy.rebalance;
  const ack = toDrainAck(round.world.drainAck(name));
  const waited = round.startedAtMs - s.markedAtMs;
  const late = !ack.acked && waited > r.ackTimeoutMs;
  const laggards = new Map(w.d.laggards);
  if (late && ack.laggards.length > 0) laggards.set(name, ack.laggards);
  else laggards.delete(name);
  w.d.laggards = laggards;
  s.ackLaggards = late && ack.laggards.length > 0 ? laggardView(ack.laggards) : undefined;
  if (ack.acked) return true;
  if (late && s.ackLaggards && r.laggardAction === 'proceed') return true;
  const who = s.ackLaggards ? `${s.ackLaggards.laggardCount} Envoy(s) (${s.ackLaggards.laggards.join(', ')}) have` : 'an Envoy has';
  if (late)
    enter(
      s,
      'ack-late-wait',
      `${who} not ACKed the DRAINING push after ${Math.round(waited / 1000)}s; nobody is moved until they do (rebalance.laggardAction ${r.laggardAction})`,
    );
  else enter(s, 'ack-pending', 'waiting for every Envoy to ACK the DRAINING push');
  return false;
}

/** The agent listed its clients: choose who moves, then disconnect them in batches. */
export function listed(w: Work, round: Round, broker: string, result: AgentResult<ClientList>): void {
  const { d } = w;
  const cur = round.current;
  const s = d.sources.get(broker);
  if (!cur || cur.broker !== broker || !s) return;
  const r = round.world.policy.rebalance;
  if (!result.ok) {
    failed(w, round.world.policy, broker, s, result.error, round.startedAtMs);
    return nextMove(w, { ...round, current: undefined });
  }
  const now = round.startedAtMs;
  d.skip = new Map([...d.skip].filter(([, at]) => now - at <= SKIP_MS));
  const chosen = chooseClients(result.value.clients, cur.wanted, {
    safeOnly: r.safeOnly,
    order: r.order,
    skip: new Set(d.skip.keys()),
  });
  if (chosen.length === 0) {
    enter(
      s,
      'nothing-to-choose',
      r.safeOnly ? 'no client left that is safe to move (rebalance.safeOnly)' : 'the agent lists no client to move',
    );
    return nextMove(w, { ...round, current: undefined });
  }
  // One listing, then requests of at most batchSize clients each.
  const batches: string[][] = [];
  for (let i = 0; i < chosen.length; i += r.batchSize) batches.push(chosen.slice(i, i + r.batchSize).map((c) => c.clientId));
  // Sticky placement: salted first, so the reconnect is placed by the weights rather than hashed
  // back here once this broker takes new connections again. A drain salts nobody: the broker
  // is leaving, and its ids may come home when it is back.
  if (cur.kind === 'rebalance' && round.world.stickySalts === true) {
    d.round = { ...round, current: { ...cur, batches } };
    w.actions.push({ kind: 'salt', broker, clientIds: chosen.map((c) => c.clientId) });
    return;
  }
  sendBatch(w, { ...round, current: { ...cur, batches } });
}

/** The chosen ids' salts are out (or the wait for the ACK ran out): disconnect them. */
export function salted(w: Work, round: Round, broker: string, acked: boolean): void {
  const cur = round.current;
  if (!cur || cur.broker !== broker || cur.batches.length === 0) return;
  if (!acked) {
    log(w, 'warn', 'moving salted clients before every Envoy ACKed their salts', {
      broker,
      clients: cur.batches.reduce((n, b) => n + b.length, 0),
      ackTimeoutMs: round.world.policy.rebalance.ackTimeoutMs,
    });
  }
  sendBatch(w, round);
}

function sendBatch(w: Work, round: Round): void {
  const cur = round.current!;
  const [ids, ...rest] = cur.batches;
  w.d.round = { ...round, current: { ...cur, batches: rest } };
  w.actions.push({ kind: 'disconnect', broker: cur.broker, agentUrl: cur.agentUrl, clientIds: ids, sourceKind: cur.kind });
}

/** The agent answered a disconnect request (at `w.now`): book it, then the next batch or the next source. */
export function disconnected(w: Work, round: Round, broker: string, result: AgentResult<DisconnectOutcome>): void {
  const { d } = w;
  const cur = round.current;
  const s = d.sources.get(broker);
  if (!cur || cur.broker !== broker || !s) return;
  const done = result.ok ? result.value : result.error.partial;
  let count = cur.count;
  if (done) {
    count += recordMoved(w, round, broker, s, done);
    // Booked when the agent answered, which is when the clients saw their disconnect:
    // booking at the round's start let a benchmark see 363 in one second at 200/s.
    d.rate = rateTake(d.rate, done.disconnected.length, w.now);
  }
  if (!result.ok) {
    failed(w, round.world.policy, broker, s, result.error, round.startedAtMs);
    return nextMove(w, { ...round, tokens: round.tokens - count, current: undefined });
  }
  if (cur.batches.length > 0) return sendBatch(w, { ...round, current: { ...cur, count } });
  const without = s.ackLaggards
    ? `going on without ${s.ackLaggards.laggardCount} Envoy(s) that did not ACK the DRAINING push (rebalance.laggardAction proceed)`
    : '';
  enter(s, 'moved', without);
  s.lastError = undefined;
  nextMove(w, { ...round, tokens: round.tokens - count, current: undefined });
}

/** Books what an agent did disconnect (all of a batch, or part of a failed one). */
function recordMoved(w: Work, round: Round, name: string, s: SourceState, done: DisconnectOutcome): number {
  const { d } = w;
  const now = round.startedAtMs;
  const skip = new Map(d.skip);
  for (const id of [...done.disconnected, ...done.notFound]) skip.set(id, now);
  d.skip = skip;
  const count = done.disconnected.length;
  s.moved += count;
  d.movedTotal = new Map(d.movedTotal).set(name, (d.movedTotal.get(name) ?? 0) + count);
  d.recent = [...d.recent, { atMs: now, broker: name, n: count }];
  if (count > 0) w.actions.push({ kind: 'moved', broker: name, sourceKind: s.kind, n: count });
  log(w, 'info', 'clients moved', {
    broker: name,
    kind: s.kind,
    disconnected: count,
    notFound: done.notFound.length,
    remaining: s.toMove - count,
  });
  return count;
}
