// Checks a certificate chain and its key before they are served: a bad pair is refused
// with a coded problem, and the caller keeps serving the last good one.
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { fail, ok, type Problem, type Result } from '../util/result';

export interface CheckedPair {
  /** PEM, leaf first. */
  readonly certChain: string;
  readonly privateKey: string;
  readonly serial: string;
  readonly subject: string;
  readonly subjectAltName: string;
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
  /** SHA-256 fingerprint of the leaf, as openssl prints it (AA:BB:…). */
  readonly fingerprint256: string;
}

export interface PairInput {
  readonly certPem: string;
  readonly keyPem: string;
  /** PEM bundle the chain must verify against; undefined: not checked (self-signed allowed). */
  readonly caPem?: string;
  readonly nowMs: number;
  /** Where the material came from, for the problem's path (`xds.tls.certFile`). */
  readonly path: string;
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
/** Larger than any real chain: a file this big is not a certificate. */
export const MAX_PEM_BYTES = 1024 * 1024;

/** Every certificate in a PEM bundle, in order; a coded problem when there is none or one is garbage. */
export function parseCertificates(pem: string, path: string): Result<X509Certificate[]> {
  if (Buffer.byteLength(pem) > MAX_PEM_BYTES)
    return fail([problem('TLS_PEM_TOO_LARGE', path, `more than ${MAX_PEM_BYTES} bytes: not a certificate file`)]);
  const blocks = pem.match(PEM_BLOCK) ?? [];
  if (blocks.length === 0) return fail([problem('TLS_CERT_PARSE', path, 'no PEM certificate (-----BEGIN CERTIFICATE-----) found')]);
  const certs: X509Certificate[] = [];
  for (const [i, b] of blocks.entries()) {
    try {
      certs.push(new X509Certificate(b));
    } catch (err) {
      return fail([problem('TLS_CERT_PARSE', `${path}[${i}]`, `certificate ${i} is not valid PEM/DER: ${(err as Error).message}`)]);
    }
  }
  return ok(certs);
}

/** Checks a leaf (with its intermediates) and its key; the value is what may be served. */
export function checkPair(input: PairInput): Result<CheckedPair> {
  const certs = parseCertificates(input.certPem, input.path);
  if (!certs.ok) return certs;
  const [leaf, ...intermediates] = certs.value;
  let key: KeyObject;
  try {
    key = createPrivateKey(input.keyPem);
  } catch (err) {
    return fail([problem('TLS_KEY_PARSE', `${input.path}.key`, `the private key is not a PEM key: ${(err as Error).message}`)]);
  }
  const problems: Problem[] = [];
  if (!leaf.checkPrivateKey(key))
    problems.push(
      problem(
        'TLS_KEY_MISMATCH',
        `${input.path}.key`,
        `the private key does not belong to certificate ${leaf.subject.replace(/\n/g, ', ')}`,
      ),
    );
  const notBeforeMs = Date.parse(leaf.validFrom);
  const notAfterMs = Date.parse(leaf.validTo);
  if (input.nowMs < notBeforeMs) problems.push(problem('TLS_CERT_NOT_YET_VALID', input.path, `valid only from ${leaf.validFrom}`));
  if (input.nowMs > notAfterMs) problems.push(problem('TLS_CERT_EXPIRED', input.path, `expired on ${leaf.validTo}`));
  // Each certificate after the leaf must have signed the one before it, as a client will check.
  const broken = [leaf, ...intermediates].findIndex(
    (c, i, all) => i + 1 < all.length && !(c.checkIssued(all[i + 1]) && c.verify(all[i + 1].publicKey)),
  );
  if (broken >= 0) {
    const all = [leaf, ...intermediates];
    problems.push(
      problem(
        'TLS_CHAIN_BROKEN',
        `${input.path}[${broken + 1}]`,
        `certificate ${broken + 1} (${all[broken + 1].subject.replace(/\n/g, ', ')}) did not sign certificate ${broken} (${all[broken].subject.replace(/\n/g, ', ')}): the chain must go leaf first, each certificate followed by its issuer`,
      ),
    );
  }
  if (input.caPem !== undefined) {
    const cas = parseCertificates(input.caPem, `${input.path}.ca`);
    if (!cas.ok) return cas;
    if (!chainVerifies(leaf, intermediates, cas.value)) {
      problems.push(problem('TLS_CHAIN_UNTRUSTED', input.path, 'the certificate chain does not verify against the CA bundle'));
    }
  }
  if (problems.length > 0) return fail(problems);
  return ok({
    certChain: input.certPem,
    privateKey: input.keyPem,
    serial: leaf.serialNumber,
    subject: leaf.subject,
    subjectAltName: leaf.subjectAltName ?? '',
    notBeforeMs,
    notAfterMs,
    fingerprint256: leaf.fingerprint256,
  });
}

/** leaf ← intermediates… ← one of the roots, each link by issuer name and signature. */
function chainVerifies(leaf: X509Certificate, intermediates: readonly X509Certificate[], roots: readonly X509Certificate[]): boolean {
  let current = leaf;
  const pool = [...intermediates];
  for (let depth = 0; depth <= intermediates.length; depth++) {
    const root = roots.find((r) => current.checkIssued(r) && current.verify(r.publicKey));
    if (root) return true;
    const next = pool.findIndex((c) => current.checkIssued(c) && current.verify(c.publicKey));
    if (next < 0) return false;
    current = pool.splice(next, 1)[0];
  }
  return false;
}

/** The SAN entries as `DNS:x`, `URI:y`, `IP Address:z`. */
export function sanEntries(subjectAltName: string): string[] {
  return subjectAltName
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function problem(code: string, path: string, message: string): Problem {
  return { code, path, message };
}
