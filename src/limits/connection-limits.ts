import { capacityHint } from '../balancing/capacity';
import type { Policy } from '../config/policy';
import type { WeightPlan } from '../domain';

export interface LimitsInput {
  readonly policy: Policy;
  /** The brokers in EDS (draining ones too: their connections count against the cluster). */
  readonly plan: WeightPlan;
  /** What applies while any broker's capacity is unknown: the cluster.* settings. */
  readonly fallback: { readonly maxConnections: number; readonly perHostMaxConnections: number };
}

export interface BrokerLimit {
  readonly name: string;
  /** Connections this broker may take through all Envoys together (capacity × headroom); undefined while its capacity is unknown. */
  readonly limit?: number;
}

/** The limits of one Envoy, in the terms of translation's ClusterModel and ListenerModel. */
export interface ConnectionLimits {
  readonly cluster: {
    readonly maxConnections: number;
    readonly perHostMaxConnections: number;
    readonly maxPendingConnections: number;
  };
  readonly listener: {
    readonly connectRate?: { readonly perSec: number; readonly burst: number };
    readonly maxConnectionDurationMs?: number;
  };
  readonly brokers: readonly BrokerLimit[];
  /** One line on where perHost and cluster came from, for logs and /status. */
  readonly why: string;
}

/**
 * Derives one Envoy's limits. Envoy has a single per-host limit for all brokers of a
 * cluster, so it is the largest broker's limit; the weights, not the circuit breaker, keep
 * smaller brokers from filling first. Derived values assume the clients spread evenly over
 * `limits.connections.envoys` Envoys and are divided by it. While any broker's capacity is
 * unknown (`auto`, no class) nothing is derived and the generous fallback applies, because
 * a wrong guess would refuse clients the brokers could take. Explicit values win as written.
 *
 * What brokers already hold is deliberately not an input. Envoy re-creates the cluster on
 * every Cluster update and counts its circuit breakers from zero again (measured in
 * test/integration/limits.test.ts), so a limit below today's connections refuses nobody
 * at once, while limits that followed the scraped counts would push a Cluster, and reset
 * that count, at every step of an overloaded broker.
 */
export function deriveLimits(input: LimitsInput): ConnectionLimits {
  const { policy, plan, fallback } = input;
  const l = policy.limits;
  const envoys = l.connections.envoys;
  const brokers = plan.endpoints.map((e): BrokerLimit => {
    const capacity = capacityHint(policy, e.name)?.connections;
    return capacity === undefined ? { name: e.name } : { name: e.name, limit: Math.ceil(capacity * l.connections.headroom) };
  });
  const known = brokers.filter((b): b is BrokerLimit & { limit: number } => b.limit !== undefined);
  const derivable = brokers.length > 0 && known.length === brokers.length;
  const perEnvoy = (n: number): number => Math.ceil(n / envoys);

  let perHost: number;
  let cluster: number;
  let why: string;
  if (derivable) {
    const largest = known.reduce((a, b) => (b.limit > a.limit ? b : a));
    perHost = perEnvoy(largest.limit);
    cluster = perEnvoy(known.reduce((sum, b) => sum + b.limit, 0));
    const split = envoys > 1 ? ` / ${envoys} Envoys` : '';
    why = `perHost ${perHost} from ${largest.name} (capacity × ${l.connections.headroom} = ${largest.limit})${split}; cluster ${cluster} from ${known.length} brokers${split}`;
  } else {
    perHost = fallback.perHostMaxConnections;
    cluster = fallback.maxConnections;
    const unknown = brokers.filter((b) => b.limit === undefined).map((b) => b.name);
    why =
      brokers.length === 0
        ? 'no brokers: cluster.* settings'
        : `capacity of ${unknown.join(', ')} unknown: cluster.* settings (perHost ${perHost}, cluster ${cluster})`;
  }
  if (l.connections.perHost !== 'auto') perHost = l.connections.perHost;
  if (l.connections.cluster !== 'auto') cluster = l.connections.cluster;
  // One broker can never take more than all together; the explicit value decides which moves.
  if (l.connections.cluster === 'auto') cluster = Math.max(cluster, perHost);
  else perHost = Math.min(perHost, cluster);
  const explicit = [
    l.connections.perHost === 'auto' ? '' : `perHost ${perHost}`,
    l.connections.cluster === 'auto' ? '' : `cluster ${cluster}`,
  ].filter((s) => s !== '');
  if (explicit.length > 0) why += `; policy sets ${explicit.join(', ')}`;

  const { perSec, burst } = l.connectRate;
  return {
    cluster: { maxConnections: cluster, perHostMaxConnections: perHost, maxPendingConnections: l.connections.pending },
    listener: {
      ...(perSec === 'off' ? {} : { connectRate: { perSec, burst: burst === 'auto' ? perSec : burst } }),
      ...(l.maxConnectionDurationMs === 'off' ? {} : { maxConnectionDurationMs: l.maxConnectionDurationMs }),
    },
    brokers,
    why,
  };
}
