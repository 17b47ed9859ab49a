// What the runner records once a second: the truth from every broker's capacity model,
// the clients' counters and, where the data plane can tell, its weights. Pure types.
import type { InstanceView } from './balancers';
import type { ClientStats } from './clients';
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
}

export interface Sample {
  /** Seconds since t = 0 of the scenario. */
  readonly tSec: number;
  /** Brokers whose state could be read (a stopped broker is absent). */
  readonly brokers: readonly BrokerSample[];
  readonly clients: ClientStats;
  readonly views?: readonly InstanceView[];
  readonly edsPushes?: number;
}

export interface EventRecord {
  readonly atSec: number;
  readonly kind: string;
  readonly broker?: string;
  readonly detail?: string;
  readonly error?: string;
}

export interface StrategyRun {
  readonly strategy: StrategyName;
  readonly samples: readonly Sample[];
  readonly events: readonly EventRecord[];
  /** EDS pushes counted just before t = 0 (mqtt-xds only). */
  readonly edsPushesAtStart?: number;
  /** Wall-clock seconds the run took, setup included. */
  readonly wallSec: number;
  /** Where configs and process logs of this run were kept. */
  readonly workDir: string;
}
