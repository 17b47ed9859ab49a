// What a production install of the control plane holds: `npm pack` (what `files` ships)
// and `npm ls --omit=dev` (what `npm install --omit=dev` brings). The test broker, the demo,
// the benchmarks and aedes are development tools and stay out.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from '../support/repo-root';

function npm(args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('npm', args, { cwd: REPO_ROOT, timeout: 60_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) =>
      err ? reject(new Error(`npm ${args.join(' ')}: ${stderr}`)) : resolve(stdout),
    ),
  );
}

describe('the production install', () => {
  it('packs the compiled control plane, its proto list, the Envoy API descriptor set and the MQTT filter, and no test code', async () => {
    const [pack] = JSON.parse(await npm(['pack', '--dry-run', '--json', '--ignore-scripts'])) as Array<{ files: Array<{ path: string }> }>;
    const files = pack.files.map((f) => f.path);
    expect(files).toContain('dist/src/cli.js');
    expect(files).toContain('dist/src/main.js');
    expect(files).toContain('dist/ui/app.js');
    expect(files).toContain('proto/api-files.json');
    expect(files).toContain('proto/generated/envoy-api.binpb');
    // The MQTT filter mqtt-xds sends to Envoy (listener.mqttFilter.wasmFile's default); not the test-only probe.
    expect(files).toContain('.local/wasm/mqtt-filter.wasm');
    const shipped = [
      'package.json',
      'README.md',
      'LICENSE',
      'proto/api-files.json',
      'proto/generated/envoy-api.binpb',
      '.local/wasm/mqtt-filter.wasm',
    ];
    const outside = files.filter((f) => !f.startsWith('dist/src/') && !f.startsWith('dist/ui/') && !shipped.includes(f));
    expect(outside).toEqual([]);
    expect(files.filter((f) => /testbroker|demo|bench|\.test\./.test(f))).toEqual([]);
  });

  it('brings no aedes and no test tool dependency', async () => {
    const tree = await npm(['ls', '--omit=dev', '--all', '--parseable']);
    const names = tree
      .split('\n')
      .filter((l) => l.includes('node_modules'))
      .map((l) => l.slice(l.lastIndexOf('node_modules/') + 'node_modules/'.length));
    expect(names.length).toBeGreaterThan(10);
    for (const dev of ['aedes', 'mqtt', 'jest', 'fast-check', 'playwright-core']) expect(names).not.toContain(dev);
  });

  it('has no module in src/ that imports from outside src/ (other than packages)', () => {
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) {
          if (e.name !== 'generated') walk(p);
          continue;
        }
        if (!e.name.endsWith('.ts')) continue;
        for (const m of fs.readFileSync(p, 'utf8').matchAll(/(?:from|require\()\s*'(\.[^']+)'/g)) {
          const target = path.resolve(path.dirname(p), m[1]);
          if (!target.startsWith(path.join(REPO_ROOT, 'src') + path.sep)) offenders.push(`${path.relative(REPO_ROOT, p)} → ${m[1]}`);
        }
      }
    };
    walk(path.join(REPO_ROOT, 'src'));
    expect(offenders).toEqual([]);
  });
});
