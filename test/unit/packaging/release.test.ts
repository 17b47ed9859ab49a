// What a release names must agree: package.json's version and licence, the LICENSE file,
// the CHANGELOG's entries, the image tag the manifests deploy and the Helm chart's versions.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from '../../support/repo-root';

const read = (rel: string): string => fs.readFileSync(path.join(REPO_ROOT, rel), 'utf8');
const pkg = JSON.parse(read('package.json')) as { version: string; license: string };

/** The versions the CHANGELOG has entries for, newest first ("## 0.1.0 - 2026-12-07"). */
function changelogVersions(text: string): string[] {
  return [...text.matchAll(/^## (\d+\.\d+\.\d+(?:-[0-9A-Za-z.]+)?) - \d{4}-\d{2}-\d{2}$/gm)].map((m) => m[1]);
}

describe('release metadata', () => {
  it('ships the Apache-2.0 licence package.json names', () => {
    expect(pkg.license).toBe('Apache-2.0');
    const license = read('LICENSE');
    expect(license).toMatch(/^\s*Apache License\s+Version 2\.0, January 2004/);
    expect(license).toContain('END OF TERMS AND CONDITIONS');
  });

  it("has a CHANGELOG entry for package.json's version, newest first", () => {
    const versions = changelogVersions(read('CHANGELOG.md'));
    expect(versions[0]).toBe(pkg.version);
    expect(new Set(versions).size).toBe(versions.length);
  });

  it('reads entries only from dated version headings', () => {
    expect(changelogVersions('## Unreleased\n## 1.2.0 - 2027-01-02\n### Added\n## 1.1.0-rc.1 - 2026-12-30\n## 1.0 - x\n')).toEqual([
      '1.2.0',
      '1.1.0-rc.1',
    ]);
  });

  it("deploys the image tagged with package.json's version", () => {
    const images = [...read('deploy/base/deployment.yaml').matchAll(/image: (\S*mqtt-xds:\S+)/g)].map((m) => m[1]);
    expect(images).toEqual([`ghcr.io/mqtt-xds/mqtt-xds:${pkg.version}`]);
  });

  it("versions the Helm chart and its default image with package.json's version", () => {
    const chart = parse(read('deploy/helm/mqtt-xds/Chart.yaml')) as { version: string; appVersion: string };
    expect([chart.version, chart.appVersion]).toEqual([pkg.version, pkg.version]);
    const values = parse(read('deploy/helm/mqtt-xds/values.yaml')) as { image: { repository: string; tag: string } };
    // An empty tag means the chart's appVersion.
    expect(values.image).toMatchObject({ repository: 'ghcr.io/mqtt-xds/mqtt-xds', tag: '' });
  });
});
