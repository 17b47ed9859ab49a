// One peer through one scenario, one simulated second at a time: clients leave and arrive
// (aggregate counts), the Envoys place arrivals by their own last EDS update, the brokers
// are scraped, the control plane computes and pushes, and the rebalancer moves clients.
import { AgentDriver } from './agents';
import { BrokerFleet, brokerSpecs } from './brokers';
import { ControlPlane, peerHasAgents, type PeerName } from './control-plane';
import { EnvoyFleet } from './envoys';
import { capacityTargets, fillFraction, minimumMoves, Recorder } from './metrics';
import { Population } from './population';
import { seeded } from './random';
import { ReconnectQueue } from './reconnects';
import { policyOf, slotCount, type FleetEvent, type Scenario } from './scenarios';
import { summarise, type RunSummary } from './summary';

/** Simulated time starts at a midnight (the daily cycle's time of day is tSec). */
const EPOCH_MS = Date.UTC(2025, 0, 1);

interface Pending {
  readonly atSec: number;
  readonly run: () => void;
}

export function simulate(s: Scenario, peer: PeerName, progress?: (tSec: number) => void): RunSummary {
  const wallStart = process.hrtime.bigint();
  const slots = slotCount(s);
  const initialUnits = brokerSpecs(s.brokers, 1).reduce((n, b) => n + b.units, 0);
  const specs = brokerSpecs(slots, s.clients / (initialUnits * s.meanUtilisation));
  const policy = policyOf(s, specs);
  const fleet = new BrokerFleet(specs, peerHasAgents(peer));
  for (let b = 0; b < s.brokers; b++) fleet.start(b);

  const pop = new Population(s.classes, slots, s.clients, 1);
  pop.placeInitial(
    specs.map((b, i) => (i < s.brokers ? b.units / initialUnits : 0)),
    seeded(s.seed, 'initial'),
  );
  const queue = new ReconnectQueue(pop.k, s.backoff);
  const envoys = new EnvoyFleet(s.envoys, slots, seeded(s.seed, 'envoys'), seeded(s.seed, 'edf'));
  const cp = new ControlPlane(peer, policy, fleet.index, slots, new Map(specs.map((b) => [b.name, b.units])), s.minPushIntervalMs);
  const rng = { depart: seeded(s.seed, 'depart'), wake: seeded(s.seed, 'wake'), route: seeded(s.seed, 'route') };
  const jitter = seeded(s.seed, 'jitter');
  const scrapeRng = seeded(s.seed, 'scrape');
  let movingChanged = false;
  const agents = peerHasAgents(peer)
    ? new AgentDriver(
        { latencyMinMs: s.agentLatencyMs.min, latencyMaxMs: s.agentLatencyMs.max, epochMs: EPOCH_MS },
        fleet,
        envoys,
        pop,
        queue,
        seeded(s.seed, 'agents'),
        (m) => {
          cp.setMoving(m);
          movingChanged = true;
        },
      )
    : undefined;
  const rec = new Recorder(s.warmupSec, 1);

  let dirty = false;
  const publish = (nowMs: number): void => {
    const plan = cp.recompute(nowMs, fleet.discovered(), fleet.loads);
    if (plan) envoys.publish(plan, nowMs);
  };
  // A warm start: the Envoys already hold the plan of the first scrape.
  fleet.scrape(EPOCH_MS, pop, s.scrape, scrapeRng);
  publish(EPOCH_MS);
  envoys.advance(Number.POSITIVE_INFINITY);
  let nextScrapeMs = EPOCH_MS + s.scrape.intervalMs;

  const pending: Pending[] = [];
  const later = (atSec: number, run: () => void): void => void pending.push({ atSec, run });
  const drains = new Map<number, { readonly since: number; readonly restartAfterSec: number }>();
  const newSlots: number[] = [];
  let scaleOutSec: number | undefined;
  let minimum: number | undefined;
  const dropped = new Float64Array(pop.k);
  const requeue = (tSec: number, slot: number): number => {
    const n = pop.dropAll(slot, dropped);
    for (let k = 0; k < pop.k; k++) queue.add(tSec, k, 0, dropped[k], jitter.next());
    return n;
  };
  const startEvent = (e: FleetEvent, tSec: number): void => {
    dirty = true;
    if (e.kind === 'fail') {
      rec.droppedByFailure += requeue(tSec, e.slot);
      fleet.kill(e.slot);
      later(tSec + s.failureDetectSec, () => fleet.unlist(e.slot));
      later(tSec + e.restartAfterSec, () => fleet.start(e.slot));
    } else if (e.kind === 'drain') {
      fleet.draining[e.slot] = 1;
      drains.set(e.slot, { since: tSec, restartAfterSec: e.restartAfterSec });
    } else {
      const serving = fleet.upSlots();
      for (let i = 0; i < e.count; i++) {
        const slot = s.brokers + newSlots.length;
        newSlots.push(slot);
        fleet.start(slot);
      }
      scaleOutSec = tSec;
      const all = [...serving, ...newSlots];
      const conns = all.map((b) => pop.connectedOn(b));
      const total = conns.reduce((a, b) => a + b, 0);
      minimum = minimumMoves(
        conns,
        capacityTargets(
          total,
          all.map((b) => specs[b].capacity),
        ),
      );
    }
  };

  const fresh = new Float64Array(pop.k);
  const counts = new Float64Array(slots);
  const events = [...s.events].sort((a, b) => a.atSec - b.atSec);
  for (let t = 1; t <= s.durationSec; t++) {
    const nowMs = EPOCH_MS + t * 1000;
    while (events.length > 0 && events[0].atSec <= t) startEvent(events.shift()!, t);
    for (let i = pending.length - 1; i >= 0; i--) {
      if (pending[i].atSec > t) continue;
      pending.splice(i, 1)[0].run();
      dirty = true;
    }
    for (const [slot, d] of drains) {
      // The pod stops once the drain emptied it, or at the deadline with whoever is left.
      if (pop.connectedOn(slot) > 0 && t < d.since + policy.drain.deadlineMs / 1000) continue;
      drains.delete(slot);
      rec.droppedByStop += requeue(t, slot);
      fleet.kill(slot);
      fleet.unlist(slot);
      dirty = true;
      later(t + d.restartAfterSec, () => fleet.start(slot));
    }

    pop.depart(fleet.upSlots(), rng.depart);
    pop.wake(s.startOfDaySec + t, rng.wake, fresh);
    // A fresh connect that fails starts the backoff at attempt 0, like a disconnected client.
    const groups = [...Array.from(fresh, (n, k) => ({ k, attempt: -1, n })), ...queue.take(t)];
    for (const g of groups) {
      if (g.n <= 0) continue;
      counts.fill(0);
      const refused = envoys.route(g.n, counts, rng.route);
      let failed = refused;
      for (let b = 0; b < slots; b++) {
        if (counts[b] === 0) continue;
        if (fleet.state[b] === 'up') pop.conn[b * pop.k + g.k] += counts[b];
        else failed += counts[b];
      }
      rec.failedConnects += failed;
      queue.add(t, g.k, g.attempt + 1, failed, jitter.next());
    }
    envoys.advance(nowMs);

    const up = fleet.upSlots();
    const serving = up.filter((b) => fleet.listed[b] && !fleet.draining[b]);
    rec.second(
      t,
      serving.map((b) => fleet.utilisation(b, pop)),
      up.map((b) => fleet.utilisation(b, pop)),
    );
    if (scaleOutSec !== undefined) {
      const total = serving.reduce((n, b) => n + pop.connectedOn(b), 0);
      const targets = capacityTargets(
        total,
        serving.map((b) => specs[b].capacity),
      );
      const isNew = serving.map((b) => newSlots.includes(b));
      rec.fill.push({
        tSec: t,
        fill: fillFraction(
          serving.filter((_, i) => isNew[i]).map((b) => pop.connectedOn(b)),
          targets.filter((_, i) => isNew[i]),
        ),
      });
    }

    if (nowMs >= nextScrapeMs) {
      fleet.scrape(nowMs, pop, s.scrape, scrapeRng);
      nextScrapeMs = nowMs + s.scrape.intervalMs * (0.9 + 0.2 * jitter.next());
      dirty = true;
    }
    if (dirty || cp.retryDue(nowMs)) publish(nowMs);
    dirty = false;
    if (agents) {
      agents.tick(nowMs, { policy, brokers: fleet.discovered(), loads: fleet.loads, decisions: cp.decisions() });
      if (movingChanged) publish(nowMs);
      movingChanged = false;
    }
    if (progress && t % 3600 === 0) progress(t);
  }

  const wallSec = Number(process.hrtime.bigint() - wallStart) / 1e9;
  return summarise({ scenario: s, peer, rec, cp, agents, pop, queue, scaleOutSec, minimum, wallSec });
}
