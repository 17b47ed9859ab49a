// A certificate, its key and optionally a CA bundle, from a source that changes while
// running (PEM files re-read on a timer, or a Kubernetes Secret pushed by its watch): each
// read is checked before use, a bad read is refused (logged and counted) and the last good
// material stays in force. The xDS server's certificate and the MQTT listener's
// certificate are both one of these.
import { createHash } from 'node:crypto';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../util/log';
import { formatProblems, ok, type Problem, type Result } from '../util/result';
import { checkPair, parseCertificates, type CheckedPair } from './pem-check';
import { filePemSource, type PairFiles, type PemSource, type PemTexts } from './pem-source';
import { RefusalReport } from './refusal-report';

interface WatchedPairCommon {
  /** The settings' prefix, named in every problem: `xds.tls` gives `xds.tls.certFile`. */
  readonly setting: string;
  /** What the certificate is, for log lines: "xDS TLS", "MQTT listener TLS". */
  readonly what: string;
  /** Metric name prefix: `<prefix>_certificate_expiry_timestamp_seconds`, `<prefix>_refused_total`. */
  readonly metricPrefix: string;
  readonly logger: Logger;
  readonly registry?: Registry;
  /** How often files are re-read. Default 2000 ms. */
  readonly refreshMs?: number;
  readonly nowMs?: () => number;
  /** A changed, good pair is in force (not called for the one load() read). */
  readonly onChange?: (m: PairMaterial) => void;
  /** A read was refused and reported (once per refusal), for a caller that counts refusals itself. */
  readonly onRefused?: (problems: readonly Problem[]) => void;
  /** PEM bundle this pair's chain must verify against (listener.tls.issuerCaFile); absent: not checked. */
  readonly issuerCa?: string;
}

/** PEM files under `setting` (re-read every refreshMs), or any other source of the texts. */
export type WatchedPairOptions = WatchedPairCommon & ({ readonly files: PairFiles } | { readonly source: PemSource });

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
  private refused: readonly Problem[] = [];
  /** The newest read's problems, reported or not; why nothing is in force yet. */
  private latestProblems: readonly Problem[] = [];
  private readonly source: PemSource;
  private readonly report: RefusalReport;
  private readonly now: () => number;
  private readonly expiry: Gauge | undefined;
  private readonly refusals: Counter<'code'> | undefined;

  constructor(private readonly opts: WatchedPairOptions) {
    this.now = opts.nowMs ?? (() => Date.now());
    this.source = 'source' in opts ? opts.source : filePemSource(opts.files, opts.setting, opts.refreshMs);
    this.report = new RefusalReport(this.source.piecewise ? 2 : 1);
    if (opts.registry) {
      this.expiry = new Gauge({
        name: `${opts.metricPrefix}_certificate_expiry_timestamp_seconds`,
        help: `When the ${opts.what} certificate in force expires (Unix seconds)`,
        registers: [opts.registry],
      });
      this.refusals = new Counter({
        name: `${opts.metricPrefix}_refused_total`,
        help: `${opts.what} ${this.source.noun} refused (the last good certificate stays in force), by problem code`,
        labelNames: ['code'],
        registers: [opts.registry],
      });
    }
  }

  /** Reads and checks the files once; the control plane does not start without a good pair. */
  load(): Result<PairMaterial> {
    // A bug, not an input error: only a source read on demand is loaded before the start.
    if (!this.source.read) throw new Error(`${this.opts.what}: ${this.source.noun} cannot be read on demand; start() it instead`);
    const m = this.check(this.source.read());
    if (!m.ok) return m;
    this.apply(m.value);
    return m;
  }

  start(): void {
    this.source.start({ offer: (read) => this.take(read), unreachable: (problems) => this.unreachable(problems) });
  }

  stop(): void {
    this.source.stop();
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

  /**
   * Why nothing is in force yet, for readiness; undefined once a good pair is (and from
   * then on: a later bad read leaves the last good one in force).
   */
  waiting(): string | undefined {
    if (this.current) return undefined;
    const why = this.latestProblems.length > 0 ? `: ${formatProblems(this.latestProblems)}` : '';
    return `${this.opts.what}: no good certificate from ${this.source.noun} yet${why}`;
  }

  /** The newest read's problems while nothing is in force yet; empty once a good pair is. */
  pendingProblems(): readonly Problem[] {
    return this.current ? [] : this.latestProblems;
  }

  /** Re-reads the files; a changed, good pair is in force at once. */
  refresh(): void {
    if (this.source.read) this.take(this.source.read());
  }

  private take(read: Result<PemTexts>): void {
    const m = this.check(read);
    if (!m.ok) {
      this.latestProblems = m.problems;
      if (!this.report.failed(m.problems)) return;
      this.refused = m.problems;
      for (const p of m.problems) this.refusals?.inc({ code: p.code });
      this.opts.onRefused?.(m.problems);
      const outcome = this.current ? 'the last good certificate stays in force' : 'nothing is served until a good certificate arrives';
      this.opts.logger.error(`${this.opts.what} ${this.source.noun} refused; ${outcome}`, { problems: formatProblems(m.problems) });
      this.source.refused?.(m.problems);
      return;
    }
    this.report.succeeded();
    this.refused = [];
    this.latestProblems = [];
    if (m.value.hash === this.current?.hash) return;
    this.apply(m.value);
    this.opts.onChange?.(m.value);
  }

  private unreachable(problems: readonly Problem[]): void {
    // Not a refusal (nothing was read): before the first good pair it is why we wait.
    if (!this.current) this.latestProblems = problems;
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

  private check(read: Result<PemTexts>): Result<PairMaterial> {
    if (!read.ok) return read;
    const { cert, key, ca } = read.value;
    const paths = this.source.paths;
    if (ca !== undefined) {
      const cas = parseCertificates(ca, paths.ca);
      if (!cas.ok) return cas;
    }
    // A client CA verifies the peers, not this pair: the pair's chain is checked against the
    // issuer CA (listener.tls.issuerCaFile) only.
    const pair = checkPair({
      certPem: cert,
      keyPem: key,
      nowMs: this.now(),
      path: paths.cert,
      ...(this.opts.issuerCa === undefined ? {} : { caPem: this.opts.issuerCa }),
    });
    if (!pair.ok) return pair;
    const hash = createHash('sha256')
      .update(cert)
      .update('\0')
      .update(key)
      .update('\0')
      .update(ca ?? '')
      .digest('hex');
    return ok({ pair: pair.value, ...(ca === undefined ? {} : { ca }), hash });
  }
}
