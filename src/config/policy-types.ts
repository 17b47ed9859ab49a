// The operator's balancing policy as the rest of the program sees it: deeply readonly,
// units in names. docs/policy.md documents every field and its default.
import type { LimitsPolicy } from './policy-limits';
import type { MqttFilterPolicy } from './policy-mqtt-filter';
import type { TenantPolicy, UnknownServerName } from './policy-tenants';

/** How much a broker can take; what utilisation 1.0 means. */
export interface CapacityClass {
  /** Connections the broker holds at utilisation 1. */
  readonly connections: number;
  /** PUBLISH messages per second (incoming + outgoing) at utilisation 1. */
  readonly publishRatePerSec?: number;
}

/** Relative weights of the signals mixed into one utilisation; only their ratios matter. */
export interface SignalWeights {
  /** connections / capacity.connections */
  readonly connections: number;
  /** (incoming + outgoing PUBLISH/s) / capacity.publishRatePerSec */
  readonly publishRate: number;
  /** CPU 0..1 as reported */
  readonly cpu: number;
}

/** When a broker counts as overloaded, and what happens then. `off` disables a trigger. */
export interface OverloadPolicy {
  /** HiveMQ overload protection level at or above which the broker is overloaded. */
  readonly levelThreshold: number | 'off';
  /** CPU (0..1) at or above which the broker is overloaded. */
  readonly cpuThreshold: number | 'off';
  /** Share of CPU periods throttled at the container's quota (0..1) at or above which the broker is overloaded. */
  readonly throttledThreshold: number | 'off';
  /** Clients under back-pressure at or above which the broker is overloaded. */
  readonly backpressureClientsThreshold: number | 'off';
  /** Not-writable clients / connections at or above which the broker is overloaded. */
  readonly notWritableRatioThreshold: number | 'off';
  /** An overloaded broker's weight is multiplied by this at once. */
  readonly weightFactor: number;
  /** The cut stays this long after the last overloaded scrape, so a broker hovering at a threshold does not flap. */
  readonly holdMs: number;
  /**
   * Consecutive scrapes that must show the broker overloaded before it is cut: one CPU
   * spike over a short scrape (a GC, a burst of reconnects) is not an overload.
   */
  readonly confirmSamples: number;
  /**
   * A scrape that timed out while the Envoys keep opening connections to the broker counts
   * as an overload (a broker too busy to answer), not as "hold the last weight".
   */
  readonly onScrapeTimeout: boolean;
}

export const SUSPECT_DIRECTIONS = ['both', 'below', 'off'] as const;
export type SuspectDirection = (typeof SUSPECT_DIRECTIONS)[number];

/**
 * When a broker's metrics page contradicts what the Envoys routed to it (docs/envoy-view.md,
 * "Suspect brokers"): a stuck exporter, the wrong pod behind the port, a page that lies.
 */
export interface SuspectPolicy {
  /** `both`: more or fewer connections than the Envoys hold; `below`: fewer only (clients also connect past the Envoys); `off`. */
  readonly direction: SuspectDirection;
  /** The difference that counts, as a fraction of the larger count… */
  readonly tolerance: number;
  /** …and at least this many connections. */
  readonly minConnections: number;
  /** Consecutive scrapes that must contradict (or agree again) before a broker becomes (or stops being) suspect. */
  readonly samples: number;
}

export const SMOOTHING_UNITS = ['second', 'scrape'] as const;
export type SmoothingUnit = (typeof SMOOTHING_UNITS)[number];

export const CONTROLLER_MODES = ['damped', 'proportional'] as const;
export type ControllerMode = (typeof CONTROLLER_MODES)[number];

/**
 * How a broker's share of new connections follows its gap to the fleet's mean utilisation
 * (docs/policy.md, "The controller"). `damped` closes the gap over a horizon longer than
 * the loop's dead time, with a gain set by how many connections arrive in it; `proportional`
 * is catch-up with fill mode, as before.
 */
export interface ControllerPolicy {
  readonly mode: ControllerMode;
  /** The time the damped controller means to close a gap in; `auto` = e × (dead time + scrape interval). */
  readonly horizonMs: number | 'auto';
  /** A relative gap to the mean smaller than this moves nothing (hysteresis against noise). */
  readonly deadband: number;
  /** The smallest factor on a broker's fair share: one far above the mean still gets this. */
  readonly minFactor: number;
  /** The largest gain: lifetime over horizon is capped here, so a fleet that never reconnects does not saturate on noise. */
  readonly maxGain: number;
  /**
   * Mean connection lifetime the gain is computed from: `auto` measures it (connections
   * over the rate of new connections, from the brokers' CONNECT counters or Envoy's own
   * view); without a measurement the gain is 1.
   */
  readonly lifetimeMs: number | 'auto';
}

