// Response nonces: 16 hex characters of randomness each, cut from a pooled buffer. A
// randomBytes call per response cost about 15 µs, and a connect storm sends three
// responses per stream.
import { randomBytes } from 'node:crypto';

const NONCE_BYTES = 8;
const POOL_BYTES = NONCE_BYTES * 512;

let pool = Buffer.alloc(0);
let offset = 0;

/** A fresh random nonce, as unpredictable as randomBytes(8) on its own. */
export function randomNonce(): string {
  if (offset + NONCE_BYTES > pool.length) {
    pool = randomBytes(POOL_BYTES);
    offset = 0;
  }
  const nonce = pool.toString('hex', offset, offset + NONCE_BYTES);
  offset += NONCE_BYTES;
  return nonce;
}
