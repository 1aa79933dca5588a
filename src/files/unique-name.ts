// Random parts for names that must never repeat (lock owner ids, temp files).
// They come from a pool refilled 4 KiB at a time: one randomBytes call costs
// about 3.5 µs (and, in OpenSSL, a getpid) however few bytes it returns, and
// a locked update needs two such names. Not for secrets (auth uses its own).
import { randomFillSync } from 'node:crypto';

const pool = Buffer.alloc(4096);
let offset = pool.length;

/** `bytes` fresh random bytes, encoded. */
export function randomPart(bytes: number, encoding: 'hex' | 'base64url'): string {
  if (offset + bytes > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const text = pool.toString(encoding, offset, offset + bytes);
  offset += bytes;
  return text;
}
