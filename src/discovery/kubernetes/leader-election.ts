import type * as k8s from '@kubernetes/client-node';
import type { Logger } from '../../util/log';
import { kubeClient, loadKubeConfig } from './client';
import { decideLease, type LeaseView } from './lease-decision';

export interface LeaderElectionOptions {
  readonly kubeconfig: string;
  readonly namespace: string;
  readonly leaseName: string;
  readonly identity: string;
  readonly leaseDurationMs: number;
  readonly renewIntervalMs: number;
  readonly logger: Logger;
  readonly onChange: (leader: boolean) => void;
}

/**
 * Leader election with a coordination.k8s.io Lease, for work only one replica may do
 * (active rebalancing). Every replica keeps serving xDS either way. Updates carry the
 * lease's resourceVersion, so two replicas racing for a lapsed lease cannot both win: the
 * loser gets 409 Conflict and follows.
 */
export class LeaderElection {
  private api: k8s.CoordinationV1Api | undefined;
  private timer: NodeJS.Timeout | undefined;
  private leader = false;
  private stopped = false;

  constructor(private readonly o: LeaderElectionOptions) {}

  isLeader(): boolean {
    return this.leader;
  }

  async start(): Promise<void> {
    const k = kubeClient();
    this.api = loadKubeConfig(this.o.kubeconfig).makeApiClient(k.CoordinationV1Api);
    await this.tick();
  }

  /** Stops campaigning; a leader releases the lease so another replica takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (!this.leader || !this.api) return;
    try {
      const lease = await this.api.readNamespacedLease({ name: this.o.leaseName, namespace: this.o.namespace });
      if (lease.spec?.holderIdentity === this.o.identity) {
        lease.spec = { ...lease.spec, holderIdentity: '', renewTime: new (kubeClient().V1MicroTime)() };
        await this.api.replaceNamespacedLease({ name: this.o.leaseName, namespace: this.o.namespace, body: lease });
      }
    } catch (err) {
      this.o.logger.warn('could not release the leader lease; it will lapse', { error: errText(err) });
    }
    this.set(false, 'stopped');
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), this.o.renewIntervalMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    try {
      await this.step();
    } catch (err) {
      // Without a successful renewal we cannot know we still lead: step down rather than
      // risk two leaders.
      this.set(false, `lease API failed: ${errText(err)}`);
    }
    this.schedule();
  }

  private async step(): Promise<void> {
    const api = this.api!;
    const { leaseName: name, namespace, identity } = this.o;
    let lease: k8s.V1Lease | undefined;
    try {
      lease = await api.readNamespacedLease({ name, namespace });
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
    }
    const action = decideLease(view(lease), identity, Date.now(), this.o.leaseDurationMs);
    if (action.kind === 'follow') {
      this.set(false, `following ${action.holder}`);
      return;
    }
    // MicroTime: the API server insists on six fractional digits.
    const now = new (kubeClient().V1MicroTime)();
    const spec: k8s.V1LeaseSpec = {
      ...(lease?.spec ?? {}),
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(this.o.leaseDurationMs / 1000),
      renewTime: now,
      ...(action.kind === 'acquire' ? { acquireTime: now, leaseTransitions: (lease?.spec?.leaseTransitions ?? 0) + (lease ? 1 : 0) } : {}),
    };
    try {
      if (!lease) {
        await api.createNamespacedLease({ namespace, body: { metadata: { name, namespace }, spec } });
      } else {
        await api.replaceNamespacedLease({ name, namespace, body: { ...lease, spec } });
      }
      this.set(true, action.kind === 'acquire' ? action.why : 'renewed');
    } catch (err) {
      const status = statusOf(err);
      if (status === 409) {
        this.set(false, 'another replica won the lease');
        return;
      }
      throw err;
    }
  }

  private set(leader: boolean, why: string): void {
    if (leader === this.leader) return;
    this.leader = leader;
    this.o.logger.info(leader ? 'became leader' : 'not the leader', { lease: this.o.leaseName, identity: this.o.identity, why });
    this.o.onChange(leader);
  }
}

function view(lease: k8s.V1Lease | undefined): LeaseView | undefined {
  if (!lease) return undefined;
  const renew = lease.spec?.renewTime as unknown as Date | string | undefined;
  return {
    holderIdentity: lease.spec?.holderIdentity,
    renewTimeMs: renew === undefined ? undefined : new Date(renew).getTime(),
    leaseDurationMs: lease.spec?.leaseDurationSeconds === undefined ? undefined : lease.spec.leaseDurationSeconds * 1000,
  };
}

function statusOf(err: unknown): number | undefined {
  const e = err as { code?: number; statusCode?: number; response?: { statusCode?: number } };
  return e?.code ?? e?.statusCode ?? e?.response?.statusCode;
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
