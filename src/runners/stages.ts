// How the stages that take many settings are built from the configuration, so the wiring
// file (src/main.ts) shows only what feeds what.
import { Counter, type Registry } from 'prom-client';
import { AdminServer, type AdminServerOptions } from '../admin/admin-server';
import { registerReadyGauge } from '../admin/ready-gauge';
import type { Config } from '../config';
import type { Policy } from '../config/policy';
import type { Broker, BrokerLoad } from '../domain';
import { Publisher, type PublisherOptions } from '../publishing/publisher';
import { AgentHttpClient, Rebalancer, type RebalancerDeps } from '../rebalance';
import { Scraper } from '../scraping';
import { systemClock } from '../util/clock';
import type { Logger } from '../util/log';
import { AdsServer, LrsMetrics, LrsService, XdsMetrics, type LoadReportSink, type SnapshotCache } from '../xds';
import type { Credentials } from './credentials';
import { EnvoyViewRunner } from './envoy-view-runner';
import { MissingSignalReport } from './missing-signals';
import { SuspectReport } from './suspect-report';
import { Planner } from '../planner';

/** One counter for every refused input, by stage and problem code. */
export function inputRejected(registry: Registry): Counter<'stage' | 'code'> {
  return new Counter({
    name: 'mqtt_xds_input_rejected_total',
    help: 'Inputs refused (the last good state stays): by stage and problem code',
    labelNames: ['stage', 'code'],
    registers: [registry],
  });
}

/** The scraper, in metrics mode only; https metrics URLs use agent.tls. */
export function scraperFor(
  config: Config,
  log: Logger,
  registry: Registry,
  creds: Credentials,
  onLoads: (loads: ReadonlyMap<string, BrokerLoad>) => void,
): Scraper | undefined {
  if (config.balancing.mode !== 'metrics') return undefined;
  const agentFetch = creds.agentTls?.fetch;
  return new Scraper({
    logger: log.child({ stage: 'scraping' }),
    registry,
    ...(agentFetch ? { fetch: agentFetch } : {}),
    intervalMs: config.scrape.intervalMs,
    quickIntervalMs: config.scrape.quickIntervalMs,
    timeoutMs: config.scrape.timeoutMs,
    concurrency: config.scrape.concurrency,
    onLoads,
  });
}

/** The planner, with the reports that watch its decisions: missing signals, suspect pages. */
export function plannerFor(config: Config, policy: Policy, log: Logger, registry: Registry): Planner {
  const missing = new MissingSignalReport(log.child({ stage: 'balancing' }), registry);
  const suspects = new SuspectReport(log.child({ stage: 'balancing' }), registry);
  return new Planner(config.balancing.mode, policy, (o) => {
    missing.observe(o.decisions);
    suspects.observe(o.decisions);
  });
}

/** The Envoy view: what the Envoys report over LRS, per broker of `brokers`. */
export function envoyViewFor(config: Config, registry: Registry, brokers: () => readonly Broker[]): EnvoyViewRunner {
  return new EnvoyViewRunner({ reportIntervalMs: config.envoyView.reportIntervalMs, registry, brokers });
}

/**
 * The xDS server, over TLS when xds.tls is set (ready once its certificate is delivered).
 * LRS is served on it too, so load reports come over the same port, TLS and node identity check.
 */
export function adsFor(
  config: Config,
  cache: SnapshotCache,
  log: Logger,
  registry: Registry,
  creds: Credentials,
  loadReports?: LoadReportSink,
): AdsServer {
  const tls = creds.xdsTls;
  const loadStats =
    loadReports &&
    new LrsService({
      clusterName: config.cluster.name,
      reportIntervalMs: config.envoyView.reportIntervalMs,
      sink: loadReports,
      logger: log.child({ stage: 'lrs' }),
      metrics: new LrsMetrics(registry),
      ...(tls ? { nodeIdentity: config.xds.tls.nodeIdentity } : {}),
    });
  const server = new AdsServer({
    host: config.xds.host,
    port: config.xds.port,
    maxRequestBytes: config.xds.maxRequestBytes,
    cache,
    logger: log.child({ stage: 'xds' }),
    metrics: new XdsMetrics(registry),
    ...(loadStats ? { loadStats } : {}),
    ...(tls ? { credentials: tls.credentials, ready: () => tls.source.delivered(), nodeIdentity: config.xds.tls.nodeIdentity } : {}),
  });
  return server;
}

/** The rebalancer and its agent client (bearer token and agent.tls). */
export function rebalancerFor(
  config: Config,
  log: Logger,
  registry: Registry,
  creds: Credentials,
  deps: Omit<RebalancerDeps, 'logger' | 'registry' | 'agent' | 'tickMs'> & { policy(): Policy },
): Rebalancer {
  const agentFetch = creds.agentTls?.fetch;
  return new Rebalancer({
    logger: log.child({ stage: 'rebalance' }),
    registry,
    tickMs: config.rebalanceTickMs,
    agent: new AgentHttpClient({
      token: creds.agentToken,
      ...(agentFetch ? { fetch: agentFetch } : {}),
      timeoutMs: () => deps.policy().rebalance.agentTimeoutMs,
    }),
    ...deps,
  });
}

/** Publishing: plans become snapshots, debounced, and gated by minPushIntervalMs for metrics-only changes. */
export function publisherFor(
  config: Config,
  cache: SnapshotCache,
  log: Logger,
  registry: Registry,
  rejected: Counter<'stage' | 'code'>,
  deps: Pick<PublisherOptions, 'plan' | 'model' | 'heldBy' | 'published'>,
): Publisher {
  return new Publisher({
    cache,
    clock: systemClock,
    logger: log,
    registry,
    rejected,
    debounceMs: config.pushDebounceMs,
    minPushIntervalMs: config.balancing.minPushIntervalMs,
    ...deps,
  });
}

/** The admin port: probes, metrics, status, and the operator actions behind admin.tokenFile. */
export function adminFor(
  config: Config,
  log: Logger,
  registry: Registry,
  creds: Credentials,
  deps: Pick<AdminServerOptions, 'readiness' | 'status' | 'actions' | 'views' | 'page'>,
): AdminServer {
  registerReadyGauge(registry, deps.readiness);
  return new AdminServer({
    host: config.admin.host,
    port: config.admin.port,
    registry,
    logger: log.child({ stage: 'admin' }),
    token: creds.adminToken,
    viewAccess: config.admin.viewAccess,
    ...deps,
    // The page's feed limits come from admin.ui.*; the caller gives the view.
    ...(deps.page ? { page: { ...config.admin.ui, ...deps.page } } : {}),
  });
}
