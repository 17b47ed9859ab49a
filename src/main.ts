// Composition root: builds the stages, wires them (discovery → balancing → translation →
// xds → Envoy), starts and stops them. No stage knows another's internals.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { AdminServer, type Readiness } from './admin';
import { staticWeightPlan } from './balancing';
import type { Config } from './config';
import type { Broker } from './domain';
import { FileBrokerSource } from './discovery';
import { buildResources, type ProxyModel, type ResourceSet } from './translation';
import { AdsServer, SnapshotCache, XdsMetrics, type StreamStatus } from './xds';
import { createLogger, type Logger } from './util/log';
import { formatProblems, type Problem } from './util/result';

export interface ControlPlaneOptions {
  readonly config: Config;
  readonly logger?: Logger;
}

export interface RunningPorts {
  readonly xdsPort: number;
  readonly adminPort: number;
}

/** The control plane as one object: what the CLI runs and what integration tests start. */
export class ControlPlane {
  readonly cache = new SnapshotCache();
  readonly registry = new Registry();
  private readonly log: Logger;
  private readonly ads: AdsServer;
  private readonly admin: AdminServer;
  private readonly source: FileBrokerSource;
  private readonly brokersKnown: Gauge;
  private readonly rejected: Counter<'stage' | 'code'>;
  private readonly lastPublish: Gauge;
  private brokers: readonly Broker[] | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private discoveryProblems: Problem[] = [];
  private lastPublishedAt: Date | undefined;

  constructor(private readonly opts: ControlPlaneOptions) {
    const { config } = opts;
    this.log = opts.logger ?? createLogger(config.logLevel, { component: 'mqtt-xds' });
    collectDefaultMetrics({ register: this.registry, prefix: 'mqtt_xds_' });
    this.brokersKnown = new Gauge({
      name: 'mqtt_xds_brokers_known',
      help: 'Brokers in the last good discovery result',
      registers: [this.registry],
    });
    this.rejected = new Counter({
      name: 'mqtt_xds_input_rejected_total',
      help: 'Inputs refused (the last good state stays): by stage and problem code',
      labelNames: ['stage', 'code'],
      registers: [this.registry],
    });
    this.lastPublish = new Gauge({
      name: 'mqtt_xds_snapshot_published_timestamp_seconds',
      help: 'When the current snapshot was published',
      registers: [this.registry],
    });
    this.ads = new AdsServer({
      host: config.xds.host,
      port: config.xds.port,
      maxRequestBytes: config.xds.maxRequestBytes,
      cache: this.cache,
      logger: this.log.child({ stage: 'xds' }),
      metrics: new XdsMetrics(this.registry),
    });
    this.admin = new AdminServer({
      host: config.admin.host,
      port: config.admin.port,
      registry: this.registry,
      logger: this.log.child({ stage: 'admin' }),
      readiness: () => this.readiness(),
      status: () => this.status(),
    });
    this.source = new FileBrokerSource({
      path: config.discovery.brokersFile,
      logger: this.log.child({ stage: 'discovery' }),
      onBrokers: (brokers) => this.onBrokers(brokers),
      onError: (problems) => this.onDiscoveryError(problems),
    });
  }

  async start(): Promise<RunningPorts> {
    const xdsPort = await this.ads.start();
    const adminPort = await this.admin.start();
    this.log.info('control plane listening', { xds: `${this.opts.config.xds.host}:${xdsPort}`, admin: adminPort });
    await this.source.start();
    return { xdsPort, adminPort };
  }

  async stop(): Promise<void> {
    if (this.debounce) clearTimeout(this.debounce);
    this.source.stop();
    await this.ads.stop(this.opts.config.shutdownGraceMs);
    await this.admin.stop();
    this.log.info('control plane stopped');
  }

  /** Publishes a resource set as it is; returns the problems if it was refused. */
  publish(set: ResourceSet): Problem[] {
    const result = this.cache.publish(set);
    if (!result.ok) {
      for (const p of result.problems) this.rejected.inc({ stage: 'translation', code: p.code });
      this.log.error('snapshot refused; still serving the last good one', { problems: formatProblems(result.problems) });
      return result.problems;
    }
    const { snapshot, changed } = result.value;
    if (changed.size > 0) {
      this.lastPublishedAt = new Date();
      this.lastPublish.set(this.lastPublishedAt.getTime() / 1000);
      this.log.info('snapshot published', { version: snapshot.version, changed: [...changed].map(shortType) });
    }
    return [];
  }

  /** The open ADS streams and what each Envoy holds. */
  xdsStreams(): StreamStatus[] {
    return this.ads.status();
  }

  /** The model the current brokers translate to. */
  model(brokers: readonly Broker[]): ProxyModel {
    const { listener, cluster } = this.opts.config;
    return {
      listener: { ...listener, clusterName: cluster.name },
      cluster: { ...cluster, lbPolicy: this.opts.config.balancing.lbPolicy },
      plan: staticWeightPlan(brokers),
    };
  }

  private onBrokers(brokers: Broker[]): void {
    this.brokers = brokers;
    this.discoveryProblems = [];
    this.brokersKnown.set(brokers.length);
    if (this.debounce) clearTimeout(this.debounce);
    // Coalesce bursts (an editor writing a file in pieces, several pods changing at once).
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      if (this.brokers) this.publish(buildResources(this.model(this.brokers)));
    }, this.opts.config.pushDebounceMs);
  }

  private onDiscoveryError(problems: Problem[]): void {
    this.discoveryProblems = problems;
    for (const p of problems) this.rejected.inc({ stage: 'discovery', code: p.code });
    this.log.error('broker list refused; keeping the last good set', {
      file: this.opts.config.discovery.brokersFile,
      problems: formatProblems(problems),
    });
  }

  private readiness(): Readiness {
    const snap = this.cache.snapshot();
    if (snap) return { ready: true, reason: `serving snapshot ${snap.version}` };
    if (this.discoveryProblems.length > 0) {
      return { ready: false, reason: `no valid broker list yet: ${formatProblems(this.discoveryProblems)}` };
    }
    return { ready: false, reason: 'waiting for the first complete snapshot' };
  }

  private status(): unknown {
    const snap = this.cache.snapshot();
    return {
      ready: this.readiness(),
      snapshot: snap && {
        version: snap.version,
        publishedAt: this.lastPublishedAt?.toISOString(),
        types: Object.fromEntries(Object.entries(snap.typeVersions).map(([t, v]) => [shortType(t), v])),
      },
      brokers: this.brokers && this.model(this.brokers).plan.endpoints,
      discoveryProblems: this.discoveryProblems,
      streams: this.ads.status(),
    };
  }
}

function shortType(t: string): string {
  return t.slice(t.lastIndexOf('.') + 1);
}
