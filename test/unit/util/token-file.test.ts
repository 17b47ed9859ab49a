import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readTokenFile } from '../../../src/util/token-file';

describe('readTokenFile', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mqtt-xds-token-'));

  it('reads the token without its trailing newline', () => {
    fs.writeFileSync(path.join(dir, 't'), 's3cret\n');
    expect(readTokenFile(path.join(dir, 't'), 'agent.tokenFile')).toBe('s3cret');
  });

  it('means "no token" for an empty setting', () => {
    expect(readTokenFile('', 'agent.tokenFile')).toBeUndefined();
  });

  it('names the setting when the file is missing or empty', () => {
    expect(() => readTokenFile(path.join(dir, 'missing'), 'admin.tokenFile')).toThrow(/^admin\.tokenFile: cannot read .*missing/);
    fs.writeFileSync(path.join(dir, 'empty'), '\n');
    expect(() => readTokenFile(path.join(dir, 'empty'), 'admin.tokenFile')).toThrow(/admin\.tokenFile: .*empty is empty/);
  });
});
