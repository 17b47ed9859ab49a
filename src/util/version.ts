// The product's version, read from package.json at run time: the one place it is written,
// found from src/ under ts-jest and from dist/src/ once built or installed.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

let cached: string | undefined;

/** The `version` of the mqtt-xds package.json nearest above this file; "unknown" when none is found. */
export function productVersion(): string {
  cached ??= findVersion(__dirname);
  return cached;
}

/** Walks up from `dir` to the first package.json named mqtt-xds. */
export function findVersion(dir: string): string {
  for (let d = dir; ; d = dirname(d)) {
    try {
      const pkg = JSON.parse(readFileSync(join(d, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'mqtt-xds' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // No package.json here (or not ours): keep walking up.
    }
    if (dirname(d) === d) return 'unknown';
  }
}
