import type { WeightPlan } from '../domain';
import type { StreamStatus } from '../xds';
import { ENDPOINT, EXTENSION_CONFIG } from '../xds/type-urls';

/** Whether a drain may move clients: every Envoy holds the brokers as DRAINING, or who does not. */
export interface DrainAck {
  readonly acked: boolean;
  /** Node ids with an EDS subscription that have not ACKed the current EDS version (sorted, once each). */
  readonly laggards: readonly string[];
}

export interface DrainAckInput {
  /** The plan in the published snapshot. */
  readonly published: WeightPlan | undefined;
  /** The EDS version of the published snapshot. */
  readonly edsVersion: string | undefined;
  readonly streams: readonly Pick<StreamStatus, 'nodeId' | 'types'>[];
}

/**
 * Every Envoy with an EDS subscription has ACKed the current EDS version, and in that
 * version the brokers are DRAINING (or gone): none of them gets a new connection from now
 * on. Until the published plan has them all DRAINING nobody can be a laggard yet.
 */
export function drainAck(names: readonly string[], input: DrainAckInput): DrainAck {
  const health = new Map((input.published?.endpoints ?? []).map((e) => [e.name, e.health]));
  if (!names.every((n) => health.get(n) === 'draining' || !health.has(n))) return { acked: false, laggards: [] };
  const version = input.edsVersion;
  if (version === undefined) return { acked: false, laggards: [] };
  const laggards = new Set<string>();
  for (const s of input.streams) {
    const eds = s.types[ENDPOINT];
    if (eds !== undefined && eds.ackedVersion !== version) laggards.add(s.nodeId);
  }
  return { acked: laggards.size === 0, laggards: [...laggards].sort() };
}

/** Every Envoy with an ECDS subscription has ACKed this ECDS version (the MQTT filter's sticky salts wait for it). */
export function ecdsAcked(version: string | undefined, streams: readonly Pick<StreamStatus, 'types'>[]): boolean {
  if (version === undefined) return false;
  return streams.every((s) => {
    const ecds = s.types[EXTENSION_CONFIG];
    return ecds === undefined || ecds.ackedVersion === version;
  });
}
