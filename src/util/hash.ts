import { createHash } from 'node:crypto';

/** A short content hash used as an xDS version: equal content gives equal versions, on every replica. */
export function contentHash(...parts: Array<string | Uint8Array>): string {
  const h = createHash('sha256');
  for (const p of parts) {
    h.update(p);
    h.update('\0');
  }
  return h.digest('hex').slice(0, 16);
}
