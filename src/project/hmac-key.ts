// The daemon's HMAC keys for signed requests (protocol/signing.ts signs and
// names them).
//
// <stateDir>/hmac.key (mode 0600, 64 hex characters = 32 bytes, used as raw
// bytes) is the current key. The daemon makes it on its first `serve --listen`
// and verifies with it; a client of a TCP-only daemon reads it to sign. Its
// format is what it always was, so readers from before rotation still find the
// current key there.
//
// <stateDir>/hmac-retiring.json (0600) holds the keys `baton auth rotate-key`
// replaced, each with the end of its overlap:
//   { "version": 1, "keys": [ { "key": "<64 hex>", "rotatedAt": <ms>, "retiresAt": <ms> } ] }
// A key verifies while now < retiresAt, by the daemon's clock. One whose
// overlap ended stays listed until the next rotation drops it, so a request
// signed with it hears that its key was retired, not that it is unknown.
//
// Two files and no transaction: a rotation (project/hmac-rotation.ts), under
// a baton lock on hmac.key,
// first writes the list with the outgoing key in it, then replaces hmac.key;
// readers read hmac.key first, then the list. So a reader that sees the new
// key also sees the list that holds the old one, wherever its two reads fall.
// A crash between the writes leaves the current key listed as retiring too,
// which changes nothing (a reader skips it; the next rotation tidies it). Each
// write is a temp file, fsync and rename: the old file or the new, never half.
import { closeSync, fsyncSync, linkSync, openSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { BatonError, errnoCode, fsError } from '../errors.ts';
import { fsyncDirectory, serializeJson } from '../files/atomic-write.ts';
import { fileVersion } from '../files/file-version.ts';
import { readPrivateFileSync, writePrivateFileSync } from '../files/private-file.ts';
import { ensureStateDir, statePaths } from './state-dir.ts';

function parseHmacKey(path: string, text: string): Buffer {
  const hex = text.trim();
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
    throw new BatonError('CORRUPT_FILE', `HMAC key ${path} must hold 64 hex characters (32 bytes); remove it to have a new one made (signing clients then need the new one)`, {
      details: { path },
    });
  }
  return Buffer.from(hex, 'hex');
}

/** The HMAC secret at `path`, or undefined when there is none yet. */
export function readHmacKey(path: string): Buffer | undefined {
  const text = readPrivateFileSync(path);
  return text === undefined ? undefined : parseHmacKey(path, text);
}

/**
 * The HMAC secret (32 raw bytes), made on first use. Concurrent callers agree
 * on one: the key is written whole to a private temp file, then hard-linked
 * into place, which fails if another process got there first.
 */
