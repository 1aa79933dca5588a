// The shared secret for signed requests, <stateDir>/hmac.key (mode 0600, 64
// hex characters = 32 bytes, used as raw bytes). The daemon makes it on its
// first `serve --listen` and verifies signatures with it; a client of a
// TCP-only daemon reads it to sign (protocol/signing.ts).
import { closeSync, fsyncSync, linkSync, openSync, readFileSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { BatonError, errnoCode, fsError } from '../errors.ts';
import { fsyncDirectory } from '../files/atomic-write.ts';
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
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw fsError(error, 'read', path);
  }
  return parseHmacKey(path, text);
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
