import { hostname } from 'node:os';
import { Gauge, type Registry } from 'prom-client';
import type { Config } from '../config';
import { LeaderElection } from '../discovery';
import type { Logger } from '../util/log';

/** Leader election when a lease is configured; without one this replica is the only one, so the leader. */
export class LeaderRunner {
  private readonly election: LeaderElection | undefined;

  constructor(opts: { readonly config: Config; readonly logger: Logger; readonly registry: Registry }) {
    const { config } = opts;
    const gauge = new Gauge({
      name: 'mqtt_xds_leader',
      help: '1 while this replica holds the leader lease',
      registers: [opts.registry],
    });
    const le = config.leaderElection;
    if (le.leaseName === '') return;
    this.election = new LeaderElection({
      kubeconfig: config.discovery.kubernetes.kubeconfig,
      namespace: le.namespace !== '' ? le.namespace : config.discovery.kubernetes.namespace,
      leaseName: le.leaseName,
      identity: le.identity !== '' ? le.identity : hostname(),
      leaseDurationMs: le.leaseDurationMs,
      renewIntervalMs: le.renewIntervalMs,
      logger: opts.logger,
      onChange: (leader) => gauge.set(leader ? 1 : 0),
    });
  }

  async start(): Promise<void> {
    await this.election?.start();
  }

  async stop(): Promise<void> {
    await this.election?.stop();
  }

  isLeader(): boolean {
    return this.election?.isLeader() ?? true;
  }

  /** null without leader election (as /status has always shown it). */
  status(): boolean | null {
    return this.election ? this.election.isLeader() : null;
  }
}
