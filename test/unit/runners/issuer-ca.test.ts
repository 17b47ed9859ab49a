import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readIssuerCa } from '../../../src/runners/credentials';
import { ConfigError } from '../../../src/util/token-file';
import { TestCa } from '../../support/certs';

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
});
