import * as fs from 'node:fs';
import * as path from 'node:path';

const dir = path.join(__dirname, '..', '..', 'golden');

/**
 * Compares `actual` with test/golden/<name>.json. Run with UPDATE_GOLDEN=1 to rewrite the
 * files, then review the diff like any other change.
 */
export function expectGolden(name: string, actual: unknown): void {
  const file = path.join(dir, `${name}.json`);
  const text = JSON.stringify(actual, null, 2) + '\n';
  if (process.env.UPDATE_GOLDEN === '1') {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(file, text);
  }
  if (!fs.existsSync(file)) throw new Error(`golden file ${file} is missing; run with UPDATE_GOLDEN=1 to create it`);
  expect(text).toEqual(fs.readFileSync(file, 'utf8'));
}
