// What every strategy offers the benchmark runner: where clients connect, how a broker
// joins or leaves, and (where the data plane can tell) the weights it holds and how
// many EDS pushes it received.
import type { Endpoint } from '../clients';
import type { ScrapeSettings } from '../run-plan';
import type { Scenario, StrategyName } from '../scenario';

export interface BrokerAddress {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** What mqtt-xds scrapes: the broker's /metrics, or the noise proxy in front of it. */
  readonly metricsUrl: string;
  /** The broker's agent API (docs/agent-api.md), when the scenario has agents. */
  readonly agentUrl?: string;
}

export interface BalancerContext {
  readonly scenario: Scenario;
  readonly strategy: StrategyName;
  /** Every broker of the scenario, already running, by name (joining ones too). */
  readonly brokers: ReadonlyMap<string, BrokerAddress>;
  /** A fresh directory for configs, sockets, pid files and logs. */
  readonly workDir: string;
  readonly log: (message: string) => void;
  /** The brokers' agent token, when the scenario has agents. */
  readonly agentToken?: string;
  /** mqtt-xds's scrape interval and timeout for this run (run-plan.ts); undefined = the scenario's. */
  readonly scrape?: ScrapeSettings;
}

/** One data-plane instance's view of the brokers. */
export interface InstanceView {
  readonly instance: string;
  /** Broker name → weight, for the brokers the instance routes to. */
  readonly weights: Readonly<Record<string, number>>;
  /** Client connections the instance accepted so far. */
  readonly accepted?: number;
  /** Broker name → Envoy's reasons not to route to it (e.g. "eds_draining"); empty when healthy. */
  readonly flags?: Readonly<Record<string, readonly string[]>>;
  /** Broker name → connections the instance opened to it so far (Envoy's per-host cx_total). */
  readonly cxTotal?: Readonly<Record<string, number>>;
}

/** mqtt-xds's GET /drain/<broker>, the fields the benchmark reads. */
export interface DrainProgress {
  readonly state: string;
  readonly drained: boolean;
  readonly moved: number;
  readonly connections?: number;
  readonly phase?: string;
  readonly note?: string;
}

export interface Balancer {
  /** One address: with two instances they share it (SO_REUSEPORT) and the kernel spreads clients. */
  readonly endpoint: Endpoint;
  join(broker: string): Promise<void>;
  /** Takes the broker out of rotation; the runner stops the broker afterwards. */
  leave(broker: string): Promise<void>;
  /** Envoy strategies: each instance's weights; others: undefined. */
  views?(): Promise<InstanceView[]>;
  /** mqtt-xds: EDS responses sent so far, summed over Envoys. */
  edsPushes?(): Promise<number | undefined>;
  /** mqtt-xds: clients the agents disconnected on purpose so far (mqtt_xds_rebalance_disconnects_total, summed). */
  rebalanceDisconnects?(): Promise<number | undefined>;
  /**
   * Envoy strategies: why Envoy closed clients before a broker took them, summed over Envoys
   * (ENVOY_COUNTERS: rate limit, failed connects to a broker, circuit breakers).
   */
  counters?(): Promise<Record<string, number>>;
  /** mqtt-xds: POST /drain/<broker> on the admin port; absent for strategies without a drain API. */
  drain?(broker: string): Promise<void>;
  /** mqtt-xds: GET /drain/<broker>. */
  drainStatus?(broker: string): Promise<DrainProgress>;
  /** mqtt-xds: the brokers GET /status marks `suspect` (untrustworthy metrics), name → reason. */
  suspects?(): Promise<Record<string, string>>;
  /** mqtt-xds: the capacity (connections at utilisation 1) its decisions assume, per broker. */
  capacities?(): Promise<Record<string, number>>;
  /** Stops every process it started; safe to call twice. */
  stop(): Promise<void>;
}