export async function ensureHmacSecret(stateDir: string): Promise<Buffer> {
  const path = statePaths(stateDir).hmacKey;
  const existing = readHmacKey(path);
  if (existing !== undefined) return existing;
  ensureStateDir(stateDir);
  const hex = randomBytes(32).toString('hex');
  const temp = join(stateDir, `.hmac.key.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const fd = openSync(temp, 'wx', 0o600);
    try {
      writeSync(fd, hex);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    try {
      linkSync(temp, path);
    } catch (error) {
      const code = errnoCode(error);
      if (code === 'EEXIST') {
        // another process made it first: use theirs
      } else if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS') {
        // No hard links on this filesystem: exclusive create instead.
        try {
          writeFileSync(path, hex, { flag: 'wx', mode: 0o600 });
        } catch (again) {
          if (errnoCode(again) !== 'EEXIST') throw again;
        }
      } else {
        throw error;
      }
    }
    fsyncDirectory(stateDir);
  } catch (error) {
    throw fsError(error, 'create the HMAC key', path);
  } finally {
    try {
      unlinkSync(temp);
    } catch {
      // not made, or gone
    }
  }
  const key = readHmacKey(path);
  if (key === undefined) throw new BatonError('NOT_FOUND', `HMAC key ${path} vanished while it was being made`, { details: { path } });
  return key;
}

/** A key `baton auth rotate-key` replaced. */
export interface RetiringKey {
  key: Buffer;
  /** When it was replaced, ms since the epoch. */
  rotatedAt: number;
  /** When it stops verifying (its overlap ends), ms since the epoch. */
  retiresAt: number;
}

/** What verifies, and what did: the current key, and the replaced ones still listed (some may have retired: retiresAt <= now). */
export interface HmacKeys {
  current: Buffer;
  retiring: RetiringKey[];
}

function corruptRetiring(path: string, why: string): BatonError {
  // Never the parser's own message: it quotes the file, and the file holds keys.
  return new BatonError('CORRUPT_FILE', `HMAC key list ${path} ${why}; remove it to end every overlap at once (clients must then sign with the current hmac.key)`, { details: { path } });
}

/** The replaced keys listed at `path` (hmac-retiring.json); none when there is no file. */
export function readRetiring(path: string): RetiringKey[] {
  const text = readPrivateFileSync(path);
  if (text === undefined) return [];
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw corruptRetiring(path, 'is not valid JSON');
  }
  const d = doc as { version?: unknown; keys?: unknown } | null;
  if (typeof d !== 'object' || d === null || d.version !== 1 || !Array.isArray(d.keys)) throw corruptRetiring(path, 'is not a version 1 key list ({"version":1,"keys":[...]})');
  return d.keys.map((k: unknown, i) => {
    const r = k as { key?: unknown; rotatedAt?: unknown; retiresAt?: unknown } | null;
    const ok = typeof r === 'object' && r !== null && typeof r.key === 'string' && /^[0-9a-f]{64}$/.test(r.key) && Number.isSafeInteger(r.rotatedAt) && Number.isSafeInteger(r.retiresAt);
    if (!ok) throw corruptRetiring(path, `has a malformed entry at keys[${i}]`);
    return { key: Buffer.from(r.key as string, 'hex'), rotatedAt: r.rotatedAt as number, retiresAt: r.retiresAt as number };
  });
}

/** Replaces the list at `path` (hold the lock on hmac.key: project/hmac-rotation.ts). */
export function writeRetiring(path: string, keys: RetiringKey[]): void {
  const doc = { version: 1, keys: keys.map((k) => ({ key: k.key.toString('hex'), rotatedAt: k.rotatedAt, retiresAt: k.retiresAt })) };
  writePrivateFileSync(path, serializeJson(path, doc));
}

/** The keys now, read in the order the rotation's comment above relies on: hmac.key first. Undefined when there is no hmac.key. */
function readHmacKeys(paths: { hmacKey: string; hmacRetiring: string }, withRetiring: boolean): HmacKeys | undefined {
  const current = readHmacKey(paths.hmacKey);
  if (current === undefined) return undefined;
  // Listed and current both: a rotation that crashed between its two writes.
  const retiring = withRetiring ? readRetiring(paths.hmacRetiring).filter((k) => !k.key.equals(current)) : [];
  return { current, retiring };
}

/**
 * The keys as the files hold them, re-read only when one changed: a rotation
 * shows on the next call, with no restart. The daemon reads the replaced keys
 * too; a client only signs, with the current one.
 */
export class HmacKeyFiles {
  readonly #paths: { hmacKey: string; hmacRetiring: string };
  readonly #withRetiring: boolean;
  #cache: { version: string; keys: HmacKeys | undefined } | undefined;

  /** `path`: an hmac.key; the list of replaced keys is beside it. */
  constructor(path: string, options: { retiring?: boolean } = {}) {
    this.#paths = { hmacKey: path, hmacRetiring: statePaths(dirname(path)).hmacRetiring };
    this.#withRetiring = options.retiring === true;
  }

  read(): HmacKeys | undefined {
    // Versions before contents: content newer than its version only costs one more read next time.
    const version = `${fileVersion(this.#paths.hmacKey)}|${this.#withRetiring ? fileVersion(this.#paths.hmacRetiring) : ''}`;
    if (this.#cache?.version !== version) this.#cache = { version, keys: readHmacKeys(this.#paths, this.#withRetiring) };
    return this.#cache.keys;
  }
}
