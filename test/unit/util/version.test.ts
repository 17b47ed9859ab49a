import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findVersion, productVersion } from '../../../src/util/version';

describe('the product version', () => {
  it("is package.json's version", () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '../../../package.json'), 'utf8')) as { version: string };
    expect(productVersion()).toBe(pkg.version);
  });

  it("walks up past other packages' package.json to ours, as from dist/src", () => {
    const root = mkdtempSync(join(tmpdir(), 'mqtt-xds-version-'));
    writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'mqtt-xds', version: '9.8.7' }));
    mkdirSync(join(root, 'dist', 'src'), { recursive: true });
    writeFileSync(join(root, 'dist', 'package.json'), JSON.stringify({ name: 'other', version: '1.0.0' }));
    writeFileSync(join(root, 'dist', 'src', 'package.json'), '{ not json');
    expect(findVersion(join(root, 'dist', 'src'))).toBe('9.8.7');
  });

  it('says "unknown" when no package.json of ours is above', () => {
    expect(findVersion(mkdtempSync(join(tmpdir(), 'mqtt-xds-noversion-')))).toBe('unknown');
  });
});
