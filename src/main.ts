// Composition root: builds the runners and connects outputs to inputs. The pipeline is
// discovery → scraping → planning → publishing → xds → Envoy; policy, rebalance, admin and
// leader election beside it. Each runner owns its state, timers and status().
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import { AdminServer, readiness, rebalanceActions, snapshotStatus, type ControlPlaneStatus, type Readiness } from './admin';
import type { Config } from './config';
import type { WeightPlan } from './domain';
import { Planner } from './planner';
import { drainAck, ModelBuilder, Publisher, type DrainAck } from './publishing';
import { AgentHttpClient, Rebalancer } from './rebalance';
import type { SharedDrainRecord } from './discovery/kubernetes/drain-record';
import { DiscoveryRunner, drainRecordFor, LeaderRunner, loadCredentials, PolicyRunner, type Credentials } from './runners';
import { Scraper } from './scraping';
import type { ProxyModel, ResourceSet } from './translation';
import { AdsServer, ENDPOINT, SnapshotCache, XdsMetrics, type StreamStatus } from './xds';
import { systemClock } from './util/clock';
import { createLogger, type Logger } from './util/log';
import type { Problem } from './util/result';

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
  private readonly discovery: DiscoveryRunner;
  private readonly policy: PolicyRunner;
  private readonly scraper: Scraper | undefined;
  private readonly planner: Planner;
  private readonly models: ModelBuilder;
  private readonly publisher: Publisher;
  private readonly rebalancer: Rebalancer;
  private readonly leader: LeaderRunner;
  private readonly creds: Credentials;
  private readonly drainRecord: SharedDrainRecord | undefined;

  constructor(private readonly opts: ControlPlaneOptions) {
    const { config } = opts;
    const log = (this.log = opts.logger ?? createLogger(config.logLevel, { component: 'mqtt-xds' }));
    const registry = this.registry;
    const clock = systemClock;
    const creds = (this.creds = loadCredentials(config, log, registry));
    collectDefaultMetrics({ register: registry, prefix: 'mqtt_xds_' });
    const rejected = new Counter({
      name: 'mqtt_xds_input_rejected_total',
      help: 'Inputs refused (the last good state stays): by stage and problem code',
      labelNames: ['stage', 'code'],
      registers: [registry],
    });

    this.discovery = new DiscoveryRunner({
      config,
      logger: log.child({ stage: 'discovery' }),
      registry,
      rejected,
      onBrokers: (brokers) => {
        this.planner.setBrokers(brokers);
        this.scraper?.setBrokers(brokers);
        this.publisher.brokersChanged();
      },
    });
    this.policy = new PolicyRunner({
      config,
      logger: log.child({ stage: 'policy' }),
      rejected,
      onPolicy: (policy) => {
        this.planner.setPolicy(policy);
        this.publisher.policyApplied();
      },
    });
    const agentFetch = creds.agentTls?.fetch;
    if (config.balancing.mode === 'metrics') {
      this.scraper = new Scraper({
        logger: log.child({ stage: 'scraping' }),
        registry,
        ...(agentFetch ? { fetch: agentFetch } : {}),
        intervalMs: config.scrape.intervalMs,
        timeoutMs: config.scrape.timeoutMs,
        concurrency: config.scrape.concurrency,
        onLoads: (loads) => {
          this.planner.setLoads(loads);
          this.publisher.schedule();
        },
      });
    }
    this.planner = new Planner(config.balancing.mode, this.policy.policy());
    this.models = new ModelBuilder({ config, policy: () => this.policy.policy(), logger: log });
    this.publisher = new Publisher({
      cache: this.cache,
      clock,
      logger: log,
      registry,
      rejected,
      debounceMs: config.pushDebounceMs,
      minPushIntervalMs: config.balancing.minPushIntervalMs,
      plan: (nowMs) => this.planner.next(nowMs),
      model: (plan) => this.model(plan),
      // A configured policy not yet applied: publishing defaults would serve excluded brokers.
      heldBy: () => this.policy.waiting(),
    });
    const xdsTls = creds.xdsTls;
    this.ads = new AdsServer({
      host: config.xds.host,
      port: config.xds.port,
      maxRequestBytes: config.xds.maxRequestBytes,
      cache: this.cache,
      logger: log.child({ stage: 'xds' }),
      metrics: new XdsMetrics(registry),
      ...(xdsTls
        ? { credentials: xdsTls.credentials, ready: () => xdsTls.source.delivered(), nodeIdentity: config.xds.tls.nodeIdentity }
        : {}),
    });
    this.leader = new LeaderRunner({ config, logger: log.child({ stage: 'leader-election' }), registry });
    this.rebalancer = new Rebalancer({
      logger: log.child({ stage: 'rebalance' }),
      registry,
      tickMs: config.rebalanceTickMs,
      agent: new AgentHttpClient({
        token: creds.agentToken,
        ...(agentFetch ? { fetch: agentFetch } : {}),
        timeoutMs: () => this.policy.policy().rebalance.agentTimeoutMs,
      }),
      policy: () => this.policy.policy(),
      isLeader: () => this.leader.isLeader(),
      brokers: () => this.discovery.brokers(),
      loads: () => this.scraper?.currentLoads() ?? new Map(),
      decisions: () => this.planner.lastOutcome()?.decisions ?? [],
      setMoving: (moving) => {
        this.planner.setMoving(moving);
        this.publisher.schedule();
      },
      drainingAcked: (names) => this.drainAck(names),
      now: () => clock.nowMs(),
    });
    // Drains through the admin API reach every replica: they are written to one ConfigMap all of them watch.
    this.drainRecord = drainRecordFor(config, log);
    this.admin = new AdminServer({
      host: config.admin.host,
      port: config.admin.port,
      registry,
      logger: log.child({ stage: 'admin' }),
      readiness: () => this.readiness(),
      status: () => this.status(),
      token: creds.adminToken,
      actions: rebalanceActions(this.rebalancer, (name) => this.discovery.brokers().some((b) => b.name === name), this.drainRecord),
    });
  }

  async start(): Promise<RunningPorts> {
    const xdsPort = await this.ads.start();
    this.creds.xdsTls?.source.start();
    this.creds.agentTls?.start();
    const adminPort = await this.admin.start();
    this.log.info('control plane listening', { xds: `${this.opts.config.xds.host}:${xdsPort}`, admin: adminPort });
    await this.policy.start();
    // Before discovery: a replica that restarts publishes a recorded drain with its first snapshot.
    await this.drainRecord?.start((drains) => this.rebalancer.syncApiDrains(drains));
    await this.discovery.start();
    this.scraper?.start();
    await this.leader.start();
    this.rebalancer.start();
    return { xdsPort, adminPort };
  }

  async stop(): Promise<void> {
    this.publisher.stop();
    this.discovery.stop();
    this.policy.stop();
    this.scraper?.stop();
    this.rebalancer.stop();
    this.drainRecord?.stop();
    await this.leader.stop();
    this.creds.xdsTls?.source.stop();
    this.creds.agentTls?.stop();
    await this.ads.stop(this.opts.config.shutdownGraceMs);
    await this.admin.stop();
    this.log.info('control plane stopped');
  }

  /** Publishes a resource set as it is; returns the problems if it was refused. */
  publish(set: ResourceSet): Problem[] {
    return this.publisher.publish(set);
  }

  /** The open ADS streams and what each Envoy holds. */
  xdsStreams(): StreamStatus[] {
    return this.ads.status();
  }

  /** The model a weight plan translates to. */
  model(plan: WeightPlan): ProxyModel {
    return this.models.build(plan);
  }

  /** Whether the named brokers are DRAINING in every Envoy, and which Envoys lag (src/publishing/drain-ack.ts). */
  private drainAck(names: readonly string[]): DrainAck {
    const edsVersion = this.cache.snapshot()?.typeVersions[ENDPOINT];
    return drainAck(names, { published: this.publisher.publishedPlan(), edsVersion, streams: this.ads.status() });
  }

  private readiness(): Readiness {
    return readiness({
      policyWaiting: this.policy.waiting(),
      snapshotVersion: this.cache.snapshot()?.version,
      discoverySynced: this.discovery.synced(),
      discoveryProblems: this.discovery.currentProblems(),
    });
  }

  private status(): ControlPlaneStatus {
    const outcome = this.planner.lastOutcome();
    const loads = this.scraper?.currentLoads();
    return {
      ready: this.readiness(),
      snapshot: snapshotStatus(this.cache.snapshot(), this.publisher.status().publishedAt),
      balancing: { mode: this.opts.config.balancing.mode, ...this.policy.status() },
      brokers: outcome?.plan.endpoints,
      decisions: outcome?.decisions,
      loads: loads && Object.fromEntries(loads),
      ...this.discovery.status(),
      leader: this.leader.status(),
      rebalance: this.rebalancer.status(),
      limits: this.models.status(),
      streams: this.ads.status(),
      ...(this.creds.xdsTls ? { xdsTls: this.creds.xdsTls.source.status() } : {}),
    };
  }
}
