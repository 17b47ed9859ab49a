// The load-balancing benchmark's scenario: what brokers exist, which clients arrive when
// and what they send, and what happens to the brokers on the way. Plain values; the
// parser (scenario-parse.ts) fills every default so nothing downstream guesses.
// docs/lb-benchmark.md documents the YAML form.

// The -weighted variants get static weights ∝ each broker's capacity, as an operator who
// knows the node sizes would configure them; run-plan.ts leaves them out of the default
// run when every capacity is equal (they would repeat the unweighted rows).
export const STRATEGIES = [
  'envoy-rr',
  'envoy-rr-weighted',
  'envoy-least-request',
  'haproxy-leastconn',
  'haproxy-leastconn-weighted',
  'nginx-least-conn',
  'nginx-least-conn-weighted',
  'mqtt-xds',
  'mqtt-xds-sticky',
  'mqtt-xds-sticky-static',
  'haproxy-sticky',
] as const;
export type StrategyName = (typeof STRATEGIES)[number];
/**
 * Client-id hashing (docs/lb-benchmark.md, "Sticky placement"): run only when named in
 * --strategies, so the default run and its time stay as they were.
 */
export const OPT_IN_STRATEGIES: readonly StrategyName[] = ['mqtt-xds-sticky', 'mqtt-xds-sticky-static', 'haproxy-sticky'];
export const WEIGHTED_STRATEGIES: readonly StrategyName[] = [
  'envoy-rr-weighted',
  'haproxy-leastconn-weighted',
  'nginx-least-conn-weighted',
];

export interface BrokerSpec {
  readonly name: string;
  /** Cost units per second at utilisation 1.0 (the test broker's --capacity). */
  readonly capacity: number;
  /** The test broker's own CPU noise from launch (its --noise), 0 = none. */
  readonly cpuNoise: number;
  /** The test broker's CPU model and how its CPU is read (scenario-broker-cpu.ts). */
  readonly cpu: BrokerCpuSpec;
}

/** A broker's `cpu:` section, defaults filled (docs/test-broker.md, "Realistic CPU"). */
export interface BrokerCpuSpec {
  /** realistic (the benchmark's default) or ideal: CPU is the scored utilisation, as before issue 13. */
  readonly model: 'ideal' | 'realistic';
  /** limit: CPU over limitCores; host: over hostCores; rounded: over limitCores rounded up. */
  readonly view: 'limit' | 'host' | 'rounded';
  readonly limitCores: number;
  readonly hostCores: number;
  /** Idle CPU, share of the limit. */
  readonly baseline: number;
  /** Time constant of CPU behind the work. */
  readonly lagSec: number;
  /** CPU per unit of work when nearly idle over that at full load. */
  readonly amortisation: number;
  /** A message to f subscribers costs f^fanoutExponent copies. */
  readonly fanoutExponent: number;
  /** GC-like spikes: Poisson with this mean interval (0 = none), each U(min, max) of the limit. */
  readonly spikes: { readonly meanIntervalSec: number; readonly min: number; readonly max: number };
}

export const TRAFFIC_KINDS = ['cheap-publisher', 'fanout-publisher', 'subscriber', 'shared-subscriber'] as const;
export type TrafficKind = (typeof TRAFFIC_KINDS)[number];

export interface Traffic {
  readonly kind: TrafficKind;
  /** PUBLISH packets per second per client; 0 for subscribers. */
  readonly publishPerSec: number;
  /**
   * cheap-publisher: prefix, each client publishes to `<topic>/<clientId>`;
   * fanout-publisher: the topic itself; (shared-)subscriber: the filter subscribed to.
   */
  readonly topic: string;
  /** Share group of a shared subscriber (`$share/<group>/<topic>`). */
  readonly group: string;
}

export interface Population {
  readonly name: string;
  readonly count: number;
  /** Client i of n first connects at startSec + rampSec × i / n. */
  readonly arrival: { readonly startSec: number; readonly rampSec: number };
  /** Each connection is closed by the client after lifetimeSec × U(0.5, 1.5) and reopened at once. */
  readonly lifetimeSec?: number;
  readonly reconnect: { readonly minBackoffMs: number; readonly maxBackoffMs: number };
  readonly traffic: Traffic;
}

