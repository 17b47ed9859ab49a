import type { PairStatus, TenantCertificateStatus } from '../tls';
import type { BrokerDecision } from '../balancing';
import type { BrokerLoad, PlannedEndpoint } from '../domain';
import type { TenantPoolStatus } from '../publishing/tenant-pools';
import type { ConnectionLimits } from '../limits';
import type { RebalanceStatus } from '../rebalance';
import type { DiscoveryStatus, EnvoyViewStatus, PolicyStatus } from '../runners';
import type { Snapshot, StreamStatus, XdsTlsStatus } from '../xds';
import { formatProblems, type Problem } from '../util/result';
import { productVersion } from '../util/version';
import type { Readiness } from './admin-server';

export interface SnapshotStatus {
  readonly version: string;
  readonly publishedAt: string | undefined;
  /** Short type name (Cluster, ClusterLoadAssignment, …) → version. */
  readonly types: Readonly<Record<string, string>>;
}

/** GET /status: assembled from each runner's own status(). */
export interface ControlPlaneStatus extends DiscoveryStatus {
  /** The mqtt-xds release serving this page (package.json). */
  readonly version: string;
  readonly ready: Readiness;
  readonly snapshot: SnapshotStatus | undefined;
  readonly balancing: { readonly mode: 'metrics' | 'static' } & PolicyStatus;
  readonly brokers: readonly PlannedEndpoint[] | undefined;
  readonly decisions: readonly BrokerDecision[] | undefined;
  readonly loads: Readonly<Record<string, BrokerLoad>> | undefined;
  readonly leader: boolean | null;
  readonly rebalance: RebalanceStatus;
  readonly limits: ConnectionLimits | undefined;
  readonly streams: readonly StreamStatus[];
  /** What the Envoys report over LRS: per broker, their connections and open rate. */
  readonly envoyView?: EnvoyViewStatus;
  /** The xDS server certificate in force, when xDS is served over TLS. */
  readonly xdsTls?: XdsTlsStatus;
  /** The MQTT listener's certificate, sent to the Envoys over SDS. */
  readonly listenerTls?: PairStatus;
  /** SNI tenants: each one's certificate in force, or why it is not served. */
  readonly tenants?: Record<string, TenantStatus>;
}

/** A tenant: its certificate in force (or why it is not served) and the brokers its pool holds. */
export type TenantStatus = TenantCertificateStatus & { readonly pool?: TenantPoolStatus };

export interface ReadinessInputs {
  /** Why no policy is in force yet (a configured source has no valid document). */
  readonly policyWaiting: string | undefined;
  /** Why no listener certificate is in force yet (its Secret is missing or refused); nothing is published meanwhile. */
  readonly listenerTlsWaiting?: string | undefined;
  readonly snapshotVersion: string | undefined;
  readonly discoverySynced: boolean;
  readonly discoveryProblems: readonly Problem[];
}

/** /readyz: ready once a complete snapshot is served, never while a configured policy or listener certificate is missing. */
export function readiness(i: ReadinessInputs): Readiness {
  if (i.policyWaiting !== undefined) return { ready: false, reason: i.policyWaiting };
  if (i.listenerTlsWaiting !== undefined) return { ready: false, reason: i.listenerTlsWaiting };
  const version = i.snapshotVersion;
  // Still ready: this replica serves a complete last-known snapshot, and taking every
  // replica out of the xDS Service (an API outage hits all of them) would leave new and
  // reconnecting Envoys with no configuration at all. The body and
  // mqtt_xds_discovery_synced say it is not synced.
  if (version !== undefined && !i.discoverySynced) {
    return { ready: true, reason: `discovery not synced; serving the last known brokers (snapshot ${version})` };
  }
  if (version !== undefined) return { ready: true, reason: `serving snapshot ${version}` };
  if (i.discoveryProblems.length > 0) {
    return { ready: false, reason: `no valid broker list yet: ${formatProblems(i.discoveryProblems)}` };
  }
  return { ready: false, reason: 'waiting for the first complete snapshot' };
}

export function snapshotStatus(snap: Snapshot | undefined, publishedAt: Date | undefined): SnapshotStatus | undefined {
  return (
    snap && {
      version: snap.version,
      publishedAt: publishedAt?.toISOString(),
      types: Object.fromEntries(Object.entries(snap.typeVersions).map(([t, v]) => [shortType(t), v])),
    }
  );
}

function shortType(t: string): string {
  return t.slice(t.lastIndexOf('.') + 1);
}

/** What GET /status and /readyz read: each runner answers for itself. */
export interface StatusSources {
  readonly mode: 'metrics' | 'static';
  readonly snapshot: () => Snapshot | undefined;
  readonly publishedAt: () => Date | undefined;
  readonly policy: { waiting(): string | undefined; status(): PolicyStatus };
  readonly discovery: { synced(): boolean; currentProblems(): readonly Problem[]; status(): DiscoveryStatus };
  readonly outcome: () =>
    { readonly plan: { readonly endpoints: readonly PlannedEndpoint[] }; readonly decisions: readonly BrokerDecision[] } | undefined;
  readonly loads: () => ReadonlyMap<string, BrokerLoad> | undefined;
  readonly leader: () => boolean | null;
  readonly rebalance: () => RebalanceStatus;
  readonly limits: () => ConnectionLimits | undefined;
  readonly streams: () => readonly StreamStatus[];
  readonly envoyView?: () => EnvoyViewStatus;
  readonly xdsTls: (() => XdsTlsStatus | undefined) | undefined;
  readonly listenerTls?: (() => PairStatus | undefined) | undefined;
  readonly tenants?: () => Record<string, TenantStatus>;
  readonly listenerTlsWaiting?: (() => string | undefined) | undefined;
}

export function readinessOf(s: StatusSources): Readiness {
  return readiness({
    policyWaiting: s.policy.waiting(),
    listenerTlsWaiting: s.listenerTlsWaiting?.(),
    snapshotVersion: s.snapshot()?.version,
    discoverySynced: s.discovery.synced(),
    discoveryProblems: s.discovery.currentProblems(),
  });
}

export function statusOf(s: StatusSources): ControlPlaneStatus {
  const outcome = s.outcome();
  const loads = s.loads();
  const xdsTls = s.xdsTls?.();
  const listenerTls = s.listenerTls?.();
  const tenants = s.tenants?.();
  const envoyView = s.envoyView?.();
  return {
    version: productVersion(),
    ready: readinessOf(s),
    snapshot: snapshotStatus(s.snapshot(), s.publishedAt()),
    balancing: { mode: s.mode, ...s.policy.status() },
    brokers: outcome?.plan.endpoints,
    decisions: outcome?.decisions,
    loads: loads && Object.fromEntries(loads),
    ...s.discovery.status(),
    leader: s.leader(),
    rebalance: s.rebalance(),
    limits: s.limits(),
    streams: s.streams(),
    ...(envoyView ? { envoyView } : {}),
    ...(xdsTls ? { xdsTls } : {}),
    ...(listenerTls ? { listenerTls } : {}),
    ...(tenants && Object.keys(tenants).length > 0 ? { tenants } : {}),
  };
}
