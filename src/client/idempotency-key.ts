// Idempotency keys the client makes up for its mutations: UUIDv7 (RFC 9562),
// a millisecond timestamp followed by random bits. Keys made near the same time
// sort together, so the store's index of them grows at its right edge: a batch
// of commits touches one or two index pages instead of one page per key, as
// random (v4) keys would.
import { randomFillSync } from 'node:crypto';

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
// Random bytes drawn in bulk: one call into the generator per 400 keys, not one per key.
const pool = Buffer.alloc(4000);
let used = pool.length;

export function newIdempotencyKey(): string {
  if (used + 10 > pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  const r = pool.subarray(used, (used += 10));
  const time = Date.now().toString(16).padStart(12, '0');
  return (
    `${time.slice(0, 8)}-${time.slice(8)}-7${HEX[r[0]!]!.slice(1)}${HEX[r[1]!]}-` +
    `${HEX[0x80 | (r[2]! & 0x3f)]}${HEX[r[3]!]}-${HEX[r[4]!]}${HEX[r[5]!]}${HEX[r[6]!]}${HEX[r[7]!]}${HEX[r[8]!]}${HEX[r[9]!]}`
  );
}
