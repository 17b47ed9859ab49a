// Composition root: builds the runners and connects outputs to inputs. The pipeline is
// discovery → scraping → planning → publishing → xds → Envoy, and Envoy's load reports come
// back into the Envoy view; policy, rebalance, admin and leader election beside it. Each
// runner owns its state, timers and status().
import { collectDefaultMetrics, Registry } from 'prom-client';
import {
  pageView,
  proxyViews,
  readinessOf,
  rebalanceActions,
  statusOf,
  type AdminServer,
  type ProxyStatusBody,
  type StatusSources,
} from './admin';
import type { Config } from './config';
import type { SharedDrainRecord } from './discovery/kubernetes/drain-record';
import type { WeightPlan } from './domain';
import type { BrokerDecision } from './balancing';
import { Planner } from './planner';
import { drainAck, ecdsAcked, ModelBuilder, mqttFilterModuleSource, TenantPoolWatch, type Publisher } from './publishing';
import { StickySalts, type Rebalancer } from './rebalance';
import * as runners from './runners';
import type { Scraper } from './scraping';
import type { ProxyModel, ResourceSet } from './translation';
import { TenantCertificates } from './tls';
import { systemClock } from './util/clock';
import { createLogger, type Logger } from './util/log';
import type { Problem } from './util/result';
import { ENDPOINT, EXTENSION_CONFIG, SnapshotCache, registerSyncGauge, type AdsServer, type StreamStatus } from './xds';

