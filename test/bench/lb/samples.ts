// What the runner records once a second: the truth from every broker's capacity model,
// the clients' counters and, where the data plane can tell, its weights. Pure types.
import type { InstanceView } from './balancers';
import type { ClientStats, ClientTimeline } from './clients';
import type { ScrapeSettings } from './run-plan';
import type { Placement } from './stickiness';
import type { StrategyName } from './scenario';

export interface BrokerSample {
  readonly name: string;
  /** In the balancer at this moment (joined and not left). */
  readonly present: boolean;
  readonly capacity: number;
  readonly cost: number;
  readonly utilisation: number;
  readonly connections: number;
  readonly overloadLevel: number;
  /** Client sessions the broker accepted since it started (health checks left out). */
  readonly clientConnects?: number;
}

export interface Sample {
  /** Seconds since t = 0 of the scenario. */
  readonly tSec: number;
  /** Brokers whose state could be read (a stopped broker is absent). */
  readonly brokers: readonly BrokerSample[];
  readonly clients: ClientStats;
  readonly views?: readonly InstanceView[];
  readonly edsPushes?: number;
  /** mqtt-xds: clients its rebalancer had the agents disconnect so far (drains included). */
  readonly rebalanceDisconnects?: number;
  /** mqtt-xds: brokers GET /status marked `suspect` at this sample, name → reason; absent when none. */
  readonly suspects?: Readonly<Record<string, string>>;
  /** mqtt-xds: the capacity its decisions assume per broker, connections at utilisation 1. */
  readonly capacities?: Readonly<Record<string, number>>;
}

export interface EventRecord {
  readonly atSec: number;
  readonly kind: string;
  readonly broker?: string;
  readonly detail?: string;
  readonly error?: string;
}

/** What the runner saw of one drain, polled every DRAIN_POLL_MS (run-strategy.ts). */
export interface DrainRecord {
  readonly broker: string;
  /** When the drain was asked for, in seconds since t = 0. */
  readonly requestedAtSec: number;
  /** Why the drain could not be asked for (a strategy without a drain API, or an HTTP error). */
  readonly error?: string;
  /** First poll at which every Envoy showed the broker as DRAINING; undefined = never. */
  readonly ackSeenAtSec?: number;
  /** Clients on the broker when the drain was asked for. */
  readonly connectionsAtRequest?: number;
  /**
   * The broker's clientConnects counter at the last poll before every Envoy showed it as
   * DRAINING, and at the end of the run: their difference bounds from above the clients
   * routed to it after Envoy ACKed (anything between that poll and the ACK counts too).
   */
  readonly connectsBeforeAck?: number;
  readonly connectsAtEnd?: number;
  /** The same from Envoy's side: its cx_total for the host, summed over Envoys. */
  readonly envoyCxBeforeAck?: number;
  readonly envoyCxAtEnd?: number;
  /** First poll at which the broker itself held no client. */
  readonly emptyAtSec?: number;
  /** First poll at which mqtt-xds reported the drain as drained. */
  readonly drainedAtSec?: number;
  /** mqtt-xds's drain phases, each when first seen. */
  readonly phases: readonly { readonly atSec: number; readonly phase: string; readonly note?: string }[];
  /** Clients mqtt-xds reported as moved, at the last poll. */
  readonly moved?: number;
}

export interface KillRecord {
  readonly broker: string;
  readonly atSec: number;
  /** Clients on the broker just before the SIGKILL (its own count). */
  readonly connectionsAtKill?: number;
  /** Envoy strategies: Envoy's shedding counters just before the kill (Balancer.counters). */
  readonly countersAtKill?: Readonly<Record<string, number>>;
}

export interface StrategyRun {
  readonly strategy: StrategyName;
  /** The report's name for the run: the strategy, or e.g. `mqtt-xds@5s` for its production scrape interval. */
  readonly label: string;
  /** Strategies that read metrics: the scrape interval and timeout mqtt-xds ran with. */
  readonly scrape?: ScrapeSettings;
  readonly samples: readonly Sample[];
  readonly events: readonly EventRecord[];
  /** EDS pushes counted just before t = 0 (mqtt-xds only). */
  readonly edsPushesAtStart?: number;
  /** When the clients connected, were disconnected and failed, for the move, drain and kill metrics. */
  readonly timeline?: ClientTimeline;
  readonly drains?: readonly DrainRecord[];
  readonly kills?: readonly KillRecord[];
  /** Envoy strategies: Envoy's shedding counters at the end of the run. */
  readonly countersAtEnd?: Readonly<Record<string, number>>;
  /** Every client connection seen on a broker (GET /admin/clients once a second), for stickiness. */
  readonly placements?: readonly Placement[];
  /** Wall-clock seconds the run took, setup included. */
  readonly wallSec: number;
  /** Where configs and process logs of this run were kept. */
  readonly workDir: string;
}
