// src/, test/ and ui/ pass eslint with eslint.config.mjs: typescript-eslint's type-checked rules, so a promise
// left floating or an async executor is caught here (`npm run lint` names them too). Like prettier in
// format.test.ts, eslint runs as its own process: its config is an ES module loaded with dynamic import().
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from '../support/repo-root';

const ESLINT = path.join(REPO_ROOT, 'node_modules', 'eslint', 'bin', 'eslint.js');

function eslint(args: string[], cwd = REPO_ROOT): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [ESLINT, ...args], { cwd, timeout: 300_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('linting', () => {
  it('finds no problem in src, test and ui', async () => {
    const r = await eslint(['--max-warnings', '0', 'src', 'test', 'ui']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('');
    expect(r.code).toBe(0);
  }, 300_000);

  it('names a file that breaks a rule (the check can fail)', async () => {
    // A project of its own beside the file: the type-aware rules need a tsconfig that includes it.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mqtt-xds-lint-'));
    const file = path.join(dir, 'floating.ts');
    fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, types: [] }, include: ['*.ts'] }));
    fs.writeFileSync(file, 'export async function send(): Promise<void> {}\nexport function tick(): void {\n  send();\n}\n');
    const r = await eslint(['--config', path.join(REPO_ROOT, 'eslint.config.mjs'), '--format', 'json', file], dir);
    fs.rmSync(dir, { recursive: true, force: true });
    const results = JSON.parse(r.stdout) as Array<{ filePath: string; messages: Array<{ ruleId: string | null; line: number }> }>;
    expect(results.map((f) => f.filePath)).toEqual([file]);
    expect(results[0].messages.map((m) => `${m.line} ${m.ruleId}`)).toEqual(['3 @typescript-eslint/no-floating-promises']);
    expect(r.code).toBe(1);
  }, 60_000);
});