/** Before the first plan: one array, so the fleet signal's memo holds. */
const NO_DECISIONS: readonly BrokerDecision[] = [];

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
  private readonly creds: runners.Credentials;
  private readonly discovery: runners.DiscoveryRunner;
  private readonly policy: runners.PolicyRunner;
  private readonly scraper: Scraper | undefined;
  private readonly planner: Planner;
  private readonly models: ModelBuilder;
  private readonly publisher: Publisher;
  private readonly ads: AdsServer;
  private readonly envoyView: runners.EnvoyViewRunner;
  private readonly leader: runners.LeaderRunner;
  private readonly rebalancer: Rebalancer;
  private readonly stickySalts: StickySalts;
  private readonly drainRecord: SharedDrainRecord | undefined;
  private readonly admin: AdminServer;
  private readonly tenantTls: TenantCertificates;
  private readonly tenantPools: TenantPoolWatch;

  constructor(private readonly opts: ControlPlaneOptions) {
    const { config } = opts;
    const log = (this.log = opts.logger ?? createLogger(config.logLevel, { component: 'mqtt-xds' }));
    const registry = this.registry;
    const creds = (this.creds = runners.loadCredentials(config, log, registry, () => this.publisher.certificateChanged()));
    // Unprefixed (process_cpu_seconds_total, nodejs_eventloop_lag_seconds, …), as every Node
    // exporter names them, so stock Node.js dashboards match (docs/decisions.md).
    collectDefaultMetrics({ register: registry });
    const rejected = runners.inputRejected(registry);
    const policy = (): ReturnType<runners.PolicyRunner['policy']> => this.policy.policy();

    // discovery → scraping → planning → publishing → xds
    // Read lazily: the pools are checked whenever the brokers or the policy change.
    this.tenantPools = new TenantPoolWatch({
      logger: log.child({ stage: 'tenants' }),
      registry,
      tenants: () => this.policy.policy().tenants,
      brokers: () => this.discovery.brokers(),
    });
    this.discovery = new runners.DiscoveryRunner({
      config,
      logger: log.child({ stage: 'discovery' }),
      registry,
      rejected,
      onBrokers: (b) => {
        this.planner.setBrokers(b);
        this.scraper?.setBrokers(b);
        this.tenantPools.check();
        this.publisher.brokersChanged();
      },
    });
    this.policy = new runners.PolicyRunner({
      config,
      logger: log.child({ stage: 'policy' }),
      rejected,
      onPolicy: (p) => {
        this.tenantTls.sync(p.tenants);
        this.tenantPools.check();
        this.planner.setPolicy(p);
        this.publisher.policyApplied();
      },
    });
    this.scraper = runners.scraperFor(config, log, registry, creds, (loads) => {
      this.planner.setLoads(loads);
      this.publisher.schedule();
    });
    this.planner = runners.plannerFor(config, this.policy.policy(), log, registry);
    // The scale-out signal, computed when scraped from the last plan (docs/autoscaling.md).
    runners.fleetSignalGauges(registry, () => ({
      decisions: this.planner.lastOutcome()?.decisions ?? NO_DECISIONS,
      targetUtilisation: this.policy.policy().autoscaling.targetUtilisation,
    }));
    const listenerTls = creds.listenerTls;
    const tenantLog = log.child({ stage: 'tenant-tls' });
    this.tenantTls = new TenantCertificates({
      logger: tenantLog,
      registry,
      secretSource: runners.tenantSecretSource(config, tenantLog),
      onChange: () => this.publisher.certificateChanged(),
      ...(creds.issuerCa === undefined ? {} : { issuerCa: creds.issuerCa }),
    });
    this.tenantTls.sync(this.policy.policy().tenants);
    this.tenantPools.check();
    // Sticky placement: the ids a rebalance moves get a salt in the MQTT filter's config (ECDS).
    this.stickySalts = new StickySalts({
      registry,
      logger: log.child({ stage: 'sticky-salts' }),
      policy: () => this.policy.policy(),
      now: () => systemClock.nowMs(),
      changed: () => this.publisher.stickySaltsChanged(),
      ecdsAcked: () => ecdsAcked(this.cache.snapshot()?.typeVersions[EXTENSION_CONFIG], this.ads.status()),
    });
    this.models = new ModelBuilder({
      config,
      policy,
      logger: log,
      ...(listenerTls ? { listenerTls: () => listenerTls.material() } : {}),
      tenantTls: (tenant) => this.tenantTls.material(tenant),
      brokers: () => this.discovery.brokers(),
      mqttFilterModule: mqttFilterModuleSource(config.listener.mqttFilter.wasmFile, log.child({ stage: 'mqtt-filter' })),
      stickySalts: () => this.stickySalts.saltedIds(),
    });
    this.publisher = runners.publisherFor(config, this.cache, log, registry, rejected, {
      plan: (nowMs) => {
        const outcome = this.planner.next(nowMs);
        // A decision that waits for the next scrape (an overload to confirm, a cut to end)
        // gets it at scrape.quickIntervalMs rather than a full interval.
        if (this.planner.awaitingScrape() !== undefined) this.scraper?.hurry();
        return outcome;
      },
      model: (plan, decisions) => this.model(plan, decisions),
      // A configured policy not yet applied: publishing defaults would serve excluded brokers.
      // A listener certificate (from a Secret) not yet good: publishing would serve plaintext MQTT.
      heldBy: () => this.policy.waiting() ?? listenerTls?.waiting(),
      published: () => {
        this.models.committed();
        this.stickySalts.published();
      },
    });
    // Envoy → the Envoy view, over LRS on the xDS port → balancing, which checks the pages
    // against it and recomputes on reports, between scrapes.
    this.envoyView = runners.envoyViewFor(config, registry, () => this.discovery.brokers());
    this.planner.setEnvoySource((nowMs) => this.envoyView.byBroker(nowMs));
    this.envoyView.onReport(() => this.publisher.schedule());
    this.envoyView.follow(this.cache, config.cluster.name);
    this.ads = runners.adsFor(config, this.cache, log, registry, creds, this.envoyView);

    // Beside the pipeline: leader election, rebalancing (leader only), the admin port.
    this.leader = new runners.LeaderRunner({ config, logger: log.child({ stage: 'leader-election' }), registry });
    this.rebalancer = runners.rebalancerFor(config, log, registry, creds, {
      policy,
      isLeader: () => this.leader.isLeader(),
      brokers: () => this.discovery.brokers(),
      loads: () => this.scraper?.currentLoads() ?? new Map(),
      decisions: () => this.planner.lastOutcome()?.decisions ?? [],
      setMoving: (moving) => {
        this.planner.setMoving(moving);
        this.publisher.schedule();
      },
      drainingAcked: (names) =>
        drainAck(names, { published: this.publisher.publishedPlan(), edsVersion: this.edsVersion(), streams: this.ads.status() }),
      now: () => systemClock.nowMs(),
      stickySalts: this.stickySalts,
    });
    // Drains through the admin API reach every replica: they are written to one ConfigMap all of them watch.
    this.drainRecord = runners.drainRecordFor(config, log);
    const known = (name: string): boolean => this.discovery.brokers().some((b) => b.name === name);
    const xdsTls = creds.xdsTls?.source;
    const status: StatusSources = {
      mode: config.balancing.mode,
      snapshot: () => this.cache.snapshot(),
      publishedAt: () => this.publisher.status().publishedAt,
      policy: this.policy,
      discovery: this.discovery,
      outcome: () => this.planner.lastOutcome(),
      loads: () => this.scraper?.currentLoads(),
      leader: () => this.leader.status(),
      rebalance: () => this.rebalancer.status(),
      limits: () => this.models.status(),
      streams: () => this.ads.status(),
      envoyView: () => this.envoyView.status(),
      xdsTls: xdsTls && (() => xdsTls.status()),
      listenerTls: listenerTls && (() => listenerTls.status()),
      tenants: () => {
        const pools = this.tenantPools.status();
        return Object.fromEntries(Object.entries(this.tenantTls.status()).map(([n, t]) => [n, { ...t, pool: pools[n] }]));
      },
      listenerTlsWaiting: listenerTls && (() => listenerTls.waiting()),
    };
    const actions = rebalanceActions(this.rebalancer, known, this.drainRecord);
    // The same streams, snapshot time and clock as /proxy-status, so the gauge's states are the page's.
    registerSyncGauge(registry, {
      streams: () => this.ads.sync().streams,
      publishedAtMs: () => this.publisher.status().publishedAt?.getTime(),
      nowMs: () => systemClock.nowMs(),
    });
    const views = proxyViews({
      sync: (filter) => this.ads.sync(filter),
      nodeIds: () => this.ads.nodeIds(),
      configOf: (node) => this.ads.configOf(node),
      snapshotVersion: () => this.cache.snapshot()?.version,
      publishedAtMs: () => this.publisher.status().publishedAt?.getTime(),
      nowMs: () => systemClock.nowMs(),
    });
    this.admin = runners.adminFor(config, log, registry, creds, {
      readiness: () => readinessOf(status),
      status: () => statusOf(status),
      actions,
      views,
      page: { view: () => pageView(statusOf(status), views.proxyStatus(new URLSearchParams()).body as ProxyStatusBody) },
    });
  }

  async start(): Promise<RunningPorts> {
    const xdsPort = await this.ads.start();
    this.creds.xdsTls?.source.start();
    this.creds.agentTls?.start();
    this.creds.listenerTls?.start();
    this.tenantTls.start();
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
    for (const runner of [this.publisher, this.discovery, this.policy, this.scraper, this.rebalancer, this.drainRecord, this.envoyView])
      runner?.stop();
    await this.leader.stop();
    this.creds.xdsTls?.source.stop();
    this.creds.agentTls?.stop();
    this.creds.listenerTls?.stop();
    this.tenantTls.stop();
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

  private edsVersion(): string | undefined {
    return this.cache.snapshot()?.typeVersions[ENDPOINT];
  }

  /** The model a weight plan translates to. */
  model(plan: WeightPlan, decisions: readonly BrokerDecision[] = []): ProxyModel {
    return this.models.build(plan, decisions);
  }
}
