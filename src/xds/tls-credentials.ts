// TLS for the xDS port: the server certificate (and, for mTLS, the client CA) from PEM
// files, checked before use and re-read while running. A rotation reaches new handshakes
// only; established Envoy streams keep their connection. A bad file is refused, counted,
// and the last good pair stays in force.
import { createHash } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { Counter, Gauge, type Registry } from 'prom-client';
import { checkPair, parseCertificates, readPem, RefusalReport, type CheckedPair } from '../tls';
import type { Logger } from '../util/log';
import { fail, formatProblems, ok, type Problem, type Result } from '../util/result';

export interface XdsTlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  /** Client CA bundle: when set, every Envoy must present a certificate it signed (mTLS). */
  readonly clientCaFile?: string;
}

export interface XdsTlsOptions {
  readonly files: XdsTlsFiles;
  readonly logger: Logger;
  readonly registry?: Registry;
  /** How often the files are re-read. */
  readonly refreshMs?: number;
  readonly nowMs?: () => number;
}

export interface XdsTlsStatus {
  readonly serial: string;
  readonly subject: string;
  readonly notAfter: string;
  readonly mutualTls: boolean;
  /** The problems of the newest refused files, if they are still on disk. */
  readonly refused: readonly Problem[];
}

interface Material {
  readonly pair: CheckedPair;
  readonly ca?: string;
  readonly hash: string;
}

export class XdsTlsSource {
  private current: Material | undefined;
  private creds: grpc.ServerCredentials | undefined;
  private timer: NodeJS.Timeout | undefined;
  private refused: readonly Problem[] = [];
  private readonly report = new RefusalReport();
  private readonly now: () => number;
  private readonly expiry: Gauge | undefined;
  private readonly refusals: Counter<'code'> | undefined;
  private readonly provider = new MaterialProvider();

  constructor(private readonly opts: XdsTlsOptions) {
    this.now = opts.nowMs ?? (() => Date.now());
    if (opts.registry) {
      this.expiry = new Gauge({
        name: 'mqtt_xds_xds_tls_certificate_expiry_timestamp_seconds',
        help: 'When the xDS server certificate in force expires (Unix seconds)',
        registers: [opts.registry],
      });
      this.refusals = new Counter({
        name: 'mqtt_xds_xds_tls_refused_total',
        help: 'xDS TLS files refused (the last good certificate stays in force), by problem code',
        labelNames: ['code'],
        registers: [opts.registry],
      });
    }
  }

  /** Reads and checks the files once; the control plane does not start without a good pair. */
  load(): Result<grpc.ServerCredentials> {
    const m = this.read();
    if (!m.ok) return m;
    this.apply(m.value);
    const mutual = m.value.ca !== undefined;
    // grpc-js 1.14 passes its first argument on as the identity provider, whatever its
    // declared name says; one provider serves both here, so the order cannot matter.
    this.creds = grpc.experimental.createCertificateProviderServerCredentials(this.provider, mutual ? this.provider : null, mutual);
    return ok(this.creds);
  }

  /** Resolves once grpc-js has the certificate: await it after binding, before accepting Envoys. */
  delivered(): Promise<void> {
    return new Promise((resolve) => setImmediate(resolve));
  }

