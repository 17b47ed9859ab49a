import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The installation root (the directory holding package.json), found from this file
 * upwards, so it is the same from src/ under ts-jest and from dist/src/ when built.
 * proto/, envoy/ and dist/ are looked up from here.
 */
export const REPO_ROOT: string = (() => {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json in ${__dirname} or any parent directory`);
  }
})();
