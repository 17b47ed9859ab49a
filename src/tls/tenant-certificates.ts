// The SNI tenants' certificates (the policy's tenants section): one WatchedPair per tenant,
// kept in step with the policy. A tenant whose files are bad is not served (its chain is left
// out) and says why in /status; the other tenants are untouched. A tenant whose files go
// bad later keeps its last good certificate, as listener.tls does.
import { Gauge, type Registry } from 'prom-client';
import type { TenantPolicy } from '../config/policy';
import type { Logger } from '../util/log';
import type { Problem } from '../util/result';
import { WatchedPair, type PairMaterial, type PairStatus } from './watched-pair';

export interface TenantCertificateStatus {
  /** Absent while the tenant has never had a good certificate: it is not served. */
  readonly certificate?: PairStatus;
  /** Why the newest files were refused, if they were. */
  readonly refused: readonly Problem[];
}

interface Entry {
  readonly key: string;
  readonly pair: WatchedPair;
  firstProblems: readonly Problem[];
}

export class TenantCertificates {
  private readonly entries = new Map<string, Entry>();
  private running = false;

  constructor(
    private readonly opts: {
      readonly logger: Logger;
      readonly registry?: Registry;
      /** A tenant's certificate changed (or arrived late): publish it. */
      readonly onChange: () => void;
      readonly refreshMs?: number;
      readonly nowMs?: () => number;
    },
  ) {
    if (opts.registry) {
      const entries = this.entries;
      new Gauge({
        name: 'mqtt_xds_tenant_tls_certificate_expiry_timestamp_seconds',
        help: "When each tenant's certificate in force expires (Unix seconds)",
        labelNames: ['tenant'],
        registers: [opts.registry],
        collect() {
          this.reset();
          for (const [tenant, e] of entries) {
            const m = e.pair.material();
            if (m) this.set({ tenant }, m.pair.notAfterMs / 1000);
          }
        },
      });
    }
  }

  /** Follows the policy's tenants: new ones are read now, changed files re-read, removed ones forgotten. */
  sync(tenants: Readonly<Record<string, TenantPolicy>>): void {
    for (const [name, e] of this.entries) {
      const spec = tenants[name];
      if (spec === undefined || keyOf(spec) !== e.key) {
        e.pair.stop();
        this.entries.delete(name);
      }
    }
    for (const [name, spec] of Object.entries(tenants)) {
      if (this.entries.has(name)) continue;
      const pair = new WatchedPair({
        files: { certFile: spec.certFile, keyFile: spec.keyFile, ...(spec.clientCaFile ? { clientCaFile: spec.clientCaFile } : {}) },
        setting: `tenants.${name}`,
        what: `tenant ${name} TLS`,
        metricPrefix: 'mqtt_xds_tenant_tls',
        logger: this.opts.logger.child({ tenant: name }),
        ...(this.opts.refreshMs === undefined ? {} : { refreshMs: this.opts.refreshMs }),
        ...(this.opts.nowMs === undefined ? {} : { nowMs: this.opts.nowMs }),
        onChange: () => this.opts.onChange(),
      });
      const loaded = pair.load();
      const entry: Entry = { key: keyOf(spec), pair, firstProblems: loaded.ok ? [] : loaded.problems };
      if (!loaded.ok) {
        this.opts.logger.error(`tenant ${name}: certificate refused; the tenant is not served until it is good`, {
          problems: loaded.problems.map((p) => `${p.code} ${p.path}: ${p.message}`),
        });
      }
      this.entries.set(name, entry);
      if (this.running) pair.start();
    }
  }

  /** The tenant's certificate in force, or undefined: not served. */
  material(tenant: string): PairMaterial | undefined {
    return this.entries.get(tenant)?.pair.material();
  }

  status(): Record<string, TenantCertificateStatus> {
    const out: Record<string, TenantCertificateStatus> = {};
    for (const [name, e] of this.entries) {
      const certificate = e.pair.status();
      out[name] = certificate ? { certificate, refused: certificate.refused } : { refused: e.firstProblems };
    }
    return out;
  }

  start(): void {
    this.running = true;
    for (const e of this.entries.values()) e.pair.start();
  }

  stop(): void {
    this.running = false;
    for (const e of this.entries.values()) e.pair.stop();
  }
}

const keyOf = (t: TenantPolicy): string => JSON.stringify([t.certFile, t.keyFile, t.clientCaFile ?? '']);
