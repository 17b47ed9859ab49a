import { checkPair, parseCertificates, sanEntries } from '../../../src/tls';
import { TestCa } from '../../support/certs';

describe('checkPair', () => {
  const ca = new TestCa();
  const other = new TestCa('another CA');
  const good = ca.issue('server', { commonName: 'mqtt-xds', san: ['DNS:localhost', 'IP:127.0.0.1'] });
  const now = Date.now();

  it('accepts a valid pair and says what it is', () => {
    const r = checkPair({ certPem: good.cert, keyPem: good.key, caPem: ca.ca.cert, nowMs: now, path: 'xds.tls.certFile' });
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect(r.value.subject).toMatch(/CN=mqtt-xds/);
    expect(sanEntries(r.value.subjectAltName)).toEqual(['DNS:localhost', 'IP Address:127.0.0.1']);
    expect(r.value.notAfterMs).toBeGreaterThan(now);
    expect(r.value.fingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  });

  it.each([
    ['an expired certificate', () => ca.issue('expired', { commonName: 'x', days: -1 }), 'TLS_CERT_EXPIRED'],
    ['a certificate not yet valid', () => ca.issue('future', { commonName: 'x', startsInDays: 2 }), 'TLS_CERT_NOT_YET_VALID'],
    ['a chain from another CA', () => other.issue('foreign', { commonName: 'x' }), 'TLS_CHAIN_UNTRUSTED'],
  ])('refuses %s', (_what, make, code) => {
    const p = make();
    const r = checkPair({ certPem: p.cert, keyPem: p.key, caPem: ca.ca.cert, nowMs: now, path: 'xds.tls.certFile' });
    expect(r.ok ? [] : r.problems.map((x) => x.code)).toEqual([code]);
  });

  it('refuses a chain whose next certificate did not sign the one before it, without any CA bundle', () => {
    const withIssuer = checkPair({ certPem: good.cert + ca.ca.cert, keyPem: good.key, nowMs: now, path: 'listener.tls.certFile' });
    expect(withIssuer.ok).toBe(true);
    const wrong = checkPair({ certPem: good.cert + other.ca.cert, keyPem: good.key, nowMs: now, path: 'listener.tls.certFile' });
    expect(wrong).toMatchObject({ ok: false, problems: [{ code: 'TLS_CHAIN_BROKEN', path: 'listener.tls.certFile[1]' }] });
    expect(wrong.ok ? '' : wrong.problems[0].message).toMatch(/CN=another CA\) did not sign certificate 0 \(CN=mqtt-xds\)/);
  });

  it('refuses a key that does not match the certificate', () => {
    const stranger = ca.issue('stranger', { commonName: 'y' });
    const r = checkPair({ certPem: good.cert, keyPem: stranger.key, nowMs: now, path: 'xds.tls.certFile' });
    expect(r.ok ? [] : r.problems.map((x) => x.code)).toEqual(['TLS_KEY_MISMATCH']);
  });

  it('refuses garbage PEM with a code, not an exception', () => {
    expect(parseCertificates('hello', 'p')).toMatchObject({ ok: false, problems: [{ code: 'TLS_CERT_PARSE' }] });
    const broken = good.cert.replace(/[A-Za-z]{8}\n/, 'AAAA\n');
    expect(checkPair({ certPem: broken, keyPem: good.key, nowMs: now, path: 'p' }).ok).toBe(false);
    expect(checkPair({ certPem: good.cert, keyPem: 'not a key', nowMs: now, path: 'p' })).toMatchObject({
      ok: false,
      problems: [{ code: 'TLS_KEY_PARSE' }],
    });
  });
});