/**
 * Fill mode (docs/policy.md): proportional catch-up alone cannot give an emptier broker
 * most of the new clients, and where most clients never reconnect it must get nearly all
 * of them to catch up.
 */
export interface FillPolicy {
  /** Fill starts when a broker's utilisation is this fraction or more below the mean; `off` never. */
  readonly below: number | 'off';
  /** …and goes on until every broker is less than this fraction below the mean. */
  readonly until: number;
  /** Meanwhile the brokers at or above the mean have their weights multiplied by this. */
  readonly weightFactor: number;
}

export interface BrokerOverride {
  /** Pin the weight: the policy computes nothing for this broker. */
  readonly weight?: number;
  /** Leave the broker out of EDS entirely (its established connections stay). */
  readonly exclude?: boolean;
  /** DRAINING: no new connections; the weight is kept for when the drain ends. */
  readonly drain?: boolean;
  readonly capacityClass?: string;
  /** Merged over the broker's class, if any. */
  readonly capacity?: Partial<CapacityClass>;
  readonly signals?: Partial<SignalWeights>;
  readonly overload?: Partial<OverloadPolicy>;
}

export const REBALANCE_MODES = ['off', 'dry-run', 'on'] as const;
export type RebalanceMode = (typeof REBALANCE_MODES)[number];
/** What a drain does once Envoys have not ACKed its DRAINING push within ackTimeoutMs (docs/rebalancing.md). */
export const LAGGARD_ACTIONS = ['proceed', 'wait'] as const;
export type LaggardAction = (typeof LAGGARD_ACTIONS)[number];
/** Within a safety class, which clients move first: the longest connected, or the latest (docs/rebalancing.md). */
export const MOVE_ORDERS = ['oldest-first', 'newest-first'] as const;
export type MoveOrder = (typeof MOVE_ORDERS)[number];

/** Moving established connections through the brokers' agents (docs/rebalancing.md). */
export interface RebalancePolicy {
  /** Automatic rebalancing: off, dry-run (plan and report, disconnect nobody) or on. Drains are separate. */
  readonly mode: RebalanceMode;
  /** A broker is moved from once it holds more than (1 + tolerance) × its target. */
  readonly tolerance: number;
  /** Excess below this many connections is left alone: not worth a disconnect. */
  readonly minExcess: number;
  /** Disconnects per second, fleet-wide, for rebalancing and drains together. */
  readonly ratePerSec: number;
  /** Moved clients not seen back yet (the fleet's count short of what was moved lately) at which moving pauses. */
  readonly maxInFlight: number;
  /** Within a safety class, move the longest-connected clients first (they stay where they land) or the latest. */
  readonly order: MoveOrder;
  /** Clients per disconnect request to an agent (1..1000). */
  readonly batchSize: number;
  /** Move only clients that lose nothing: shared-subscription members and sessions that end with the connection. */
  readonly safeOnly: boolean;
  /** How long to wait for every Envoy to ACK the DRAINING push before disconnecting anyone. */
  readonly ackTimeoutMs: number;
  /** After ackTimeoutMs: proceed with the Envoys that did ACK (default), or wait for every one. */
  readonly laggardAction: LaggardAction;
  /** An agent request slower than this fails (the move from that broker stops). */
  readonly agentTimeoutMs: number;
  /** After an agent failure, moving from that broker is retried after this long. */
  readonly retryAfterMs: number;
  /**
   * Sticky placement: the most moved client ids that carry a salt at once (the MQTT filter's
   * saltedIds over ECDS); the oldest give way first. 0: no salts, moved ids go back to their
   * broker on their next reconnect (docs/mqtt-filter.md).
   */
  readonly stickySaltsMax: number;
  /** A moved id's salt is dropped after this long; its next reconnect then goes back to its own broker. */
  readonly stickySaltTtlMs: number;
}

export interface DrainPolicy {
  /** Move a draining broker's clients through its agent (paced as rebalance says); false: only DRAINING in EDS. */
  readonly moveClients: boolean;
  /** A drain that has not emptied the broker by then is reported as timed out (the broker stays DRAINING). */
  readonly deadlineMs: number;
}

