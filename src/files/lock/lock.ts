// Cross-process file locks: exclusive and shared, stale recovery on proof,
// race-free takeover, prompt handoff, TTL renewal and lost-lock signals.
//
// On disk, for a resource R (full protocol in docs/file-locks.md):
//   R.lock                 the exclusive holder's record (a hard link of its private file)
//   R.lock.<ownerId>       each contender's private record, written whole before it is linked anywhere
//   R.lock.readers/<id>    shared holders (hard links of their private records)
//   R.lock.waiting/<id>    contenders waiting for their turn (hard links too): whom a release wakes
//   R.lock.<id>.end.<w>    transient: generation <id> is being ended by <w>
//
// The single rule that makes takeover race-free: a generation (one holder's
// R.lock) ends only by renaming that holder's private name, which is never
// reused, to an end name. Exactly one process can win that rename, and only
// the winner unlinks R.lock, so nobody can delete a lock that a later holder
// has just created (the failure of check-then-delete schemes).
//
// Metadata steps are synchronous on purpose: each is one local syscall, and
// no other code of ours can run between winning a rename and the unlink.
import { unlinkSync } from 'node:fs';
import { BatonError, fsError } from '../../errors.ts';
import { acquireHandle } from './contender.ts';
import {
  corruptError,
  describeHolder,
  holderOf,
  ignore,
  listDir,
  listReaders,
  lockPaths,
  privateName,
  readRecordFile,
  writePrivate,
} from './disk.ts';
import { endGeneration, sweepLitter } from './generation.ts';
import { validateLockOptions } from './options.ts';
import { finishRetained } from './retention.ts';
import { corruptRecordIsStale, createRecord, OWNER_ID } from './record.ts';
import type { FileLockService, LockHandle, LockHolder, LockInfo, LockOptions, LockResult, RemoveResult } from './types.ts';
import { leaveReaders } from './waker.ts';

export type { LockRecord, LockType } from './record.ts';
export type { FileLockService, LockHandle, LockHolder, LockInfo, LockOptions, LockResult, RemoveResult } from './types.ts';

function failure(error: unknown): LockResult & { success: false } {
  const e = error instanceof BatonError ? error : fsError(error, 'lock', '?');
  const reason = e.code === 'LOCK_TIMEOUT' ? 'timeout' : e.code === 'LOCKED' ? 'locked' : 'error';
  const holder = e.details.holder as LockHolder | undefined;
  return holder === undefined ? { success: false, reason, message: e.message, code: e.code } : { success: false, reason, message: e.message, code: e.code, holder };
}

/** Tries to take the lock; never throws (failures come back as `success: false`). */
export async function acquireLock(resourcePath: string, options?: LockOptions): Promise<LockResult> {
  try {
    return { success: true, handle: await acquireHandle(resourcePath, options) };
  } catch (error) {
    return failure(error);
  }
}

/** Runs `fn` while holding the lock; throws a BatonError (LOCK_TIMEOUT, LOCKED, ...) if it cannot be had. */
export async function withLock<T>(resourcePath: string, fn: (handle: LockHandle) => Promise<T> | T, options?: LockOptions): Promise<T> {
  const handle = await acquireHandle(resourcePath, options);
  try {
    return await fn(handle);
  } finally {
    await handle.release();
  }
}

/**
 * Takes several locks in one canonical order (sorted absolute paths), so two
 * callers asking for overlapping sets can never deadlock.
 */
export async function withLocks<T>(resourcePaths: string[], fn: (handles: LockHandle[]) => Promise<T> | T, options?: LockOptions): Promise<T> {
  if (!Array.isArray(resourcePaths)) throw new BatonError('INVALID_ARGUMENT', `resourcePaths must be an array, got ${typeof resourcePaths}`);
  const ordered = [...new Set(resourcePaths.map((p) => lockPaths(p).resourcePath))].sort();
  const handles: LockHandle[] = [];
  try {
    for (const path of ordered) handles.push(await acquireHandle(path, options));
    return await fn(handles);
  } finally {
    for (const handle of handles.reverse()) await handle.release();
  }
}

