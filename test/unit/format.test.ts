// A formatter decides line breaks (STYLE.md): every TypeScript and JavaScript file of src/,
// test/ and ui/ is as prettier writes it, with .prettierrc.json (what it skips: .prettierignore).
// `npx prettier --write src test ui` fixes what this names. Prettier runs as its own process:
// it loads its parsers with dynamic import(), which jest's module sandbox does not allow.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from '../support/repo-root';

const PRETTIER = path.join(REPO_ROOT, 'node_modules', 'prettier', 'bin', 'prettier.cjs');

function prettier(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [PRETTIER, ...args], { cwd: REPO_ROOT, timeout: 120_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('formatting', () => {
  it('has every source file as prettier writes it', async () => {
    const r = await prettier(['--list-different', 'src', 'test', 'ui']);
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n').filter((l) => l !== '')).toEqual([]);
    expect(r.code).toBe(0);
  }, 120_000);

  it('names a file that is not (the check can fail)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mqtt-xds-format-'));
    const file = path.join(dir, 'ugly.ts');
    fs.writeFileSync(file, 'const  a = {b:1}\n');
    const r = await prettier(['--config', path.join(REPO_ROOT, '.prettierrc.json'), '--list-different', file]);
    fs.rmSync(dir, { recursive: true, force: true });
    expect(path.resolve(REPO_ROOT, r.stdout.trim())).toBe(file);
    expect(r.code).toBe(1);
  }, 60_000);
});
