// TLS for the xDS port: the server certificate (and, for mTLS, the client CA) from PEM
// files, checked before use and re-read while running. A rotation reaches new handshakes
// only; established Envoy streams keep their connection. A bad file is refused, counted,
// and the last good pair stays in force.
import * as grpc from '@grpc/grpc-js';
import type { Registry } from 'prom-client';
import { WatchedPair, type PairMaterial } from '../tls';
import type { Logger } from '../util/log';
import { ok, type Problem, type Result } from '../util/result';

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

export class XdsTlsSource {
  private creds: grpc.ServerCredentials | undefined;
  private readonly provider = new MaterialProvider();
  private readonly files: WatchedPair;

  constructor(opts: XdsTlsOptions) {
    this.files = new WatchedPair({
      files: opts.files,
      setting: 'xds.tls',
      what: 'xDS TLS',
      metricPrefix: 'mqtt_xds_xds_tls',
      logger: opts.logger,
      ...(opts.registry ? { registry: opts.registry } : {}),
      ...(opts.refreshMs === undefined ? {} : { refreshMs: opts.refreshMs }),
      ...(opts.nowMs ? { nowMs: opts.nowMs } : {}),
      onChange: (m) => this.provider.set(m),
    });
  }

  /** Reads and checks the files once; the control plane does not start without a good pair. */
  load(): Result<grpc.ServerCredentials> {
    const m = this.files.load();
    if (!m.ok) return m;
    this.provider.set(m.value);
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
    this.files.start();
  }

  stop(): void {
    this.files.stop();
  }

  status(): XdsTlsStatus | undefined {
    const s = this.files.status();
    return s && { ...s, mutualTls: this.files.material()?.ca !== undefined };
  }

  /** Re-reads the files; a changed, good pair goes to new handshakes at once. */
  refresh(): void {
    this.files.refresh();
  }
}

/** grpc-js asks a provider for the identity and CA; each update reaches new handshakes. */
class MaterialProvider implements grpc.experimental.CertificateProvider {
  private readonly identity = new Set<grpc.experimental.IdentityCertificateUpdateListener>();
  private readonly ca = new Set<grpc.experimental.CaCertificateUpdateListener>();
  private latest: PairMaterial | undefined;

  set(m: PairMaterial): void {
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
