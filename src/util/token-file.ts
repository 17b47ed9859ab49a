import { readFileSync } from 'node:fs';

/**
 * A bearer token from a file (surrounding whitespace dropped); undefined when no file is
 * configured. Throws, naming the setting, when the file cannot be read or is empty.
 */
export function readTokenFile(file: string, setting: string): string | undefined {
  if (file === '') return undefined;
  let token: string;
  try {
    token = readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new Error(`${setting}: cannot read ${file}: ${(err as Error).message}`);
  }
  if (token === '') throw new Error(`${setting}: ${file} is empty; it must hold the token`);
  return token;
}
