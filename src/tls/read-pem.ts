// Reading PEM files, the one place in src/tls that touches the file system: bounded, and
// every failure a coded problem naming the setting.
import * as fs from 'node:fs';
import { fail, ok, type Result } from '../util/result';
import { MAX_PEM_BYTES } from './pem-check';

export function readPem(file: string, setting: string): Result<string> {
  try {
    const size = fs.statSync(file).size;
    if (size > MAX_PEM_BYTES)
      return fail([{ code: 'TLS_PEM_TOO_LARGE', path: setting, message: `${file} is ${size} bytes: not a PEM file` }]);
    return ok(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return fail([
      {
        code: 'TLS_FILE_UNREADABLE',
        path: setting,
        message: `cannot read ${file} (${code ?? String(err)}); check the path and the file's permissions`,
      },
    ]);
  }
}
