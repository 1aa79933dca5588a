// The lock's files on disk: names, reading and writing records, and the
// verdicts on them. Metadata steps are synchronous (see lock.ts).
import { closeSync, existsSync, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readSync, rmdirSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { BatonError, errnoCode, fsError } from '../../errors.ts';
import { judgeRecord, ownerIdTime, parseRecord, serializeRecord, type LockRecord } from './record.ts';
import type { LockHolder } from './types.ts';

export interface LockPaths {
  resourcePath: string;
  lockPath: string;
  dir: string;
  readersDir: string;
  waitingDir: string;
}

export function lockPaths(resource: string): LockPaths {
  if (typeof resource !== 'string' || resource.length === 0 || resource.includes('\0')) {
    throw new BatonError('INVALID_ARGUMENT', `resource path must be a non-empty string, got ${JSON.stringify(resource)}`);
  }
  const resourcePath = resolve(resource);
  const lockPath = `${resourcePath}.lock`;
  return { resourcePath, lockPath, dir: dirname(resourcePath), readersDir: `${lockPath}.readers`, waitingDir: `${lockPath}.waiting` };
}

export const privateName = (paths: LockPaths, ownerId: string): string => `${paths.lockPath}.${ownerId}`;

export function ignore(codes: string[], fn: () => void): void {
  try {
    fn();
  } catch (error) {
    if (!codes.includes(errnoCode(error) ?? '')) throw error;
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export interface RecordFile {
  record: LockRecord | null;
  mtimeMs: number;
}

/** Reads a record file; undefined when it does not exist. */
export function readRecordFile(path: string): RecordFile | undefined {
  // A record is only rewritten in place when `baton run` adds its child; a
  // reader that catches that moment sees bad JSON and reads again.
  for (let attempt = 0; ; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return undefined;
      throw fsError(error, 'read lock', path);
    }
    try {
      const stat = fstatSync(fd);
      if (stat.isDirectory()) {
        throw new BatonError('IS_A_DIRECTORY', `lock path ${path} is a directory, not a baton lock file (left by another tool? remove it by hand)`, {
          details: { path },
        });
      }
      const buffer = Buffer.alloc(Math.min(stat.size, 1 << 20));
      const length = readSync(fd, buffer, 0, buffer.length, 0);
      const record = parseRecord(buffer.toString('utf8', 0, length));
      if (record !== null || attempt >= 3) return { record, mtimeMs: stat.mtimeMs };
    } catch (error) {
      throw fsError(error, 'read lock', path);
    } finally {
      closeSync(fd);
    }
    sleepSync(2);
  }
}

/** lstat, or undefined if the path does not exist. */
export function lstatIfExists(path: string, action: string): Stats | undefined {
  try {
    return lstatSync(path, { throwIfNoEntry: false });
  } catch (error) {
    throw fsError(error, action, path);
  }
}

export function writePrivate(path: string, record: LockRecord): void {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      const why = code === 'ENOENT' ? 'does not exist' : 'is not a directory (or a directory above it is not)';
      throw new BatonError('NOT_FOUND', `cannot lock ${record.resource}: directory ${dirname(path)} ${why}`, { cause: error, details: { path } });
    }
    throw fsError(error, 'create lock', path);
  }
  try {
    const bytes = Buffer.from(serializeRecord(record));
    for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
  } catch (error) {
    closeSync(fd);
    ignore(['ENOENT'], () => unlinkSync(path));
    throw fsError(error, 'write lock', path);
  }
  closeSync(fd);
}

/** The holder a record file describes, or undefined if it cannot be read as a record. */
export function holderOf(path: string, file: RecordFile): LockHolder | undefined {
  if (file.record === null) return undefined;
  return { record: file.record, path, renewedAt: new Date(file.mtimeMs).toISOString(), verdict: judgeRecord(file.record, file.mtimeMs) };
}

/** The shared holders' entries with their records (entries that vanished meanwhile are left out). */
export function listReaders(paths: LockPaths): Array<{ path: string; file: RecordFile }> {
  const out: Array<{ path: string; file: RecordFile }> = [];
  for (const name of listDir(paths.readersDir)) {
    const path = join(paths.readersDir, name);
    const file = readRecordFile(path);
    if (file !== undefined) out.push({ path, file });
  }
  return out;
}

/** Removes a directory that exists only while it has entries; true if it was empty and is gone. */
export function removeIfEmpty(dir: string): boolean {
  try {
    rmdirSync(dir);
    return true;
  } catch (error) {
    if (['ENOENT', 'ENOTEMPTY', 'EEXIST'].includes(errnoCode(error) ?? '')) return false;
    throw fsError(error, 'remove', dir);
  }
}

/**
 * Creates an entry (with `create`) in a directory that exists only while it
 * has entries, re-creating the directory if its last entry's owner removed it
 * between our mkdir and our create. False if `create` fails with ENOENT while
 * the directory is there (its source is gone).
 */
export function addToTransientDir(dir: string, create: () => void, action: string): boolean {
  // Under contention the directory usually exists: create first, mkdir only when it is missing.
  for (let tries = 0; tries < 100; tries++) {
    try {
      create();
      return true;
    } catch (error) {
      const code = errnoCode(error);
      if (code === 'EEXIST') return true;
      if (code !== 'ENOENT') throw fsError(error, action, dir);
      if (existsSync(dir)) return false;
    }
    try {
      mkdirSync(dir, { mode: 0o700 });
    } catch (error) {
      if (errnoCode(error) !== 'EEXIST') throw fsError(error, action, dir);
    }
  }
  throw new BatonError('IO_ERROR', `cannot ${action} ${dir}: it keeps disappearing`, { details: { path: dir } });
}

export function corruptError(lockPath: string): BatonError {
  return new BatonError(
    'LOCK_CORRUPT',
    `lock record ${lockPath} is not a valid baton lock record; if no process holds it, remove it with: baton lock remove --force ${lockPath.slice(0, -'.lock'.length)}`,
    { details: { path: lockPath } },
  );
}

export function listDir(dir: string): string[] {
  // The readers and waiting directories are usually absent: no exception (and stack trace) for that.
  if (!existsSync(dir)) return [];
  try {
    return readdirSync(dir);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return [];
    throw fsError(error, 'list', dir);
  }
}

/**
 * Whether a contender's private record may be cleared: its process is gone,
 * or it is empty and old (killed between creating and writing it; a live
 * contender writes its record microseconds after creating it). Clearing a
 * live waiter's record is harmless (it starts over); the caller must never
 * pass the current holder's.
 */
export function contenderGone(file: RecordFile | undefined, ownerId: string): boolean {
  if (file === undefined) return false;
  if (file.record === null) return Date.now() - ownerIdTime(ownerId) > EMPTY_RECORD_GRACE_MS;
  return judgeRecord(file.record, file.mtimeMs).alive === false;
}

export const EMPTY_RECORD_GRACE_MS = 5000;

export function describeHolder(holder: LockHolder | undefined): string {
  if (holder === undefined) return '';
  const r = holder.record;
  return ` (${r.type} lock held by pid ${r.pid} on ${r.hostname} since ${r.acquiredAt})`;
}

