// A certificate, its key and optionally a CA bundle, from PEM files that are re-read while
// running: each read is checked before use, a bad read is refused (logged and counted once
// it is seen twice in a row) and the last good material stays in force. The xDS server's
// certificate and the MQTT listener's certificate are both one of these.
import { createHash } from 'node:crypto';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../util/log';
import { fail, formatProblems, ok, type Problem, type Result } from '../util/result';
import { checkPair, parseCertificates, type CheckedPair } from './pem-check';
import { readPem } from './read-pem';
import { RefusalReport } from './refusal-report';

export interface PairFiles {
  readonly certFile: string;
  readonly keyFile: string;
  /** A CA bundle read and checked with the pair (the xDS server's client CA); '' or absent: none. */
  readonly clientCaFile?: string;
}

export interface WatchedPairOptions {
  readonly files: PairFiles;
  /** The settings' prefix, named in every problem: `xds.tls` gives `xds.tls.certFile`. */
  readonly setting: string;
  /** What the certificate is, for log lines: "xDS TLS", "MQTT listener TLS". */
  readonly what: string;
  /** Metric name prefix: `<prefix>_certificate_expiry_timestamp_seconds`, `<prefix>_refused_total`. */
  readonly metricPrefix: string;
  readonly logger: Logger;
  readonly registry?: Registry;
  /** How often the files are re-read. Default 2000 ms. */
  readonly refreshMs?: number;
  readonly nowMs?: () => number;
  /** A changed, good pair is in force (not called for the first load). */
  readonly onChange?: (m: PairMaterial) => void;
}

export interface PairMaterial {
  readonly pair: CheckedPair;
  readonly ca?: string;
  /** Changes exactly when a file's content does. */
  readonly hash: string;
}

export interface PairStatus {
  readonly serial: string;
  readonly subject: string;
  readonly notAfter: string;
  /** The problems of the newest refused files, if they are still on disk. */
  readonly refused: readonly Problem[];
}

export class WatchedPair {
  private current: PairMaterial | undefined;
  private timer: NodeJS.Timeout | undefined;
  private refused: readonly Problem[] = [];
  private readonly report = new RefusalReport();
  private readonly now: () => number;
  private readonly expiry: Gauge | undefined;
  private readonly refusals: Counter<'code'> | undefined;

  constructor(private readonly opts: WatchedPairOptions) {
    this.now = opts.nowMs ?? (() => Date.now());
    if (opts.registry) {
      this.expiry = new Gauge({
        name: `${opts.metricPrefix}_certificate_expiry_timestamp_seconds`,
        help: `When the ${opts.what} certificate in force expires (Unix seconds)`,
        registers: [opts.registry],
      });
      this.refusals = new Counter({
        name: `${opts.metricPrefix}_refused_total`,
        help: `${opts.what} files refused (the last good certificate stays in force), by problem code`,
        labelNames: ['code'],
        registers: [opts.registry],
      });
    }
  }

  /** Reads and checks the files once; the control plane does not start without a good pair. */
  load(): Result<PairMaterial> {
    const m = this.read();
    if (!m.ok) return m;
    this.apply(m.value);
    return m;
  }

  start(): void {
    this.timer = setInterval(() => this.refresh(), this.opts.refreshMs ?? 2000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  material(): PairMaterial | undefined {
    return this.current;
  }

  status(): PairStatus | undefined {
    if (!this.current) return undefined;
    const { pair } = this.current;
    return {
      serial: pair.serial,
      subject: pair.subject.replace(/\n/g, ', '),
      notAfter: new Date(pair.notAfterMs).toISOString(),
      refused: this.refused,
    };
  }

  /** Re-reads the files; a changed, good pair is in force at once. */
  refresh(): void {
    const m = this.read();
    if (!m.ok) {
      if (!this.report.failed(m.problems)) return;
      this.refused = m.problems;
      for (const p of m.problems) this.refusals?.inc({ code: p.code });
      this.opts.logger.error(`${this.opts.what} files refused; the last good certificate stays in force`, {
        problems: formatProblems(m.problems),
      });
      return;
    }
    this.report.succeeded();
    this.refused = [];
    if (m.value.hash === this.current?.hash) return;
    this.apply(m.value);
    this.opts.onChange?.(m.value);
  }

  private apply(m: PairMaterial): void {
    const first = this.current === undefined;
    this.current = m;
    this.expiry?.set(m.pair.notAfterMs / 1000);
    this.opts.logger.info(first ? `${this.opts.what} certificate loaded` : `${this.opts.what} certificate rotated; new handshakes use it`, {
      serial: m.pair.serial,
      notAfter: new Date(m.pair.notAfterMs).toISOString(),
      ...(m.ca === undefined ? {} : { clientCa: true }),
    });
  }

  private read(): Result<PairMaterial> {
    const { certFile, keyFile, clientCaFile } = this.opts.files;
    const s = this.opts.setting;
    const cert = readPem(certFile, `${s}.certFile`);
    const key = readPem(keyFile, `${s}.keyFile`);
    const ca = clientCaFile === undefined || clientCaFile === '' ? undefined : readPem(clientCaFile, `${s}.clientCaFile`);
    const problems = [cert, key, ...(ca ? [ca] : [])].flatMap((r) => (r.ok ? [] : r.problems));
    if (!cert.ok || !key.ok || (ca && !ca.ok) || problems.length > 0) return fail(problems);
    if (ca?.ok) {
      const cas = parseCertificates(ca.value, `${s}.clientCaFile`);
      if (!cas.ok) return cas;
    }
    // A client CA verifies the peers, not this pair: the pair's chain is not checked against it.
    const pair = checkPair({ certPem: cert.value, keyPem: key.value, nowMs: this.now(), path: `${s}.certFile` });
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
