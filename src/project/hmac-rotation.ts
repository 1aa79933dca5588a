// `baton auth rotate-key`: a new current HMAC key, the old one kept verifying
// for an overlap. The files and why two writes in this order are safe:
// project/hmac-key.ts. Apart from it so that a client, which only reads the
// key, does not load the lock.
import { randomBytes } from 'node:crypto';
import { BatonError } from '../errors.ts';
import { withLock } from '../files/lock/lock.ts';
import { writePrivateFileSync } from '../files/private-file.ts';
import { MAX_TIME_MS } from '../limits.ts';
import { ensureHmacSecret, readHmacKey, readRetiring, writeRetiring, type RetiringKey } from './hmac-key.ts';
import { ensureStateDir, statePaths } from './state-dir.ts';

/** Keys in their overlap at most: a request without a key id is tried against each, so a burst of rotations must not make every bad request cost hundreds of HMACs. */
export const MAX_RETIRING_KEYS = 8;

export interface Rotation {
  /** The new current key. */
  current: Buffer;
  /** The key it replaced (none when there was no key yet: then `current` is the first). */
  replaced: RetiringKey | undefined;
  /** Every replaced key still in its overlap, the one just replaced included, soonest to retire first. */
  retiring: RetiringKey[];
  /** Keys whose overlap was cut short to keep at most MAX_RETIRING_KEYS. */
  cutShort: RetiringKey[];
}

/**
 * Makes a new current key; the one it replaces keeps verifying for
 * `overlapMs`. 0 retires it at once, and with it every key still in an
 * overlap. Keys whose overlap has ended are dropped from the list.
 * Serialized across processes by a lock on hmac.key.
 */
export async function rotateHmacKey(stateDir: string, options: { overlapMs: number; now?: number }): Promise<Rotation> {
  const { overlapMs } = options;
  if (!Number.isSafeInteger(overlapMs) || overlapMs < 0 || (options.now ?? Date.now()) + overlapMs > MAX_TIME_MS) {
    throw new BatonError('INVALID_ARGUMENT', `overlapMs must be whole milliseconds >= 0 ending before the year 10000, got ${overlapMs}`);
  }
  ensureStateDir(stateDir);
  const paths = statePaths(stateDir);
  return withLock(paths.hmacKey, async () => {
    // The clock is read holding the lock: a long wait for it must not eat into the overlap.
    const now = options.now ?? Date.now();
    const old = readHmacKey(paths.hmacKey);
    // No key yet: made as the daemon makes it (exclusive create), so one made meanwhile by a starting daemon is not overwritten.
    if (old === undefined) return { current: await ensureHmacSecret(stateDir), replaced: undefined, retiring: [], cutShort: [] };
    const replaced = { key: old, rotatedAt: now, retiresAt: now + overlapMs };
    const live = readRetiring(paths.hmacRetiring).filter((k) => k.retiresAt > now && !k.key.equals(old));
    // Soonest to retire first; past the bound, those go now. The key just replaced always stays listed (retired at once with overlap 0, so its signers hear why).
    live.sort((a, b) => a.retiresAt - b.retiresAt);
    // Overlap 0 is the answer to a leak: whoever has one key of this directory likely has them all, so every
    // key still in its overlap is retired with it, and only the new key verifies.
    const cutShort = live.splice(0, overlapMs === 0 ? live.length : Math.max(0, live.length + 1 - MAX_RETIRING_KEYS)).map((k) => ({ ...k, retiresAt: now }));
    const listed = [...cutShort, ...live, replaced].sort((a, b) => a.retiresAt - b.retiresAt);
    writeRetiring(paths.hmacRetiring, listed);
    const current = randomBytes(32);
    // Second, after the list that holds the old key (project/hmac-key.ts says why).
    writePrivateFileSync(paths.hmacKey, current.toString('hex'));
    return { current, replaced, retiring: listed.filter((k) => k.retiresAt > now), cutShort };
  });
}
