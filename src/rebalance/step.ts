// The rebalancer as a state machine: step(state, event, now) returns the next state and the
// actions to perform. It does no I/O and reads no clock; the Rebalancer (rebalancer.ts) is the
// executor that performs the actions and feeds agent answers back as events. The phases a
// source goes through are one table (phases.ts), the one docs/rebalancing.md shows.
import { disconnected, listed, salted } from './moves';
import { counted, startRound } from './round';
import { draftOf, log, type RebalanceAction, type RebalanceEvent, type RebalanceState, type Work } from './state';

export interface Step {
  readonly state: RebalanceState;
  readonly actions: readonly RebalanceAction[];
}

export function step(state: RebalanceState, event: RebalanceEvent, now: number): Step {
  const w: Work = { d: draftOf(state), actions: [], now };
  const { d } = w;
  const round = d.round;
  switch (event.kind) {
    case 'tick':
      // Rounds never overlap: a tick during one is dropped.
      if (!round) startRound(w, event.world);
      break;
    case 'counted':
      if (round) counted(w, round, event.broker, event.result);
      break;
    case 'listed':
      if (round) listed(w, round, event.broker, event.result);
      break;
    case 'salted':
      if (round) salted(w, round, event.broker, event.acked);
      break;
    case 'disconnected':
      if (round) disconnected(w, round, event.broker, event.result);
      break;
    case 'drain-requested':
      if (d.apiDrains.has(event.broker)) break;
      d.apiDrains = new Map(d.apiDrains).set(event.broker, { requestedAtMs: now, origin: 'api' });
      log(w, 'info', 'drain requested', { broker: event.broker });
      break;
    case 'drain-cancelled': {
      if (!d.apiDrains.has(event.broker)) break;
      const api = new Map(d.apiDrains);
      api.delete(event.broker);
      d.apiDrains = api;
      log(w, 'info', 'drain cancelled', { broker: event.broker });
      break;
    }
    case 'drains-recorded': {
      // The API drains become exactly what the shared record holds (every replica applies the
      // same set, whichever took the request); a drain keeps the time it was first asked for.
      const api = new Map(d.apiDrains);
      for (const [name, rec] of event.record) {
        if (api.has(name)) continue;
        api.set(name, { requestedAtMs: rec.requestedAtMs, origin: 'api' });
        log(w, 'info', 'drain requested', { broker: name, by: rec.by, through: 'the shared drain record' });
      }
      for (const name of [...api.keys()]) {
        if (event.record.has(name)) continue;
        api.delete(name);
        log(w, 'info', 'drain cancelled', { broker: name, through: 'the shared drain record' });
      }
      d.apiDrains = api;
      break;
    }
  }
  return { state: d, actions: w.actions };
}
