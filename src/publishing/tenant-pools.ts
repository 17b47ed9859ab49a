// Which brokers each tenant's pool really holds. A pool names brokers or selects them by
// label; discovery decides which exist. A name discovery does not know (a typo, a broker scaled away) leaves the
// tenant with fewer brokers than its operator wrote, and a pool of none refuses all of the
// tenant's clients: both are said in /status, logged when they change, and counted.
import { Gauge, type Registry } from 'prom-client';
import type { TenantPolicy } from '../config/policy';
import type { Broker } from '../domain';
import type { Logger } from '../util/log';

export interface TenantPoolStatus {
  /** Brokers of the pool that discovery knows: the tenant's cluster holds these. */
  readonly brokers: number;
  /** Names the pool lists that discovery does not know; absent when there are none. */
  readonly unknown?: readonly string[];
}

/**
 * The names of the brokers in a tenant's pool: those it names, or those carrying every label
 * of its brokerLabels; undefined when it has neither (every broker).
 */
export function poolMembers(spec: TenantPolicy, brokers: readonly Broker[]): ReadonlySet<string> | undefined {
  if (spec.brokers !== undefined) return new Set(spec.brokers);
  const want = spec.brokerLabels;
  if (want === undefined) return undefined;
  const entries = Object.entries(want);
  return new Set(brokers.filter((b) => entries.every(([k, v]) => b.labels?.[k] === v)).map((b) => b.name));
}

/** Each tenant's pool against the discovered brokers. A tenant without `brokers` or `brokerLabels` uses every broker. */
export function tenantPools(tenants: Readonly<Record<string, TenantPolicy>>, brokers: readonly Broker[]): Record<string, TenantPoolStatus> {
  const known = new Set(brokers.map((b) => b.name));
  const out: Record<string, TenantPoolStatus> = {};
  for (const name of Object.keys(tenants).sort()) {
    const pool = tenants[name].brokers;
    if (pool === undefined) {
      out[name] = { brokers: poolMembers(tenants[name], brokers)?.size ?? known.size };
      continue;
    }
    const unknown = pool.filter((b) => !known.has(b));
    out[name] = { brokers: pool.length - unknown.length, ...(unknown.length > 0 ? { unknown } : {}) };
  }
  return out;
}

/** Follows the pools as the policy and the brokers change: a warning when one loses a broker, the gauge always. */
export class TenantPoolWatch {
  private said = '';

  constructor(
    private readonly opts: {
      readonly logger: Logger;
      readonly registry?: Registry;
      readonly tenants: () => Readonly<Record<string, TenantPolicy>>;
      readonly brokers: () => readonly Broker[];
    },
  ) {
    if (opts.registry) {
      const pools = (): Record<string, TenantPoolStatus> => this.status();
      new Gauge({
        name: 'mqtt_xds_tenant_pool_brokers',
        help: "Brokers in each tenant's pool that discovery knows (0: the tenant's clients have nowhere to go)",
        labelNames: ['tenant'],
        registers: [opts.registry],
        collect() {
          this.reset();
          for (const [tenant, p] of Object.entries(pools())) this.set({ tenant }, p.brokers);
        },
      });
    }
  }

  status(): Record<string, TenantPoolStatus> {
    return tenantPools(this.opts.tenants(), this.opts.brokers());
  }

  /** Logs the pools that name unknown brokers, once each time that changes. */
  check(): void {
    const short = Object.entries(this.status()).filter(([, p]) => p.unknown !== undefined || p.brokers === 0);
    const text = JSON.stringify(short);
    if (text === this.said) return;
    this.said = text;
    for (const [tenant, p] of short) {
      this.opts.logger.warn(
        p.brokers === 0
          ? `tenant ${tenant}: no broker of its pool is known; its clients are refused until one is`
          : `tenant ${tenant}: its pool names brokers discovery does not know; they are left out`,
        { tenant, unknown: p.unknown ?? [], brokers: p.brokers },
      );
    }
  }
}
