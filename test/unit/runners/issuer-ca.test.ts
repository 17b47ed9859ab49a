import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Registry } from 'prom-client';
import { defaultConfig, withOverrides } from '../../../src/config';
import { loadCredentials, readIssuerCa } from '../../../src/runners/credentials';
import { silentLogger } from '../../../src/util/log';
import { ConfigError } from '../../../src/util/token-file';
import { TestCa, installPair } from '../../support/certs';

describe('listener.tls.issuerCaFile at start', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'issuer-ca-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string): string => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
  };
  const problemOf = (file: string): string => {
    try {
      readIssuerCa(file);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as ConfigError).problems.map((p) => `${p.path} ${p.code}`).join();
    }
    throw new Error('no ConfigError');
  };

  it('is off when empty, and gives the bundle when it holds certificates', () => {
    expect(readIssuerCa('')).toBeUndefined();
    const ca = new TestCa('issuer CA file test');
    expect(readIssuerCa(write('ca.pem', ca.ca.cert))).toBe(ca.ca.cert);
  });

  it('stops the start, naming the setting, on a missing file or one without a certificate', () => {
    expect(problemOf(path.join(dir, 'missing.pem'))).toBe('listener.tls.issuerCaFile TLS_FILE_UNREADABLE');
    expect(problemOf(write('garbage.pem', 'not a certificate\n'))).toBe('listener.tls.issuerCaFile TLS_CERT_PARSE');
  });

  it("holds the listener's own pair to it: a certificate of another CA stops the start", () => {
    const ours = new TestCa('issuer CA start test: ours');
    const theirs = new TestCa('issuer CA start test: theirs');
    const [certFile, keyFile] = [path.join(dir, 'tls.crt'), path.join(dir, 'tls.key')];
    const config = (issuerCaFile: string) => withOverrides(defaultConfig(), { listener: { tls: { certFile, keyFile, issuerCaFile } } });
    const start = (issuerCaFile: string) => loadCredentials(config(issuerCaFile), silentLogger, new Registry());
    installPair(theirs.issue('foreign', { commonName: 'mqtt.test', san: ['DNS:mqtt.test'] }), certFile, keyFile);
    expect(() => start(write('ours.pem', ours.ca.cert))).toThrow(/TLS_CHAIN_UNTRUSTED/);
    expect(start('').listenerTls?.material()).toBeDefined();
    installPair(ours.issue('ours', { commonName: 'mqtt.test', san: ['DNS:mqtt.test'] }), certFile, keyFile);
    const creds = start(write('ours.pem', ours.ca.cert));
    expect(creds.issuerCa).toBe(ours.ca.cert);
    expect(creds.listenerTls?.material()?.pair.subject).toMatch(/mqtt\.test/);
  });
});