export interface Policy {
  /** Weight of a broker of average capacity at the fleet's mean utilisation. */
  readonly weightScale: number;
  /** Every computed weight is an integer in floor..ceiling. */
  readonly bounds: { readonly floor: number; readonly ceiling: number };
  readonly signals: SignalWeights;
  readonly capacity: {
    readonly classes: Readonly<Record<string, CapacityClass>>;
    /** Broker name → class name. */
    readonly brokers: Readonly<Record<string, string>>;
    /** Class of brokers without one, or `auto`: infer capacity from observed load. */
    readonly default: string;
    readonly inference: {
      /** CPU (0..1) below which a broker's capacity is not inferred: idle load says little. */
      readonly minCpu: number;
      /** EWMA factor for inferred capacities; small, because capacity changes rarely. */
      readonly alpha: number;
      /**
       * Share of throttled CPU periods above which a sample is skipped: at its quota a
       * broker's CPU reads as its limit whatever its load.
       */
      readonly maxThrottledRatio: number;
      /** An inferred capacity moves by at most this factor per sample used, up or down. */
      readonly maxStepRatio: number;
      /**
       * A sample at a CPU below this fraction of the other brokers' mean CPU may raise an
       * estimate but not lower it, and makes no first estimate (the broker counts at the
       * fleet's mean capacity meanwhile): CPU per unit of work is several times higher on a
       * lightly loaded broker, so a broker that just joined, or one refilling after an overload,
       * would be taken for a fraction of its size and kept there (0: off).
       */
      readonly minRelativeCpu: number;
    };
  };
  readonly catchUp: {
    /** A broker below the mean utilisation gets at most this times its fair share; above, at least its inverse. */
    readonly maxBoost: number;
    /** Exponent on mean / own utilisation: 1 is proportional, higher closes gaps faster but reacts more to noise. */
    readonly gain: number;
    /**
     * Connections' worth of utilisation added to both sides of mean / own: gaps of a few
     * connections give catch-up near x1 (an idle fleet, health checks); 0 = raw ratio.
     */
    readonly quietConnections: number;
    /** Fill: while a broker is far below the mean, the brokers at or above it get few new clients. */
    readonly fill: FillPolicy;
  };
  readonly controller: ControllerPolicy;
  readonly suspect: SuspectPolicy;
  readonly overload: OverloadPolicy;
  /** The scale-out signal (mqtt_xds_recommended_brokers): docs/autoscaling.md. */
  readonly autoscaling: {
    /** The fleet utilisation (capacity-weighted) the recommended broker count aims at. */
    readonly targetUtilisation: number;
  };
  readonly slowStart: {
    readonly windowMs: number;
    /** Fraction of its weight a new broker starts with; ramps linearly to 1 over windowMs. */
    readonly startFraction: number;
  };
  readonly smoothing: {
    /**
     * What `alpha` and the inference rates are per: `second`, so a 5 s scrape interval
     * reacts as fast as a 1 s one (alpha 0.3 per second is 0.83 per 5 s scrape); or `scrape`.
     */
    readonly per: SmoothingUnit;
    /** EWMA factor for each new sample of the signals (1 = no smoothing). */
    readonly alpha: number;
    /** A weight moves only when it would change by at least this fraction. */
    readonly minRelativeChange: number;
    /** A weight changes by at most this factor per computation (except overload decreases). */
    readonly maxStepRatio: number;
  };
  readonly stale: {
    /** Without fresh metrics, a broker keeps its last weight this long… */
    readonly graceMs: number;
    /** …then moves linearly to its fair share over this long. */
    readonly decayMs: number;
  };
  /** Broker name → override. */
  readonly overrides: Readonly<Record<string, BrokerOverride>>;
  /** Circuit breakers, connection rate and duration, as Envoy enforces them (policy-limits.ts). */
  readonly limits: LimitsPolicy;
  readonly rebalance: RebalancePolicy;
  readonly drain: DrainPolicy;
  /** SNI tenants on the MQTT listener, by name (policy-tenants.ts, docs/tenants.md). */
  readonly tenants: Readonly<Record<string, TenantPolicy>>;
  /** With tenants: what a client whose SNI names none of them gets. */
  readonly unknownServerName: UnknownServerName;
  /** The MQTT Wasm filter on the MQTT listener (policy-mqtt-filter.ts, docs/mqtt-filter.md). */
  readonly mqttFilter: MqttFilterPolicy;
}

export const AUTO_CAPACITY = 'auto';

/**
 * A named entry of a policy map (overrides, classes, brokers). Own keys only: a broker
 * may well be called "constructor", and must not find Object.prototype's.
 */
export function entryOf<T>(map: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(map, key) ? map[key] : undefined;
}
