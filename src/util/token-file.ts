import { readFileSync, statSync } from 'node:fs';
import type { Problem } from './result';

/** A configuration problem found after loading (a token file that cannot be read), as an error the CLI prints without a stack. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly Problem[]) {
    super(problems.map((p) => `${p.path}: ${p.message} [${p.code}]`).join('; '));
    this.name = 'ConfigError';
  }
}

/** Larger than any token: a file this big is the wrong file. */
const MAX_TOKEN_BYTES = 64 * 1024;

/** The token in a file, or the problem with it; undefined value when no file is configured. */
export function tokenFromFile(file: string, setting: string): { token?: string; problem?: Problem } {
  if (file === '') return {};
  let token: string;
  try {
    const size = statSync(file).size;
    if (size > MAX_TOKEN_BYTES) {
      return { problem: { code: 'CONFIG_TOKEN_FILE', path: setting, message: `${file} is ${size} bytes; a token file holds one token` } };
    }
    token = readFileSync(file, 'utf8').trim();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    return {
      problem: {
        code: 'CONFIG_TOKEN_FILE',
        path: setting,
        message: `cannot read ${file} (${code}); check the path and the file's permissions`,
      },
    };
  }
  if (token === '') return { problem: { code: 'CONFIG_TOKEN_FILE', path: setting, message: `${file} is empty; it must hold the token` } };
  return { token };
}

/**
 * A bearer token from a file (surrounding whitespace dropped); undefined when no file is
 * configured. Throws a ConfigError naming the setting when the file cannot be read or is empty.
 */
export function readTokenFile(file: string, setting: string): string | undefined {
  const r = tokenFromFile(file, setting);
  if (r.problem) throw new ConfigError([r.problem]);
  return r.token;
}
