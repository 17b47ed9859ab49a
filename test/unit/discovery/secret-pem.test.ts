import { caFromSecret, MAX_SECRET_BYTES, pairFromSecret, type SecretState } from '../../../src/discovery/kubernetes/secret-pem';

const place = { namespace: 'mqtt', name: 'listener-tls', setting: 'listener.tls.secret' };
const caPlace = { namespace: 'mqtt', name: 'device-ca', setting: 'listener.tls.clientCaSecret' };
const b64 = (s: string): string => Buffer.from(s).toString('base64');
const CERT = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n';
const secret = (type: string | undefined, data: Record<string, string>): SecretState => ({
  kind: 'present',
  secret: { ...(type === undefined ? {} : { type }), data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])) },
});
const codes = (r: { ok: boolean; problems?: Array<{ code: string; path: string }> }) =>
  r.ok ? [] : (r.problems ?? []).map((p) => [p.code, p.path]);

describe('TLS material from a Secret', () => {
  it('hands out tls.crt and tls.key of a kubernetes.io/tls Secret as PEM text', () => {
    expect(pairFromSecret(secret('kubernetes.io/tls', { 'tls.crt': CERT, 'tls.key': KEY, 'ca.crt': CERT }), place)).toEqual({
      ok: true,
      value: { cert: CERT, key: KEY },
    });
  });

  it('refuses a Secret of another type, naming the setting and the type', () => {
    const r = pairFromSecret(secret('Opaque', { 'tls.crt': CERT, 'tls.key': KEY }), place);
    expect(codes(r)).toEqual([['TLS_SECRET_TYPE', 'listener.tls.secret']]);
    expect(r.ok ? '' : r.problems[0].message).toMatch(/Secret mqtt\/listener-tls has type "Opaque".*kubernetes\.io\/tls/);
    expect(codes(pairFromSecret(secret(undefined, { 'tls.crt': CERT, 'tls.key': KEY }), place))).toEqual([
      ['TLS_SECRET_TYPE', 'listener.tls.secret'],
    ]);
  });

  it('names every missing key, and the keys that are there', () => {
    const r = pairFromSecret(secret('kubernetes.io/tls', { 'ca.crt': CERT }), place);
    expect(codes(r)).toEqual([
      ['TLS_SECRET_KEY_MISSING', 'listener.tls.secret[tls.crt]'],
      ['TLS_SECRET_KEY_MISSING', 'listener.tls.secret[tls.key]'],
    ]);
    expect(r.ok ? '' : r.problems[0].message).toContain('keys present: ca.crt');
    expect(codes(pairFromSecret({ kind: 'present', secret: { type: 'kubernetes.io/tls' } }, place))).toHaveLength(2);
  });

  it('refuses a Secret larger than any TLS material, before decoding it', () => {
    const big = 'x'.repeat(MAX_SECRET_BYTES);
    expect(codes(pairFromSecret(secret('kubernetes.io/tls', { 'tls.crt': CERT, 'tls.key': KEY, extra: big }), place))).toEqual([
      ['TLS_SECRET_TOO_LARGE', 'listener.tls.secret'],
    ]);
    // Just at the limit is still read.
    const fits = 'x'.repeat(MAX_SECRET_BYTES - CERT.length - KEY.length);
    expect(pairFromSecret(secret('kubernetes.io/tls', { 'tls.crt': CERT, 'tls.key': KEY, extra: fits }), place).ok).toBe(true);
  });

  it('tells a Secret that was never there from one deleted while watched', () => {
    const absent = pairFromSecret({ kind: 'absent' }, place);
    expect(codes(absent)).toEqual([['TLS_SECRET_MISSING', 'listener.tls.secret']]);
    expect(absent.ok ? '' : absent.problems[0].message).toMatch(
      /no Secret mqtt\/listener-tls: create it .*or correct listener\.tls\.secret/,
    );
    expect(codes(pairFromSecret({ kind: 'deleted' }, place))).toEqual([['TLS_SECRET_DELETED', 'listener.tls.secret']]);
  });

  it('takes a client CA from ca.crt of an Opaque or kubernetes.io/tls Secret only', () => {
    expect(caFromSecret(secret('Opaque', { 'ca.crt': CERT }), caPlace)).toEqual({ ok: true, value: CERT });
    expect(caFromSecret(secret('kubernetes.io/tls', { 'tls.crt': CERT, 'tls.key': KEY, 'ca.crt': CERT }), caPlace)).toEqual({
      ok: true,
      value: CERT,
    });
    // A service-account token Secret has a ca.crt too: the cluster's CA, never a client CA.
    expect(codes(caFromSecret(secret('kubernetes.io/service-account-token', { 'ca.crt': CERT }), caPlace))).toEqual([
      ['TLS_SECRET_TYPE', 'listener.tls.clientCaSecret'],
    ]);
    expect(codes(caFromSecret(secret('Opaque', { 'bundle.pem': CERT }), caPlace))).toEqual([
      ['TLS_SECRET_KEY_MISSING', 'listener.tls.clientCaSecret[ca.crt]'],
    ]);
    expect(codes(caFromSecret({ kind: 'absent' }, caPlace))).toEqual([['TLS_SECRET_MISSING', 'listener.tls.clientCaSecret']]);
  });
});
