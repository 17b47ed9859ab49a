// The compact view the status page draws (GET /ui/events): /status and /proxy-status cut
// down to what the page shows, so a push stays small and a change in anything else (a
// stream's byte counters, say) does not wake every browser.
import type { ProxyStatusBody } from './proxy-views';
import type { ControlPlaneStatus } from './status';

export interface PageBroker {
  readonly name: string;
  readonly weight: number;
  readonly health: string;
  readonly excluded: boolean;
  readonly utilisation?: number;
  readonly capacity?: number;
  readonly capacitySource: string;
  readonly reason: string;
  readonly connections?: number;
}

export interface PageProxy {
  readonly node: string;
  readonly cluster: string;
  readonly kind: string;
  readonly types: Readonly<Record<string, { readonly state: string; readonly error?: string; readonly behindMs?: number }>>;
}

export interface PageMove {
  readonly broker: string;
  /** drain or rebalance (a source of the rebalancer). */
  readonly kind: string;
  readonly phase: string;
  readonly moved: number;
  /** What the move may disconnect in all: a rebalance's budget, a drain's connections at the start. */
  readonly budget?: number;
  readonly connections?: number;
  readonly deadlineAt?: string;
  readonly note?: string;
}

export interface PageCertificate {
  readonly name: string;
  readonly notAfter?: string;
  readonly problem?: string;
}

export interface PageView {
  readonly version: string;
  readonly ready: { readonly ready: boolean; readonly reason: string };
  readonly snapshot: string | undefined;
  readonly mode: string;
  readonly rebalanceMode: string;
  readonly brokers: readonly PageBroker[];
  readonly proxies: readonly PageProxy[];
  readonly omittedProxies: number;
  readonly moves: readonly PageMove[];
  readonly blocked?: string;
  readonly certificates: readonly PageCertificate[];
}

export function pageView(status: ControlPlaneStatus, proxies: ProxyStatusBody | undefined): PageView {
  return {
    version: status.version,
    ready: status.ready,
    snapshot: status.snapshot?.version,
    mode: status.balancing.mode,
    rebalanceMode: status.rebalance.mode,
    brokers: brokersOf(status),
    proxies: (proxies?.proxies ?? []).map(proxyOf),
    omittedProxies: proxies?.omitted ?? 0,
    moves: movesOf(status),
    ...(status.rebalance.plan?.blocked ? { blocked: status.rebalance.plan.blocked } : {}),
    certificates: certificatesOf(status),
  };
}

/** From the decisions when there are any (excluded brokers too), else from the plan (static weights). */
function brokersOf(status: ControlPlaneStatus): PageBroker[] {
  if (!status.decisions?.length) {
    return (status.brokers ?? []).map((b) => ({
      name: b.name,
      weight: b.weight,
      health: b.health,
      excluded: false,
      capacitySource: '–',
      reason: status.balancing.mode === 'static' ? 'static weight (balancing.mode static)' : 'as planned',
      ...connectionsOf(status, b.name),
    }));
  }
  return status.decisions.map((d): PageBroker => ({
    name: d.name,
    weight: d.weight,
    health: d.health,
    excluded: d.excluded,
    ...(d.utilisation === undefined ? {} : { utilisation: round(d.utilisation, 4) }),
    ...(d.capacity === undefined ? {} : { capacity: d.capacity }),
    capacitySource: d.capacitySource,
    reason: d.reason,
    ...connectionsOf(status, d.name),
  }));
}

function connectionsOf(status: ControlPlaneStatus, name: string): { connections?: number } {
  const connections = status.loads?.[name]?.signals.connections;
  return connections === undefined ? {} : { connections };
}

function proxyOf(p: ProxyStatusBody['proxies'][number]): PageProxy {
  return {
    node: p.node,
    cluster: p.cluster,
    kind: p.kind,
    types: Object.fromEntries(
      Object.entries(p.types).map(([t, v]) => [
        t,
        {
          state: v.state,
          ...(v.error === undefined ? {} : { error: v.error }),
          // Rounded to seconds: a millisecond count would change every sample.
          ...(v.behindMs === undefined ? {} : { behindMs: Math.floor(v.behindMs / 1000) * 1000 }),
        },
      ]),
    ),
  };
}

function movesOf(status: ControlPlaneStatus): PageMove[] {
  const moves: PageMove[] = [];
  const drained = new Set<string>();
  for (const d of status.rebalance.drains) {
    drained.add(d.broker);
    const source = status.rebalance.sources[d.broker];
    moves.push({
      broker: d.broker,
      kind: 'drain',
      phase: d.phase ?? d.state,
      moved: d.moved,
      ...(source ? { budget: source.budget } : {}),
      ...(d.connections === undefined ? {} : { connections: d.connections }),
      ...(d.deadlineAt ? { deadlineAt: d.deadlineAt } : {}),
      ...(d.note || d.error ? { note: d.error ?? d.note } : {}),
    });
  }
  for (const [name, s] of Object.entries(status.rebalance.sources)) {
    if (drained.has(name)) continue;
    moves.push({
      broker: name,
      kind: s.kind,
      phase: s.phase,
      moved: s.moved,
      budget: s.budget,
      ...(s.note || s.lastError ? { note: s.lastError ?? s.note } : {}),
    });
  }
  return moves;
}

function certificatesOf(status: ControlPlaneStatus): PageCertificate[] {
  const certs: PageCertificate[] = [];
  if (status.xdsTls) certs.push({ name: 'xDS server', notAfter: status.xdsTls.notAfter });
  if (status.listenerTls) certs.push({ name: 'MQTT listener', notAfter: status.listenerTls.notAfter });
  for (const [name, t] of Object.entries(status.tenants ?? {})) {
    const problem = t.refused[0]?.message;
    certs.push({
      name: `tenant ${name}`,
      ...(t.certificate ? { notAfter: t.certificate.notAfter } : {}),
      ...(problem ? { problem } : {}),
    });
  }
  return certs;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