/** Reads the lock's holders and whether they are alive. */
export async function readLock(resourcePath: string): Promise<LockInfo> {
  const paths = lockPaths(resourcePath);
  finishRetained(paths.lockPath);
  const holders: LockHolder[] = [];
  const writer = readRecordFile(paths.lockPath);
  if (writer !== undefined && writer.record === null) {
    return { resourcePath: paths.resourcePath, lockPath: paths.lockPath, state: 'corrupt', holders, waiting: [], message: corruptError(paths.lockPath).message };
  }
  const found = [...(writer ? [{ path: paths.lockPath, file: writer }] : []), ...listReaders(paths)];
  for (const { path, file } of found) {
    const holder = holderOf(path, file);
    if (holder) holders.push(holder);
  }
  const waiting: LockHolder[] = [];
  for (const id of listDir(paths.waitingDir).sort()) {
    const path = privateName(paths, id);
    const file = OWNER_ID.test(id) ? readRecordFile(path) : undefined;
    const waiter = file && holderOf(path, file);
    if (waiter) waiting.push(waiter);
  }
  const live = holders.filter((h) => !h.verdict.stale);
  const state = holders.length === 0 ? 'unlocked' : live.length > 0 ? 'held' : 'stale';
  const message =
    state === 'unlocked'
      ? `${paths.resourcePath} is not locked`
      : `${paths.resourcePath} is ${state === 'held' ? 'locked' : 'locked by a holder that is gone (stale)'}${describeHolder(live[0] ?? holders[0])}`;
  return { resourcePath: paths.resourcePath, lockPath: paths.lockPath, state, holders, waiting, message };
}

export async function isLocked(resourcePath: string): Promise<boolean> {
  const info = await readLock(resourcePath);
  return info.state === 'held' || info.state === 'corrupt';
}

/**
 * Removes stale holders of a lock; live ones only with `force`. A live holder
 * whose lock is removed by force learns it through its handle's signal.
 */
export async function removeLock(resourcePath: string, options: { force?: boolean } = {}): Promise<RemoveResult> {
  const paths = lockPaths(resourcePath);
  finishRetained(paths.lockPath);
  const force = options.force === true;
  const result: RemoveResult = { removed: [], kept: [] };
  const writer = readRecordFile(paths.lockPath);
  if (writer !== undefined && writer.record === null) {
    if (!force && !corruptRecordIsStale(writer.mtimeMs)) throw corruptError(paths.lockPath);
    ignore(['ENOENT'], () => unlinkSync(paths.lockPath));
  } else if (writer !== undefined) {
    const holder = holderOf(paths.lockPath, writer)!;
    if (holder.verdict.stale || force) {
      // Race for the end like any contender, with a record of our own so others can judge us.
      const me = createRecord(paths.resourcePath, 'exclusive', null);
      writePrivate(privateName(paths, me.ownerId), me);
      try {
        if (endGeneration(paths, holder.record.ownerId, me.ownerId)) result.removed.push(holder);
      } finally {
        ignore(['ENOENT'], () => unlinkSync(privateName(paths, me.ownerId)));
      }
    } else {
      result.kept.push(holder);
    }
  }
  for (const { path, file } of listReaders(paths)) {
    const holder = holderOf(path, file);
    if (holder === undefined) continue;
    if (holder.verdict.stale || force) {
      ignore(['ENOENT'], () => unlinkSync(path));
      result.removed.push(holder);
    } else {
      result.kept.push(holder);
    }
  }
  leaveReaders(paths);
  sweepLitter(paths);
  return result;
}

export class FileLocks implements FileLockService {
  readonly defaults: LockOptions;

  constructor(defaults: LockOptions = {}) {
    validateLockOptions(defaults);
    this.defaults = defaults;
  }

  acquire(resourcePath: string, options?: LockOptions): Promise<LockResult> {
    return acquireLock(resourcePath, { ...this.defaults, ...options });
  }

  withLock<T>(resourcePath: string, fn: (handle: LockHandle) => Promise<T> | T, options?: LockOptions): Promise<T> {
    return withLock(resourcePath, fn, { ...this.defaults, ...options });
  }

  withLocks<T>(resourcePaths: string[], fn: (handles: LockHandle[]) => Promise<T> | T, options?: LockOptions): Promise<T> {
    return withLocks(resourcePaths, fn, { ...this.defaults, ...options });
  }

  isLocked(resourcePath: string): Promise<boolean> {
    return isLocked(resourcePath);
  }

  read(resourcePath: string): Promise<LockInfo> {
    return readLock(resourcePath);
  }
}
