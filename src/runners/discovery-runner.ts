import { Gauge, type Counter, type Registry } from 'prom-client';
import type { Config } from '../config';
import { FileBrokerSource, KubernetesBrokerSource } from '../discovery';
import type { Broker } from '../domain';
import type { Logger } from '../util/log';
import { formatProblems, type Problem } from '../util/result';

export interface DiscoveryRunnerOptions {
  readonly config: Config;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly rejected: Counter<'stage' | 'code'>;
  readonly onBrokers: (brokers: readonly Broker[]) => void;
}

export interface DiscoveryStatus {
  readonly discoveryProblems: readonly Problem[];
  readonly discoverySynced: boolean;
}

/** The broker source (file or Kubernetes) with the last good broker set, its problems and whether it is synced. */
export class DiscoveryRunner {
  private readonly source: FileBrokerSource | KubernetesBrokerSource;
  private readonly brokersKnown: Gauge;
  private readonly syncedGauge: Gauge;
  private known: readonly Broker[] = [];
  private problems: Problem[] = [];
  private isSynced = true;

  constructor(private readonly opts: DiscoveryRunnerOptions) {
    const { config, logger, registry } = opts;
    this.brokersKnown = new Gauge({
      name: 'mqtt_xds_brokers_known',
      help: 'Brokers in the last good discovery result',
      registers: [registry],
    });
    this.syncedGauge = new Gauge({
      name: 'mqtt_xds_discovery_synced',
      help: '1 while discovery holds a complete, current broker list; 0 while it serves the last known one',
      registers: [registry],
    });
    this.syncedGauge.set(1);
    const onBrokers = (brokers: Broker[]): void => this.onBrokers(brokers);
    const onError = (problems: Problem[]): void => this.onError(problems);
    if (config.discovery.source === 'kubernetes') {
      this.setSynced(false);
      this.source = new KubernetesBrokerSource({
        ...config.discovery.kubernetes,
        logger,
        registry,
        onBrokers,
        onError,
        onSynced: (synced) => this.setSynced(synced),
      });
    } else {
      this.source = new FileBrokerSource({
        path: config.discovery.brokersFile,
        settleMs: config.discovery.brokersFileSettleMs,
        logger,
        onBrokers,
        onError,
      });
    }
  }

  start(): Promise<void> {
    return this.source.start();
  }

  stop(): void {
    this.source.stop();
  }

  /** The last good broker set ([] before the first). */
  brokers(): readonly Broker[] {
    return this.known;
  }

  synced(): boolean {
    return this.isSynced;
  }

  currentProblems(): readonly Problem[] {
    return this.problems;
  }

  status(): DiscoveryStatus {
    return { discoveryProblems: this.problems, discoverySynced: this.isSynced };
  }

  private setSynced(synced: boolean): void {
    this.isSynced = synced;
    this.syncedGauge.set(synced ? 1 : 0);
  }

  private onBrokers(brokers: Broker[]): void {
    this.problems = [];
    this.known = brokers;
    this.brokersKnown.set(brokers.length);
    this.opts.onBrokers(brokers);
  }

  private onError(problems: Problem[]): void {
    this.problems = problems;
    for (const p of problems) this.opts.rejected.inc({ stage: 'discovery', code: p.code });
    this.opts.logger.error('broker list refused; keeping the last good set', {
      file: this.opts.config.discovery.brokersFile,
      problems: formatProblems(problems),
    });
  }
}
