// The `limits:` section of the policy: circuit breakers, connection rate and connection
// duration, as Envoy enforces them. docs/policy.md ("Limits") and docs/load-shedding.md.
import { numberIn, numberOr, section, type Fields, type Reader } from './policy-schema';

export interface ConnectionLimitsPolicy {
  /** A broker's limit is its declared capacity.connections times this. */
  readonly headroom: number;
  /** Envoy's per-host max_connections, per Envoy, as written; `auto` derives it from capacity. */
  readonly perHost: number | 'auto';
  /** Envoy's cluster max_connections, per Envoy, as written; `auto` derives it from capacity. */
  readonly cluster: number | 'auto';
  /** Envoys sharing the clients evenly: derived limits are divided by this. */
  readonly envoys: number;
  /** Connections waiting for a broker (being set up, or routed to a full one); beyond it new clients are closed. */
  readonly pending: number;
}

export interface ConnectRatePolicy {
  /** New connections per second per Envoy; `off` admits all. */
  readonly perSec: number | 'off';
  /** Tokens the bucket saves up: how many connections may arrive at once; `auto` = one second's worth. */
  readonly burst: number | 'auto';
}

export interface LimitsPolicy {
  readonly connections: ConnectionLimitsPolicy;
  readonly connectRate: ConnectRatePolicy;
  /** Envoy closes a client connection this old (the client reconnects, maybe elsewhere); `off` = never. */
  readonly maxConnectionDurationMs: number | 'off';
}

export const DEFAULT_LIMITS: LimitsPolicy = {
  connections: { headroom: 1.5, perHost: 'auto', cluster: 'auto', envoys: 1, pending: 1024 },
  connectRate: { perSec: 'off', burst: 'auto' },
  maxConnectionDurationMs: 'off',
};

const UINT32 = 0xffff_ffff;
const MINUTE_MS = 60_000;

const count = (min: number, max: number): Reader<number> => numberIn({ min, max, integer: true });
const countOrAuto = numberOr('auto', { min: 1, max: UINT32, integer: true });

const connectionFields: Fields<ConnectionLimitsPolicy> = {
  headroom: numberIn({ min: 1, max: 100 }),
  perHost: countOrAuto,
  cluster: countOrAuto,
  envoys: count(1, 10_000),
  pending: count(1, UINT32),
};

export const LIMITS: Reader<LimitsPolicy> = section<LimitsPolicy>(
  {
    connections: section(connectionFields, DEFAULT_LIMITS.connections),
    connectRate: section(
      { perSec: numberOr('off', { min: 1, max: 1_000_000, integer: true }), burst: countOrAuto },
      DEFAULT_LIMITS.connectRate,
    ),
    // At least a minute: shorter cycles every client constantly, and an hour meant in
    // seconds (3600) fails loudly instead of closing everyone every 3.6 s. At most 30 days.
    maxConnectionDurationMs: numberOr('off', { min: MINUTE_MS, max: 30 * 24 * 60 * MINUTE_MS, integer: true }),
  },
  DEFAULT_LIMITS,
);

/** Cross-field checks of the limits section; `add` attaches the line. */
export function checkLimits(l: LimitsPolicy, add: (code: string, path: string, message: string) => void): void {
  const { perHost, cluster } = l.connections;
  if (perHost !== 'auto' && cluster !== 'auto' && perHost > cluster) {
    add(
      'POLICY_LIMITS_ORDER',
      'limits.connections.perHost',
      `perHost ${perHost} is above cluster ${cluster}; one broker can never get more than all together`,
    );
  }
  const { perSec, burst } = l.connectRate;
  // Envoy refills in whole tokens at intervals of at most a second; a bucket smaller than
  // one second's worth could not carry perSec.
  if (perSec !== 'off' && burst !== 'auto' && burst < perSec) {
    add(
      'POLICY_VALUE_RANGE',
      'limits.connectRate.burst',
      `burst ${burst} is below perSec ${perSec}; the bucket must hold at least one second's worth`,
    );
  }
}
