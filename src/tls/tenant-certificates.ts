// The SNI tenants' certificates (the policy's tenants section): one WatchedPair per tenant,
// kept in step with the policy, reading its PEM files or its Kubernetes Secret (a source
// made by the caller: src/tls imports no Kubernetes). A tenant whose certificate is bad is
// not served (its chain is left out) and says why in /status; the other tenants are
// untouched. A tenant whose certificate goes bad later keeps its last good one, as
// listener.tls does.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { TenantPolicy } from '../config/policy';
import type { Logger } from '../util/log';
import type { Problem } from '../util/result';
import type { PemSource } from './pem-source';
import { WatchedPair, type PairMaterial, type PairStatus } from './watched-pair';

/** The Secrets a tenant names (`tenants.<name>.secret`, `.clientCaSecret`), as the policy gives them. */
export interface TenantSecrets {
  readonly secret: string;
  readonly clientCaSecret?: string;
}

export interface TenantCertificateStatus {
  /** Absent while the tenant has never had a good certificate: it is not served. */
  readonly certificate?: PairStatus;
  /** Why the newest files were refused, if they were. */
  readonly refused: readonly Problem[];
}

interface Entry {
  readonly key: string;
  /** Absent when the tenant's source cannot be watched at all (firstProblems says why). */
  readonly pair?: WatchedPair;
  readonly firstProblems: readonly Problem[];
}

export class TenantCertificates {
  private readonly entries = new Map<string, Entry>();
  private running = false;
  private readonly refusals: Counter<'tenant' | 'code'> | undefined;

  constructor(
    private readonly opts: {
      readonly logger: Logger;
      readonly registry?: Registry;
      /** A tenant's certificate changed (or arrived late): publish it. */
      readonly onChange: () => void;
      readonly refreshMs?: number;
      readonly nowMs?: () => number;
      /** The watch of a tenant's Secrets; absent, a tenant naming a Secret is refused. */
      readonly secretSource?: (tenant: string, secrets: TenantSecrets) => PemSource;
      /** PEM bundle every tenant's chain must verify against (listener.tls.issuerCaFile); absent: not checked. */
      readonly issuerCa?: string;
    },
  ) {
    if (opts.registry) {
      this.refusals = new Counter({
        name: 'mqtt_xds_tenant_tls_refused_total',
        help: "Tenants' certificate reads refused (the last good certificate stays in force), by tenant and problem code",
        labelNames: ['tenant', 'code'],
        registers: [opts.registry],
      });
      const entries = this.entries;
      new Gauge({
        name: 'mqtt_xds_tenant_tls_certificate_expiry_timestamp_seconds',
        help: "When each tenant's certificate in force expires (Unix seconds)",
        labelNames: ['tenant'],
        registers: [opts.registry],
        collect() {
          this.reset();
          for (const [tenant, e] of entries) {
            const m = e.pair?.material();
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
        e.pair?.stop();
        this.entries.delete(name);
      }
    }
    for (const [name, spec] of Object.entries(tenants)) {
      if (this.entries.has(name)) continue;
      const entry = this.entryFor(name, spec);
      this.entries.set(name, entry);
      if (this.running) entry.pair?.start();
    }
  }

  private entryFor(name: string, spec: TenantPolicy): Entry {
    const setting = `tenants.${name}`;
    const common = {
      setting,
      what: `tenant ${name} TLS`,
      metricPrefix: 'mqtt_xds_tenant_tls',
      logger: this.opts.logger.child({ tenant: name }),
      ...(this.opts.refreshMs === undefined ? {} : { refreshMs: this.opts.refreshMs }),
      ...(this.opts.nowMs === undefined ? {} : { nowMs: this.opts.nowMs }),
      onChange: () => this.opts.onChange(),
      onRefused: (problems: readonly Problem[]) => this.counted(name, problems),
      ...(this.opts.issuerCa === undefined ? {} : { issuerCa: this.opts.issuerCa }),
    };
    if (spec.secret !== undefined) {
      const { secretSource } = this.opts;
      if (!secretSource) {
        const message = `tenant ${name} names a Secret, but this control plane has no Kubernetes access; give certFile and keyFile instead`;
        this.opts.logger.error(message);
        const problems = [{ code: 'TLS_SECRET_WATCH', path: `${setting}.secret`, message }];
        this.counted(name, problems);
        return { key: keyOf(spec), firstProblems: problems };
      }
      const secrets = { secret: spec.secret, ...(spec.clientCaSecret === undefined ? {} : { clientCaSecret: spec.clientCaSecret }) };
      // Pushed by its watch once started: nothing to load now, and the chain waits for it.
      return { key: keyOf(spec), pair: new WatchedPair({ ...common, source: secretSource(name, secrets) }), firstProblems: [] };
    }
    const files = {
      certFile: spec.certFile ?? '',
      keyFile: spec.keyFile ?? '',
      ...(spec.clientCaFile ? { clientCaFile: spec.clientCaFile } : {}),
    };
    const pair = new WatchedPair({ ...common, files });
    const loaded = pair.load();
    if (!loaded.ok) {
      this.counted(name, loaded.problems);
      this.opts.logger.error(`tenant ${name}: certificate refused; the tenant is not served until it is good`, {
        problems: loaded.problems.map((p) => `${p.code} ${p.path}: ${p.message}`),
      });
    }
    return { key: keyOf(spec), pair, firstProblems: loaded.ok ? [] : loaded.problems };
  }

  private counted(tenant: string, problems: readonly Problem[]): void {
    for (const p of problems) this.refusals?.inc({ tenant, code: p.code });
  }

  /** The tenant's certificate in force, or undefined: not served. */
  material(tenant: string): PairMaterial | undefined {
    return this.entries.get(tenant)?.pair?.material();
  }

  status(): Record<string, TenantCertificateStatus> {
    const out: Record<string, TenantCertificateStatus> = {};
    for (const [name, e] of this.entries) {
      const certificate = e.pair?.status();
      // Not served yet: why the files were refused at the start, or the Secret's newest problems.
      const waiting = e.firstProblems.length > 0 ? e.firstProblems : (e.pair?.pendingProblems() ?? []);
      out[name] = certificate ? { certificate, refused: certificate.refused } : { refused: waiting };
    }
    return out;
  }

  start(): void {
    this.running = true;
    for (const e of this.entries.values()) e.pair?.start();
  }

  stop(): void {
    this.running = false;
    for (const e of this.entries.values()) e.pair?.stop();
  }
}

const keyOf = (t: TenantPolicy): string =>
  JSON.stringify([t.certFile ?? '', t.keyFile ?? '', t.clientCaFile ?? '', t.secret ?? '', t.clientCaSecret ?? '']);
