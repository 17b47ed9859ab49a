// A Secret's TLS material as plain PEM text, its shape checked before any certificate
// check: the Secret's type, its keys, its size. Pure; the watch (tls-secret.ts) feeds it,
// and nothing of the Secret but these strings leaves discovery.
import { fail, ok, type Problem, type Result } from '../../util/result';

/** The parts of a Secret read here; client-node's V1Secret fits it. */
export interface SecretLike {
  /** Which version of the Secret it is, for the Warning Event on a refused one. */
  readonly metadata?: ObjectRef;
  readonly type?: string;
  /** Base64, as the API serves it. */
  readonly data?: Readonly<Record<string, string>>;
}

/** The parts of an object's metadata an Event names it by. */
export interface ObjectRef {
  readonly name?: string;
  readonly namespace?: string;
  readonly uid?: string;
  readonly resourceVersion?: string;
}

/** What the watch knows of one Secret: listed and there, not there, or deleted while watched. */
export type SecretState =
  { readonly kind: 'present'; readonly secret: SecretLike } | { readonly kind: 'absent' } | { readonly kind: 'deleted' };

export interface SecretPlace {
  readonly namespace: string;
  readonly name: string;
  /** The setting that names it, the path of every problem: `listener.tls.secret`. */
  readonly setting: string;
}

/**
 * A chain, its key and a client-CA bundle take a few KiB, a large bundle a few hundred.
 * The API server allows 1 MiB; anything near that is not TLS material, and is refused
 * before it is decoded and parsed.
 */
export const MAX_SECRET_BYTES = 256 * 1024;

export const TLS_SECRET_TYPE = 'kubernetes.io/tls';
/** Types a client-CA Secret may have: cert-manager's CA Secrets are kubernetes.io/tls, trust bundles Opaque. */
const CA_SECRET_TYPES = ['Opaque', TLS_SECRET_TYPE];

export const describeSecret = (p: SecretPlace): string => `Secret ${p.namespace}/${p.name}`;

/** tls.crt and tls.key of a kubernetes.io/tls Secret. */
export function pairFromSecret(state: SecretState, place: SecretPlace): Result<{ cert: string; key: string }> {
  const secret = present(state, place, `type ${TLS_SECRET_TYPE} with keys tls.crt and tls.key`);
  if (!secret.ok) return secret;
  if (secret.value.type !== TLS_SECRET_TYPE)
    return fail([
      problem(
        'TLS_SECRET_TYPE',
        place.setting,
        `${describeSecret(place)} has type ${JSON.stringify(secret.value.type ?? '')}; ${place.setting} needs type ${TLS_SECRET_TYPE} (keys tls.crt and tls.key)`,
      ),
    ]);
  const texts = keys(secret.value, place, ['tls.crt', 'tls.key']);
  if (!texts.ok) return texts;
  const [cert, key] = texts.value;
  return ok({ cert, key });
}

/** ca.crt of an Opaque or kubernetes.io/tls Secret: the bundle client certificates must chain to. */
export function caFromSecret(state: SecretState, place: SecretPlace): Result<string> {
  const secret = present(state, place, 'a key ca.crt');
  if (!secret.ok) return secret;
  const type = secret.value.type ?? '';
  if (!CA_SECRET_TYPES.includes(type))
    return fail([
      problem(
        'TLS_SECRET_TYPE',
        place.setting,
        `${describeSecret(place)} has type ${JSON.stringify(type)}; ${place.setting} needs type ${CA_SECRET_TYPES.join(' or ')} with a key ca.crt`,
      ),
    ]);
  const texts = keys(secret.value, place, ['ca.crt']);
  return texts.ok ? ok(texts.value[0]) : texts;
}

function present(state: SecretState, place: SecretPlace, needs: string): Result<SecretLike> {
  const what = describeSecret(place);
  if (state.kind === 'absent')
    return fail([problem('TLS_SECRET_MISSING', place.setting, `no ${what}: create it (${needs}), or correct ${place.setting}`)]);
  if (state.kind === 'deleted')
    return fail([problem('TLS_SECRET_DELETED', place.setting, `${what} was deleted; a good one is taken again once it is back`)]);
  const bytes = Object.values(state.secret.data ?? {}).reduce((sum, v) => sum + Buffer.byteLength(v, 'base64'), 0);
  if (bytes > MAX_SECRET_BYTES)
    return fail([
      problem(
        'TLS_SECRET_TOO_LARGE',
        place.setting,
        `${what} holds ${bytes} bytes of data, more than ${MAX_SECRET_BYTES}: not TLS material`,
      ),
    ]);
  return ok(state.secret);
}

function keys(secret: SecretLike, place: SecretPlace, names: readonly string[]): Result<string[]> {
  const data = secret.data ?? {};
  const missing = names.filter((n) => data[n] === undefined);
  if (missing.length > 0) {
    const present = Object.keys(data).sort().join(', ') || 'none';
    return fail(
      missing.map((n) =>
        problem('TLS_SECRET_KEY_MISSING', `${place.setting}[${n}]`, `${describeSecret(place)} has no key ${n}; keys present: ${present}`),
      ),
    );
  }
  return ok(names.map((n) => Buffer.from(data[n], 'base64').toString('utf8')));
}

function problem(code: string, path: string, message: string): Problem {
  return { code, path, message };
}