export type ScenarioEvent =
  | { readonly atSec: number; readonly kind: 'broker-join'; readonly broker: string }
  | { readonly atSec: number; readonly kind: 'broker-leave'; readonly broker: string }
  | { readonly atSec: number; readonly kind: 'overload'; readonly broker: string; readonly level: number; readonly durationSec?: number }
  | {
      readonly atSec: number;
      readonly kind: 'extra-load';
      readonly broker: string;
      readonly extraCost: number;
      readonly durationSec?: number;
    }
  | { readonly atSec: number; readonly kind: 'noise'; readonly broker?: string; readonly ratio: number; readonly durationSec?: number }
  /** POST /drain/<broker> on mqtt-xds's admin port; strategies without a drain API skip it. */
  | { readonly atSec: number; readonly kind: 'drain'; readonly broker: string }
  /** SIGKILL: the broker crashes and stays in the balancer's configuration, whose health checks must find out. */
  | { readonly atSec: number; readonly kind: 'kill'; readonly broker: string }
  /** The broker's metrics page lies to mqtt-xds (noise-proxy.ts) while the broker carries on as before. */
  | { readonly atSec: number; readonly kind: 'metrics-lie'; readonly broker: string; readonly mode: LieMode; readonly durationSec?: number }
  /** The broker's metrics page answers only after delayMs, as a broker too busy to answer would. */
  | {
      readonly atSec: number;
      readonly kind: 'metrics-slow';
      readonly broker: string;
      readonly delayMs: number;
      readonly durationSec?: number;
    };

/**
 * idle: load gauges 0 and counters standing still (a stuck exporter, the wrong pod behind
 * the port); frozen: the last page again, byte for byte; doubled: load gauges and counter
 * increases × 2.
 */
export const LIE_MODES = ['idle', 'frozen', 'doubled'] as const;
export type LieMode = (typeof LIE_MODES)[number];

export type EventKind = ScenarioEvent['kind'];
export const EVENT_KINDS: readonly EventKind[] = [
  'broker-join',
  'broker-leave',
  'overload',
  'extra-load',
  'noise',
  'drain',
  'kill',
  'metrics-lie',
  'metrics-slow',
];
/** Events that change only what mqtt-xds scrapes, whether or not the broker is in the balancer. */
export const METRICS_EVENT_KINDS: readonly EventKind[] = ['noise', 'metrics-lie', 'metrics-slow'];

export interface Scenario {
  readonly name: string;
  readonly durationSec: number;
  /** mqtt-xds's scrape.intervalMs; the production default when the file leaves it out. */
  readonly scrapeIntervalMs: number;
  /** Seeds client arrival jitter, lifetimes, backoff and metric noise: a run can be repeated. */
  readonly seed: number;
  readonly brokers: readonly BrokerSpec[];
  /** Brokers in the balancer at t = 0. */
  readonly initialBrokers: readonly string[];
  readonly populations: readonly Population[];
  /** Sorted by time; broker startSec/stopSec are already turned into join/leave events. */
  readonly events: readonly ScenarioEvent[];
  readonly envoys: 1 | 2;
  /** The window imbalance is averaged over. */
  readonly steadyState: TimeWindow;
  /**
   * A second window reported beside the steady state (imbalance, peak utilisation,
   * overload-seconds within it): the spike itself, where a balancer that never moved
   * anything cannot look perfect.
   */
  readonly spikeWindow?: TimeWindow;
  /** The policy block as YAML text, for mqtt-xds's --balancing-policy-file; undefined = built-in defaults. */
  readonly policyYaml?: string;
  /**
   * The brokers serve the agent API (with a token) and mqtt-xds is told where, so it can
   * move established connections (drains, `rebalance.mode: on`). Other strategies ignore it.
   */
  readonly agents: boolean;
  /** mqtt-xds's rebalanceTickMs; undefined = its default. */
  readonly rebalanceTickMs?: number;
}

export interface TimeWindow {
  readonly fromSec: number;
  readonly toSec: number;
}

/** Brokers killed at or before `tSec`: they stay in the balancer's configuration but are dead. */
export function brokersKilledBy(scenario: Scenario, tSec: number): Set<string> {
  return new Set(scenario.events.filter((e) => e.kind === 'kill' && e.atSec <= tSec).map((e) => (e as { broker: string }).broker));
}

/** Which brokers are in the balancer at `tSec`, from the initial set and the join/leave events. */
export function brokersPresentAt(scenario: Scenario, tSec: number): Set<string> {
  const present = new Set(scenario.initialBrokers);
  for (const e of scenario.events) {
    if (e.atSec > tSec) break;
    if (e.kind === 'broker-join') present.add(e.broker);
    if (e.kind === 'broker-leave') present.delete(e.broker);
  }
  return present;
}
