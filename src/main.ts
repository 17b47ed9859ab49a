// Composition root: builds the stages, wires them (discovery → balancing → translation →
// xds → Envoy), starts and stops them. No stage knows another's internals.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { AdminServer, type Readiness } from './admin';
import { filePolicyFeed, PolicySource, type AppliedPolicy, type Config, type PolicyFeed } from './config';
import type { Broker, WeightPlan } from './domain';
import { hostname } from 'node:os';
import { configMapPolicyFeed, FileBrokerSource, KubernetesBrokerSource, LeaderElection } from './discovery';
import { Planner } from './planner';
import { AgentHttpClient, Rebalancer } from './rebalance';
import { ENDPOINT } from './xds/type-urls';
import { Scraper } from './scraping';
import { drainAck, ModelBuilder, Publisher, shortType, type DrainAck } from './publishing';
import type { ProxyModel, ResourceSet } from './translation';
import { AdsServer, SnapshotCache, XdsMetrics, type StreamStatus } from './xds';
import { systemClock } from './util/clock';
import { createLogger, type Logger } from './util/log';
import { formatProblems, type Problem } from './util/result';
import { readTokenFile } from './util/token-file';

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
  private readonly source: FileBrokerSource | KubernetesBrokerSource;
  private readonly discoverySynced: Gauge;
  private readonly election: LeaderElection | undefined;
  private readonly leaderGauge: Gauge;
  private synced = true;
  private readonly policySource: PolicySource;
  private readonly scraper: Scraper | undefined;
  private readonly planner: Planner;
  private readonly rebalancer: Rebalancer;
  private readonly brokersKnown: Gauge;
  private readonly rejected: Counter<'stage' | 'code'>;
  private readonly models: ModelBuilder;
  private readonly publisher: Publisher;
  private discoveryProblems: Problem[] = [];
  private policyProblems: Problem[] = [];
  private knownBrokers: readonly Broker[] = [];

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
      token: readTokenFile(config.admin.tokenFile, 'admin.tokenFile'),
      actions: {
        requestDrain: (name) => {
          if (!this.knownBrokers.some((b) => b.name === name)) return undefined;
          const created = this.rebalancer.requestDrain(name);
          return { created, status: this.rebalancer.drainStatus(name) };
        },
        cancelDrain: (name) => this.rebalancer.cancelDrain(name),
        drainStatus: (name) => this.rebalancer.drainStatus(name),
        rebalanceStatus: () => this.rebalancer.status(),
      },
    });
    const policyLog = this.log.child({ stage: 'policy' });
    this.policySource = new PolicySource({
      feed: policyFeed(config, policyLog),
      logger: policyLog,
      onPolicy: (applied) => this.onPolicy(applied),
      onError: (problems) => {
        this.policyProblems = problems;
        for (const p of problems) this.rejected.inc({ stage: 'policy', code: p.code });
      },
    });
    this.planner = new Planner(config.balancing.mode, this.policySource.applied().policy);
    this.models = new ModelBuilder({ config, policy: () => this.policySource.applied().policy, logger: this.log });
    this.publisher = new Publisher({
      cache: this.cache,
      clock: systemClock,
      logger: this.log,
      registry: this.registry,
      rejected: this.rejected,
      debounceMs: config.pushDebounceMs,
      minPushIntervalMs: config.balancing.minPushIntervalMs,
      plan: (nowMs) => this.planner.next(nowMs),
      model: (plan) => this.model(plan),
      // A configured policy not yet applied: publishing defaults would serve excluded brokers.
      heldBy: () => this.policySource.waiting(),
    });
    if (config.balancing.mode === 'metrics') {
      this.scraper = new Scraper({
        logger: this.log.child({ stage: 'scraping' }),
        registry: this.registry,
        intervalMs: config.scrape.intervalMs,
        timeoutMs: config.scrape.timeoutMs,
        concurrency: config.scrape.concurrency,
        onLoads: (loads) => {
          this.planner.setLoads(loads);
          this.publisher.schedule();
        },
      });
    }
    this.rebalancer = new Rebalancer({
      logger: this.log.child({ stage: 'rebalance' }),
      registry: this.registry,
      agent: new AgentHttpClient({
        token: readTokenFile(config.agent.tokenFile, 'agent.tokenFile'),
        timeoutMs: () => this.policySource.applied().policy.rebalance.agentTimeoutMs,
      }),
      tickMs: config.rebalanceTickMs,
      policy: () => this.policySource.applied().policy,
      // Without leader election this replica is the only one.
      isLeader: () => this.election?.isLeader() ?? true,
      brokers: () => this.knownBrokers,
      loads: () => this.scraper?.currentLoads() ?? new Map(),
      decisions: () => this.planner.lastOutcome()?.decisions ?? [],
      setMoving: (moving) => {
        this.planner.setMoving(moving);
        this.publisher.schedule();
      },
      drainingAcked: (names) => this.drainAck(names).acked,
      now: () => Date.now(),
    });
    this.discoverySynced = new Gauge({
      name: 'mqtt_xds_discovery_synced',
      help: '1 while discovery holds a complete, current broker list; 0 while it serves the last known one',
      registers: [this.registry],
    });
    this.discoverySynced.set(1);
    this.leaderGauge = new Gauge({
      name: 'mqtt_xds_leader',
      help: '1 while this replica holds the leader lease',
      registers: [this.registry],
    });
    const le = config.leaderElection;
    if (le.leaseName !== '') {
      this.election = new LeaderElection({
        kubeconfig: config.discovery.kubernetes.kubeconfig,
        namespace: le.namespace !== '' ? le.namespace : config.discovery.kubernetes.namespace,
        leaseName: le.leaseName,
        identity: le.identity !== '' ? le.identity : hostname(),
        leaseDurationMs: le.leaseDurationMs,
        renewIntervalMs: le.renewIntervalMs,
        logger: this.log.child({ stage: 'leader-election' }),
        onChange: (leader) => this.leaderGauge.set(leader ? 1 : 0),
      });
    }
    const discoveryLog = this.log.child({ stage: 'discovery' });
    const onBrokers = (brokers: Broker[]): void => this.onBrokers(brokers);
    const onError = (problems: Problem[]): void => this.onDiscoveryError(problems);
    if (config.discovery.source === 'kubernetes') {
      this.synced = false;
      this.discoverySynced.set(0);
      this.source = new KubernetesBrokerSource({
        ...config.discovery.kubernetes,
        logger: discoveryLog,
        registry: this.registry,
        onBrokers,
        onError,
        onSynced: (synced) => {
          this.synced = synced;
          this.discoverySynced.set(synced ? 1 : 0);
        },
      });
    } else {
      this.source = new FileBrokerSource({ path: config.discovery.brokersFile, logger: discoveryLog, onBrokers, onError });
    }
  }

  async start(): Promise<RunningPorts> {
    const xdsPort = await this.ads.start();
    const adminPort = await this.admin.start();
    this.log.info('control plane listening', { xds: `${this.opts.config.xds.host}:${xdsPort}`, admin: adminPort });
    await this.policySource.start();
    await this.source.start();
    this.scraper?.start();
    await this.election?.start();
    this.rebalancer.start();
    return { xdsPort, adminPort };
  }

  async stop(): Promise<void> {
    this.publisher.stop();
    this.source.stop();
    this.policySource.stop();
    this.scraper?.stop();
    this.rebalancer.stop();
    await this.election?.stop();
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

  private onBrokers(brokers: Broker[]): void {
    this.discoveryProblems = [];
    this.knownBrokers = brokers;
    this.brokersKnown.set(brokers.length);
    this.planner.setBrokers(brokers);
    this.scraper?.setBrokers(brokers);
    this.publisher.schedule();
  }

  private onPolicy(applied: AppliedPolicy): void {
    this.policyProblems = [];
    this.planner.setPolicy(applied.policy);
    this.publisher.policyApplied();
  }

  /** Whether the named brokers are DRAINING in every Envoy, and which Envoys lag (src/publishing/drain-ack.ts). */
  private drainAck(names: readonly string[]): DrainAck {
    return drainAck(names, {
      published: this.publisher.publishedPlan(),
      edsVersion: this.cache.snapshot()?.typeVersions[ENDPOINT],
      streams: this.ads.status(),
    });
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
    const policyWaiting = this.policySource.waiting();
    if (policyWaiting !== undefined) return { ready: false, reason: policyWaiting };
    const snap = this.cache.snapshot();
    // Still ready: this replica serves a complete last-known snapshot, and taking every
    // replica out of the xDS Service (an API outage hits all of them) would leave new and
    // reconnecting Envoys with no configuration at all. The body and
    // mqtt_xds_discovery_synced say it is not synced.
    if (snap && !this.synced) {
      return { ready: true, reason: `discovery not synced; serving the last known brokers (snapshot ${snap.version})` };
    }
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
        publishedAt: this.publisher.status().publishedAt?.toISOString(),
        types: Object.fromEntries(Object.entries(snap.typeVersions).map(([t, v]) => [shortType(t), v])),
      },
      balancing: {
        mode: this.opts.config.balancing.mode,
        policy: { ...this.policySource.applied(), policy: undefined },
        policyProblems: this.policyProblems,
      },
      brokers: this.planner.lastOutcome()?.plan.endpoints,
      decisions: this.planner.lastOutcome()?.decisions,
      loads: this.scraper && Object.fromEntries(this.scraper.currentLoads()),
      discoveryProblems: this.discoveryProblems,
      discoverySynced: this.synced,
      leader: this.election ? this.election.isLeader() : null,
      rebalance: this.rebalancer.status(),
      limits: this.models.status(),
      streams: this.ads.status(),
    };
  }
}

function policyFeed(config: Config, logger: Logger): PolicyFeed | undefined {
  const { policyFile, policyConfigMap, policyConfigMapKey } = config.balancing;
  if (policyConfigMap !== '') {
    const [namespace, name] = policyConfigMap.includes('/')
      ? policyConfigMap.split('/', 2)
      : [config.discovery.kubernetes.namespace, policyConfigMap];
    return configMapPolicyFeed({ kubeconfig: config.discovery.kubernetes.kubeconfig, namespace, name, key: policyConfigMapKey, logger });
  }
  return policyFile !== '' ? filePolicyFeed(policyFile, logger) : undefined;
}
