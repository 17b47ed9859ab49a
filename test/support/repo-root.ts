import fs from 'node:fs';
import path from 'node:path';

/** The repository root, from test/support under ts-jest or from dist/test/support when built (benchmarks). */
function findRepoRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${__dirname}`);
    dir = parent;
  }
  return dir;
}

export const REPO_ROOT = findRepoRoot();
