// Where a watched certificate's PEM comes from: files re-read on a timer (here), or a
// source that pushes each change (the Kubernetes Secret watch, in src/discovery/kubernetes).
// A source only reads; WatchedPair checks every read and decides what is in force.
import { fail, ok, type Problem, type Result } from '../util/result';
import { readPem } from './read-pem';

export interface PemTexts {
  /** PEM chain, leaf first. */
  readonly cert: string;
  readonly key: string;
  /** A CA bundle read with the pair (a client CA); absent: none. */
  readonly ca?: string;
}

/** What the checks' problems name: the settings the texts came from. */
export interface PemPaths {
  /** `listener.tls.certFile`, `listener.tls.secret`. */
  readonly cert: string;
  readonly ca: string;
}

export interface PemSink {
  /** One read of the source: its texts, or why they are unusable (a coded problem). */
  offer(read: Result<PemTexts>): void;
  /** The source cannot be read at all (API server unreachable, forbidden): nothing changes. */
  unreachable(problems: readonly Problem[]): void;
}

export interface PemSource {
  /** What log lines call it: "files", "Secret mqtt/mqtt-listener-tls". */
  readonly noun: string;
  readonly paths: PemPaths;
  /**
   * True when a read can catch an update half done (files written one after the other): a
   * failure is then reported once two reads in a row see it. A source whose texts change
   * together (one Secret object) has each failure reported at once.
   */
  readonly piecewise: boolean;
  /** A read now, for a source that can be read on demand (files); a pushed source has none. */
  readonly read?: () => Result<PemTexts>;
  /** Delivers reads to `sink` until stop(): on a timer, or as changes arrive. */
  start(sink: PemSink): void;
  /**
   * The checks refused the texts of the last read (once per refusal reported): a source
   * that lives in an API can say so where the operator looks, e.g. an Event on the Secret.
   */
  refused?(problems: readonly Problem[]): void;
  stop(): void;
}

export interface PairFiles {
  readonly certFile: string;
  readonly keyFile: string;
  /** A CA bundle read and checked with the pair (the xDS server's client CA); '' or absent: none. */
  readonly clientCaFile?: string;
}

/** The files of `<setting>.certFile`, `.keyFile` and `.clientCaFile`, re-read every `refreshMs`. */
export function filePemSource(files: PairFiles, setting: string, refreshMs = 2000): PemSource {
  const { certFile, keyFile, clientCaFile } = files;
  const read = (): Result<PemTexts> => {
    const cert = readPem(certFile, `${setting}.certFile`);
    const key = readPem(keyFile, `${setting}.keyFile`);
    const ca = clientCaFile === undefined || clientCaFile === '' ? undefined : readPem(clientCaFile, `${setting}.clientCaFile`);
    const problems = [cert, key, ...(ca ? [ca] : [])].flatMap((r) => (r.ok ? [] : r.problems));
    if (!cert.ok || !key.ok || (ca && !ca.ok) || problems.length > 0) return fail(problems);
    return ok({ cert: cert.value, key: key.value, ...(ca?.ok ? { ca: ca.value } : {}) });
  };
  let timer: NodeJS.Timeout | undefined;
  return {
    noun: 'files',
    paths: { cert: `${setting}.certFile`, ca: `${setting}.clientCaFile` },
    piecewise: true,
    read,
    start(sink) {
      timer = setInterval(() => sink.offer(read()), refreshMs);
      timer.unref();
    },
    stop() {
      clearInterval(timer);
    },
  };
}
