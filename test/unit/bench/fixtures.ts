// Hand-made samples for the benchmark's analysis tests: brokers by connections only, the
// cost following the connections one to one, as with idle clients.
import type { ClientStats, ClientTimeline } from '../../../test/bench/lb/clients';
import type { BrokerSample, Sample } from '../../../test/bench/lb/samples';

export const NO_CLIENTS: ClientStats = {
  attempts: 0,
  connects: 0,
  failed: 0,
  refused: 0,
  timedOut: 0,
  closedEarly: 0,
  disconnects: 0,
  lifetimeEnds: 0,
  connected: 0,
  publishes: 0,
  received: 0,
};

/** A broker in the balancer with `connections` clients, capacity 1000 unless given. */
export function broker(name: string, connections: number, extra: Partial<BrokerSample> = {}): BrokerSample {
  const capacity = extra.capacity ?? 1000;
  return {
    name,
    present: true,
    capacity,
    cost: connections,
    utilisation: connections / capacity,
    connections,
    overloadLevel: 0,
    ...extra,
  };
}

export function sample(tSec: number, brokers: readonly BrokerSample[], extra: Partial<Sample> = {}): Sample {
  return { tSec, brokers, clients: NO_CLIENTS, ...extra };
}

/** Samples once a second from `counts`: broker name → connections at each second. */
export function series(fromSec: number, counts: Readonly<Record<string, readonly number[]>>): Sample[] {
  const names = Object.keys(counts);
  const n = Math.max(...names.map((k) => counts[k].length));
  return Array.from({ length: n }, (_, i) =>
    sample(
      fromSec + i,
      names.filter((k) => counts[k][i] !== undefined).map((k) => broker(k, counts[k][i])),
    ),
  );
}

export function timeline(partial: Partial<ClientTimeline>): ClientTimeline {
  return { connects: [], disconnects: [], failures: [], lifetimeEnds: [], ...partial };
}
