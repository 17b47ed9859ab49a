import { loadConfig } from '../../../src/config';
import type { Problem } from '../../../src/util/result';

const load = (argv: string[]) => loadConfig({ argv, env: {}, cwd: '/srv', readFile: () => '' });
const full = (argv: string[]): Problem[] => {
  const r = load(argv);
  return r.ok ? [] : r.problems;
};
const problems = (argv: string[]): Array<Pick<Problem, 'code' | 'path'>> => full(argv).map(({ code, path }) => ({ code, path }));

describe('listener.tls.secret and listener.tls.clientCaSecret', () => {
  it('takes a Secret by name or namespace/name, alone or with a client CA Secret and SANs', () => {
    const r = load([
      '--listener-tls-secret',
      'mqtt/listener-tls',
      '--listener-tls-client-ca-secret',
      'device-ca',
      '--listener-tls-client-subject-alt-names',
      'URI:urn:device:*',
    ]);
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect(r.value.config.listener.tls).toMatchObject({
      secret: 'mqtt/listener-tls',
      clientCaSecret: 'device-ca',
      certFile: '',
      keyFile: '',
    });
    expect(load(['--listener-tls-secret', 'listener-tls.v2']).ok).toBe(true);
  });

  it('refuses a value that is not a Secret name, naming the setting', () => {
    for (const bad of ['Listener', 'a/b/c', '/name', 'ns/', 'bad_name', 'x'.repeat(254)])
      expect(problems(['--listener-tls-secret', bad])).toEqual([{ code: 'CONFIG_BAD_NAME', path: 'listener.tls.secret' }]);
  });

  it('refuses a Secret together with certificate files: each file given is named', () => {
    expect(problems(['--listener-tls-secret', 'tls', '--listener-tls-cert-file', 'c.pem', '--listener-tls-key-file', 'k.pem'])).toEqual([
      { code: 'CONFIG_LISTENER_TLS_TWO_SOURCES', path: 'listener.tls.certFile' },
      { code: 'CONFIG_LISTENER_TLS_TWO_SOURCES', path: 'listener.tls.keyFile' },
    ]);
    // A partial pair beside a Secret is the same mistake, not also a "pair" error.
    expect(problems(['--listener-tls-secret', 'tls', '--listener-tls-key-file', 'k.pem'])).toEqual([
      { code: 'CONFIG_LISTENER_TLS_TWO_SOURCES', path: 'listener.tls.keyFile' },
    ]);
    const [p] = full(['--listener-tls-secret', 'tls', '--listener-tls-client-ca-file', 'ca.pem']);
    expect(p).toMatchObject({ code: 'CONFIG_LISTENER_TLS_TWO_SOURCES', path: 'listener.tls.clientCaFile' });
    expect(p.message).toContain('listener.tls.clientCaSecret');
    expect(p.message).toContain('"tls", from flag --listener-tls-secret');
  });

  it('refuses a client CA Secret without the certificate Secret', () => {
    expect(problems(['--listener-tls-client-ca-secret', 'ca'])).toEqual([
      { code: 'CONFIG_LISTENER_TLS_CA_SECRET_NEEDS_SECRET', path: 'listener.tls.clientCaSecret' },
    ]);
    expect(
      problems(['--listener-tls-cert-file', 'c.pem', '--listener-tls-key-file', 'k.pem', '--listener-tls-client-ca-secret', 'ca']),
    ).toEqual([{ code: 'CONFIG_LISTENER_TLS_CA_SECRET_NEEDS_SECRET', path: 'listener.tls.clientCaSecret' }]);
  });

  it('still asks for a client CA before SAN matching, from either source', () => {
    expect(problems(['--listener-tls-secret', 'tls', '--listener-tls-client-subject-alt-names', 'DNS:gw'])).toEqual([
      { code: 'CONFIG_LISTENER_TLS_SAN_NEEDS_CA', path: 'listener.tls.clientSubjectAltNames' },
    ]);
  });
});
