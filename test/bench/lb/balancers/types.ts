// What every strategy offers the benchmark runner: where clients connect, how a broker
// joins or leaves, and (where the data plane can tell) the weights it holds and how
// many EDS pushes it received.
import type { Endpoint } from '../clients';
import type { Scenario, StrategyName } from '../scenario';

export interface BrokerAddress {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** What mqtt-xds scrapes: the broker's /metrics, or the noise proxy in front of it. */
  readonly metricsUrl: string;
}

export interface BalancerContext {
  readonly scenario: Scenario;
  readonly strategy: StrategyName;
  /** Every broker of the scenario, already running, by name (joining ones too). */
  readonly brokers: ReadonlyMap<string, BrokerAddress>;
  /** A fresh directory for configs, sockets, pid files and logs. */
  readonly workDir: string;
  readonly log: (message: string) => void;
}

/** One data-plane instance's view of the brokers. */
export interface InstanceView {
  readonly instance: string;
  /** Broker name → weight, for the brokers the instance routes to. */
  readonly weights: Readonly<Record<string, number>>;
  /** Client connections the instance accepted so far. */
  readonly accepted?: number;
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
  /** Stops every process it started; safe to call twice. */
  stop(): Promise<void>;
}