  start(): void {
    const every = this.opts.refreshMs ?? 2000;
    this.timer = setInterval(() => this.refresh(), every);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  status(): XdsTlsStatus | undefined {
    if (!this.current) return undefined;
    const { pair } = this.current;
    return {
      serial: pair.serial,
      subject: pair.subject.replace(/\n/g, ', '),
      notAfter: new Date(pair.notAfterMs).toISOString(),
      mutualTls: this.current.ca !== undefined,
      refused: this.refused,
    };
  }

  /** Re-reads the files; a changed, good pair goes to new handshakes at once. */
  refresh(): void {
    const m = this.read();
    if (!m.ok) {
      if (!this.report.failed(m.problems)) return;
      this.refused = m.problems;
      for (const p of m.problems) this.refusals?.inc({ code: p.code });
      this.opts.logger.error('xDS TLS files refused; the last good certificate stays in force', { problems: formatProblems(m.problems) });
      return;
    }
    this.report.succeeded();
    this.refused = [];
    if (m.value.hash === this.current?.hash) return;
    this.apply(m.value);
  }

  private apply(m: Material): void {
    const first = this.current === undefined;
    this.current = m;
    this.provider.set(m);
    this.expiry?.set(m.pair.notAfterMs / 1000);
    this.opts.logger.info(first ? 'xDS TLS certificate loaded' : 'xDS TLS certificate rotated; new handshakes use it', {
      serial: m.pair.serial,
      notAfter: new Date(m.pair.notAfterMs).toISOString(),
      mutualTls: m.ca !== undefined,
    });
  }

  private read(): Result<Material> {
    const { certFile, keyFile, clientCaFile } = this.opts.files;
    const cert = readPem(certFile, 'xds.tls.certFile');
    const key = readPem(keyFile, 'xds.tls.keyFile');
    const ca = clientCaFile === undefined || clientCaFile === '' ? undefined : readPem(clientCaFile, 'xds.tls.clientCaFile');
    const problems = [cert, key, ...(ca ? [ca] : [])].flatMap((r) => (r.ok ? [] : r.problems));
    if (!cert.ok || !key.ok || (ca && !ca.ok) || problems.length > 0) return fail(problems);
    if (ca?.ok) {
      const cas = parseCertificates(ca.value, 'xds.tls.clientCaFile');
      if (!cas.ok) return cas;
    }
    // The client CA verifies Envoys, not this server's chain: the server chain is not checked against it.
    const pair = checkPair({ certPem: cert.value, keyPem: key.value, nowMs: this.now(), path: 'xds.tls.certFile' });
    if (!pair.ok) return pair;
    const hash = createHash('sha256')
      .update(cert.value)
      .update('\0')
      .update(key.value)
      .update('\0')
      .update(ca?.ok ? ca.value : '')
      .digest('hex');
    return ok({ pair: pair.value, ...(ca?.ok ? { ca: ca.value } : {}), hash });
  }
}

/** grpc-js asks a provider for the identity and CA; each update reaches new handshakes. */
class MaterialProvider implements grpc.experimental.CertificateProvider {
  private readonly identity = new Set<grpc.experimental.IdentityCertificateUpdateListener>();
  private readonly ca = new Set<grpc.experimental.CaCertificateUpdateListener>();
  private latest: Material | undefined;

  set(m: Material): void {
    this.latest = m;
    for (const l of this.identity) l(this.identityUpdate());
    for (const l of this.ca) l(this.caUpdate());
  }

  // The first update goes out on the next tick: grpc-js registers its server's watcher only
  // after adding these listeners, and an update delivered synchronously would be lost.
  addIdentityCertificateListener(l: grpc.experimental.IdentityCertificateUpdateListener): void {
    this.identity.add(l);
    setImmediate(() => {
      if (this.latest && this.identity.has(l)) l(this.identityUpdate());
    });
  }

  removeIdentityCertificateListener(l: grpc.experimental.IdentityCertificateUpdateListener): void {
    this.identity.delete(l);
  }

  addCaCertificateListener(l: grpc.experimental.CaCertificateUpdateListener): void {
    this.ca.add(l);
    setImmediate(() => {
      if (this.latest && this.ca.has(l)) l(this.caUpdate());
    });
  }

  removeCaCertificateListener(l: grpc.experimental.CaCertificateUpdateListener): void {
    this.ca.delete(l);
  }

  private identityUpdate(): grpc.experimental.IdentityCertificateUpdate | null {
    const m = this.latest;
    return m ? { certificate: Buffer.from(m.pair.certChain), privateKey: Buffer.from(m.pair.privateKey) } : null;
  }

  private caUpdate(): grpc.experimental.CaCertificateUpdate | null {
    const ca = this.latest?.ca;
    return ca === undefined ? null : { caCertificate: Buffer.from(ca) };
  }
}
