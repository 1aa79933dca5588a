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
import {
  closeSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  rmdirSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeSync,
  fstatSync,
  ftruncateSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { BatonError, errnoCode, fsError, type ErrorCode } from '../errors.ts';
import { backoffDelay, watchWakeFile, type Waker } from './waker.ts';
import {
  corruptRecordIsStale,
  createRecord,
  judgeRecord,
  OWNER_ID,
  parseRecord,
  serializeRecord,
  type LockRecord,
  type LockType,
  type Verdict,
} from './lock-record.ts';
import { processRef } from './process-info.ts';
import { validateLockOptions, type NormalizedLockOptions } from './lock-options.ts';

export type { LockRecord, LockType } from './lock-record.ts';

export interface LockOptions {
  /** Milliseconds to wait for the lock (default 30000). 0 tries once; Infinity waits for ever. */
  timeout?: number;
  /** Cap of the fallback polling interval in ms (default 100); waiters are normally woken by a directory watch. */
  retryInterval?: number;
  /** Give up after this many failed attempts (default: no limit, only the timeout). */
  maxRetries?: number;
  /** 'exclusive' (default): one holder. 'shared': many holders, no exclusive one. */
  type?: LockType;
  /**
   * Lease time in ms. The holder renews the record every ttl/3; if it stops
   * (suspended, blocked, or on another host and gone) others may reclaim the
   * lock after `ttl`, and the holder's `signal` fires. Without a TTL a lock on
   * this host is reclaimed only when its process is gone.
   */
  ttl?: number;
  /** Aborts waiting for the lock. */
  signal?: AbortSignal;
}

export interface LockHandle {
  release(): Promise<void>;
  /** False once released or lost, and at once when a TTL lock was not renewed in time. */
  isHeld(): boolean;
  readonly lockPath: string;
  readonly resourcePath: string;
  readonly type: LockType;
  /** Aborts (reason: a BatonError with code LOCK_LOST) if the lock is lost while held. */
  readonly signal: AbortSignal;
  /** The record this holder wrote. */
  readonly record: Readonly<LockRecord>;
  /** True if taking the lock meant reclaiming it from a dead or expired holder (a crash happened). */
  readonly reclaimed: boolean;
  /** Makes another process keep the lock alive too, for as long as it runs (used by `baton run`). */
  addProcess(pid: number): void;
}

export interface LockHolder {
  record: LockRecord;
  /** Where the record lives on disk. */
  path: string;
  /** Last renewal (the record's mtime). */
  renewedAt: string;
  verdict: Verdict;
}

export type LockResult =
  | { success: true; handle: LockHandle }
  | { success: false; reason: 'timeout' | 'locked' | 'error'; message: string; code: ErrorCode; holder?: LockHolder };

export interface LockInfo {
  resourcePath: string;
  lockPath: string;
  state: 'unlocked' | 'held' | 'stale' | 'corrupt';
  /** The exclusive holder (or waiting writer) and every shared holder. */
  holders: LockHolder[];
  /** Contenders waiting for their turn, longest-waiting first. */
  waiting: LockHolder[];
  message: string;
}

/** How often a waiter re-checks a live holder on this host: a killed holder wakes nobody. */
const SAME_HOST_POLL_MS = 15;
/** How long a waiter trusts its verdict on a holder (same record inode) before judging again. */
const VERDICT_CACHE_MS = 5;

// ---------------------------------------------------------------------------
// Paths and small sync helpers

interface LockPaths {
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

const privateName = (paths: LockPaths, ownerId: string): string => `${paths.lockPath}.${ownerId}`;

function ignore(codes: string[], fn: () => void): void {
  try {
    fn();
  } catch (error) {
    if (!codes.includes(errnoCode(error) ?? '')) throw error;
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

interface RecordFile {
  record: LockRecord | null;
  mtimeMs: number;
}

/** Reads a record file; undefined when it does not exist. */
function readRecordFile(path: string): RecordFile | undefined {
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

function writePrivate(path: string, record: LockRecord): void {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new BatonError('NOT_FOUND', `cannot lock ${record.resource}: directory ${dirname(path)} does not exist`, { cause: error, details: { path } });
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

function holderOf(path: string, file: RecordFile & { record: LockRecord }): LockHolder {
  return { record: file.record, path, renewedAt: new Date(file.mtimeMs).toISOString(), verdict: judgeRecord(file.record, file.mtimeMs) };
}

function corruptError(lockPath: string): BatonError {
  return new BatonError(
    'LOCK_CORRUPT',
    `lock record ${lockPath} is not a valid baton lock record; if no process holds it, remove it with: baton lock remove --force ${lockPath.slice(0, -'.lock'.length)}`,
    { details: { path: lockPath } },
  );
}

// ---------------------------------------------------------------------------
// Ending a generation: the one race-free way to take R.lock away

/**
 * Ends the generation of `ownerId` on behalf of `winnerId`. Returns true if
 * this call won and removed R.lock, false if someone else already had.
 */
function endGeneration(paths: LockPaths, ownerId: string, winnerId: string, recovering = false): boolean {
  const endName = `${paths.lockPath}.${ownerId}.end.${winnerId}`;
  try {
    renameSync(privateName(paths, ownerId), endName);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return recovering ? false : endOrphan(paths, ownerId, winnerId);
    throw fsError(error, 'end lock', paths.lockPath);
  }
  finishEnd(paths, endName);
  return true;
}

/**
 * Whether the process that won the right to end a generation is provably
 * gone, so the right may pass on. A winner that is the owner itself (a
 * release) has its record at the end name; any other winner keeps its own
 * private record until it has finished.
 */
function winnerGone(paths: LockPaths, ownerId: string, winner: string, endPath: string): boolean {
  const file = readRecordFile(winner === ownerId ? endPath : privateName(paths, winner));
  if (file === undefined) return winner !== ownerId; // a winner finishes before it drops its record
  if (file.record === null) return false;
  const verdict = judgeRecord(file.record, file.mtimeMs);
  // Proof of death on this host; elsewhere, a lease that ran out.
  return verdict.alive === false || (verdict.alive === null && verdict.stale);
}

function finishEnd(paths: LockPaths, endName: string): void {
  ignore(['ENOENT'], () => unlinkSync(paths.lockPath));
  ignore(['ENOENT'], () => unlinkSync(endName));
}

/**
 * The owner's private name is gone. Either someone is ending the generation
 * right now (an end name exists), or a winner died between its rename and
 * its unlink, or the private name was deleted by hand. The right to finish
 * passes on only through names that are never reused, so again exactly one
 * process finishes.
 */
function endOrphan(paths: LockPaths, ownerId: string, winnerId: string): boolean {
  const prefix = `${basename(paths.lockPath)}.${ownerId}.end.`;
  const ends = listDir(paths.dir).filter((name) => name.startsWith(prefix));
  const current = readRecordFile(paths.lockPath);
  if (current?.record?.ownerId !== ownerId) return false;
  for (const name of ends) {
    const previousWinner = name.slice(prefix.length);
    if (previousWinner === winnerId) continue;
    if (!winnerGone(paths, ownerId, previousWinner, join(paths.dir, name))) return false;
    const mine = `${paths.lockPath}.${ownerId}.end.${winnerId}`;
    try {
      renameSync(join(paths.dir, name), mine);
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return false;
      throw fsError(error, 'end lock', paths.lockPath);
    }
    finishEnd(paths, mine);
    return true;
  }
  if (ends.length > 0) return false;
  // No end name existed and R.lock was still this generation after we looked:
  // nobody holds the right to end it. Re-create the owner's private name from
  // R.lock (link is exclusive) and check it names this owner before using it.
  const restored = privateName(paths, ownerId);
  try {
    linkSync(paths.lockPath, restored);
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT') return false;
    if (code !== 'EEXIST') throw fsError(error, 'end lock', paths.lockPath);
  }
  if (readRecordFile(restored)?.record?.ownerId !== ownerId) {
    // R.lock changed hands meanwhile: our new name points at the new holder's record; drop it.
    ignore(['ENOENT'], () => unlinkSync(restored));
    return false;
  }
  return endGeneration(paths, ownerId, winnerId, true);
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return [];
    throw fsError(error, 'list', dir);
  }
}

/**
 * After a crash was proven, clears the files dead processes left behind:
 * private records and end names of generations that are over.
 */
function sweepLitter(paths: LockPaths): void {
  const base = `${basename(paths.lockPath)}.`;
  // Read R.lock's owner again right before each deletion: the listing is slow,
  // and a contender may have become the holder (and died) since it began.
  const currentOwner = (): string | undefined => readRecordFile(paths.lockPath)?.record?.ownerId;
  for (const name of listDir(paths.dir)) {
    if (!name.startsWith(base)) continue;
    const rest = name.slice(base.length);
    const full = join(paths.dir, name);
    const end = rest.indexOf('.end.');
    try {
      if (end > 0) {
        if (rest.slice(0, end) !== currentOwner()) ignore(['ENOENT'], () => unlinkSync(full));
      } else if (OWNER_ID.test(rest) && contenderGone(readRecordFile(full), rest) && rest !== currentOwner()) {
        ignore(['ENOENT'], () => unlinkSync(full));
      }
    } catch {
      // Best effort: litter never blocks a lock.
    }
  }
  for (const id of listDir(paths.waitingDir)) {
    try {
      if (waiterGone(paths, id)) ignore(['ENOENT'], () => unlinkSync(join(paths.waitingDir, id)));
    } catch {
      // Best effort.
    }
  }
  ignore(['ENOENT', 'ENOTEMPTY', 'EEXIST'], () => rmdirSync(paths.waitingDir));
}

/**
 * Whether a contender's private record may be cleared: its process is gone,
 * or it is empty and old (killed between creating and writing it; a live
 * contender writes its record microseconds after creating it). Clearing a
 * live waiter's record is harmless (it starts over); the caller must never
 * pass the current holder's.
 */
function contenderGone(file: RecordFile | undefined, ownerId: string): boolean {
  if (file === undefined) return false;
  if (file.record === null) return Date.now() - Number.parseInt(ownerId.slice(0, 9), 36) > EMPTY_RECORD_GRACE_MS;
  return judgeRecord(file.record, file.mtimeMs).alive === false;
}

const EMPTY_RECORD_GRACE_MS = 5000;

/**
 * A wait-list entry whose contender is gone: its private record was removed
 * (it gave up, or was swept) or its process is dead.
 */
function waiterGone(paths: LockPaths, id: string): boolean {
  const file = readRecordFile(privateName(paths, id));
  return file === undefined || contenderGone(file, id);
}

/**
 * Wakes the contender that has waited longest (the smallest id: ids start
 * with their arrival time) by touching its entry in the wait list, a small
 * file of its own that it watches (never the record whose mtime is a lease).
 * With nobody waiting this costs one failed open, however large the
 * resource's directory. A contender killed while waiting left its entry
 * behind; one that has waited over a second is checked first, and dropped
 * if it is gone, so wakes are not spent on the dead.
 */
function wakeNext(paths: LockPaths, selfId: string): void {
  try {
    let ids: string[];
    try {
      ids = readdirSync(paths.waitingDir);
    } catch {
      return; // nobody waiting
    }
    ids = ids.filter((id) => id !== selfId && OWNER_ID.test(id)).sort();
    const now = new Date();
    for (const id of ids) {
      const entry = join(paths.waitingDir, id);
      if (now.getTime() - Number.parseInt(id.slice(0, 9), 36) > 1000 && waiterGone(paths, id)) {
        ignore(['ENOENT'], () => unlinkSync(entry));
        continue;
      }
      utimesSync(entry, now, now);
      return;
    }
    ignore(['ENOENT', 'ENOTEMPTY', 'EEXIST'], () => rmdirSync(paths.waitingDir));
  } catch {
    // Only a hint: waiters poll as well.
  }
}

/** Wakes one contender by its id, if it is on the wait list. */
function wake(paths: LockPaths, id: string | undefined): void {
  if (id === undefined) return;
  try {
    const now = new Date();
    utimesSync(join(paths.waitingDir, id), now, now);
  } catch {
    // not waiting
  }
}

/**
 * After removing a reader entry: the last reader out removes the directory
 * and wakes a writer waiting for readers to leave (the owner of R.lock).
 */
function leaveReaders(paths: LockPaths): void {
  try {
    rmdirSync(paths.readersDir);
  } catch (error) {
    if (['ENOENT', 'ENOTEMPTY', 'EEXIST'].includes(errnoCode(error) ?? '')) return;
    throw fsError(error, 'release lock', paths.readersDir);
  }
  try {
    wake(paths, readRecordFile(paths.lockPath)?.record?.ownerId);
  } catch {
    // no writer waiting
  }
}

// ---------------------------------------------------------------------------
// Acquisition

type Attempt = { kind: 'held' } | { kind: 'busy'; holder: LockHolder | undefined } | { kind: 'retry' };

class Contender {
  readonly paths: LockPaths;
  readonly options: NormalizedLockOptions;
  record: LockRecord;
  /** Exclusive: our record is linked as R.lock (held, or waiting for readers to leave). */
  linked = false;
  /** Shared: our record is linked into R.lock.readers. */
  registered = false;
  /** We removed a dead or expired holder on the way in. */
  reclaimed = false;
  /** Our entry is in R.lock.waiting, so a release wakes us. */
  waiting = false;
  /** Monotonic time our lease was last renewed (the record written or touched). */
  renewedAt = performance.now();

  constructor(paths: LockPaths, options: NormalizedLockOptions) {
    this.paths = paths;
    this.options = options;
    this.record = createRecord(paths.resourcePath, options.type, options.ttl);
    writePrivate(this.private, this.record);
  }

  get private(): string {
    return privateName(this.paths, this.record.ownerId);
  }

  get readerName(): string {
    return join(this.paths.readersDir, this.record.ownerId);
  }

  attempt(): Attempt {
    return this.options.type === 'exclusive' ? this.attemptExclusive() : this.attemptShared();
  }

  private attemptExclusive(): Attempt {
    const waitedLinked = this.linked;
    if (!this.linked) {
      // A fresh lease the moment we link: we may have waited longer than our TTL.
      if (!this.touch()) return this.renew();
      try {
        linkSync(this.private, this.paths.lockPath);
        this.linked = true;
      } catch (error) {
        const code = errnoCode(error);
        if (code === 'EEXIST') return this.inspectWriter();
        if (code === 'ENOENT' && !this.privateExists()) return this.renew();
        throw fsError(error, 'create lock', this.paths.lockPath);
      }
    } else {
      // We hold R.lock and wait for readers to leave. If our lease ran out
      // meanwhile (we were stalled), someone may have reclaimed it: give it
      // up and start over rather than renew a lease that is no longer ours.
      if (this.options.ttl !== null && performance.now() - this.renewedAt > this.options.ttl) {
        endGeneration(this.paths, this.record.ownerId, this.record.ownerId);
        return this.renew();
      }
      if (!this.touch()) return this.renew();
    }
    // Our record blocks new readers; wait for the ones already in to leave.
    let busy: LockHolder | undefined;
    let reaped = false;
    for (const name of listDir(this.paths.readersDir)) {
      const path = join(this.paths.readersDir, name);
      const file = readRecordFile(path);
      if (file === undefined) continue;
      if (file.record === null) {
        if (corruptRecordIsStale(file.mtimeMs)) {
          ignore(['ENOENT'], () => unlinkSync(path));
          continue;
        }
        throw corruptError(path);
      }
      const holder = holderOf(path, file as RecordFile & { record: LockRecord });
      if (holder.verdict.stale) {
        // Reader names are never reused, so deleting a dead reader's name cannot hit anyone else.
        ignore(['ENOENT'], () => unlinkSync(path));
        reaped = true;
        this.reclaimed = true;
      } else {
        busy ??= holder;
      }
    }
    if (reaped) sweepLitter(this.paths);
    if (busy !== undefined) return { kind: 'busy', holder: busy };
    // After waiting for readers, make sure R.lock is still ours (not ended by force meanwhile).
    if (waitedLinked && !this.ownsLockFile()) {
      this.linked = false;
      return this.renew();
    }
    return { kind: 'held' };
  }

  /** Renews our record's mtime (the lease) if we have a TTL; false if our record is gone. */
  private touch(): boolean {
    if (this.options.ttl === null) return true;
    try {
      const now = new Date();
      utimesSync(this.private, now, now);
      this.renewedAt = performance.now();
      return true;
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return false;
      throw fsError(error, 'renew lock', this.private);
    }
  }

  private ownsLockFile(): boolean {
    try {
      const lock = lstatSync(this.paths.lockPath);
      const mine = lstatSync(this.private);
      return lock.ino === mine.ino && lock.dev === mine.dev;
    } catch {
      return false;
    }
  }

  private attemptShared(): Attempt {
    if (!this.registered) {
      if (!this.touch()) return this.renew();
      for (let tries = 0; ; tries++) {
        try {
          mkdirSync(this.paths.readersDir, { mode: 0o700 });
        } catch (error) {
          if (errnoCode(error) !== 'EEXIST') throw fsError(error, 'create lock', this.paths.readersDir);
        }
        try {
          linkSync(this.private, this.readerName);
          this.registered = true;
          break;
        } catch (error) {
          const code = errnoCode(error);
          // The directory was removed by the last reader leaving between our mkdir and link.
          if (code === 'ENOENT' && tries < 100 && this.privateExists()) continue;
          if (code === 'ENOENT' && !this.privateExists()) return this.renew();
          throw fsError(error, 'create lock', this.readerName);
        }
      }
    }
    // Registered first, then look for a writer: a writer links R.lock first and
    // then looks for readers, so at least one of the two sees the other.
    const writer = readRecordFile(this.paths.lockPath);
    if (writer === undefined) return { kind: 'held' };
    this.unregister();
    return this.judgeWriter(writer);
  }

  // Woken waiters re-check a holder they judged alive a moment ago with one lstat, not a full read.
  private judged: { ino: number; at: number; holder: LockHolder } | undefined;

  private inspectWriter(): Attempt {
    let ino: number;
    try {
      ino = lstatSync(this.paths.lockPath).ino;
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return { kind: 'retry' };
      throw fsError(error, 'read lock', this.paths.lockPath);
    }
    if (this.judged !== undefined && this.judged.ino === ino && performance.now() - this.judged.at < VERDICT_CACHE_MS) {
      return { kind: 'busy', holder: this.judged.holder };
    }
    const file = readRecordFile(this.paths.lockPath);
    if (file === undefined) return { kind: 'retry' };
    const outcome = this.judgeWriter(file);
    this.judged = outcome.kind === 'busy' && outcome.holder !== undefined ? { ino, at: performance.now(), holder: outcome.holder } : undefined;
    return outcome;
  }

  private judgeWriter(file: RecordFile): Attempt {
    if (file.record === null) throw corruptError(this.paths.lockPath);
    const holder = holderOf(this.paths.lockPath, file as RecordFile & { record: LockRecord });
    if (!holder.verdict.stale) return { kind: 'busy', holder };
    if (endGeneration(this.paths, file.record.ownerId, this.record.ownerId)) {
      this.reclaimed = true;
      sweepLitter(this.paths);
      return { kind: 'retry' };
    }
    // Someone else is ending it right now; the directory watch wakes us.
    return { kind: 'busy', holder };
  }

  private privateExists(): boolean {
    try {
      lstatSync(this.private);
      return true;
    } catch {
      return false;
    }
  }

  /** Where a release wakes us: our entry on the wait list (an empty file of our own, which we watch). */
  get wakePath(): string {
    return join(this.paths.waitingDir, this.record.ownerId);
  }

  /** Puts us on the wait list, so that a release wakes us. */
  joinWaitList(): void {
    if (this.waiting) return;
    for (let tries = 0; tries < 100; tries++) {
      try {
        mkdirSync(this.paths.waitingDir, { mode: 0o700 });
      } catch (error) {
        if (errnoCode(error) !== 'EEXIST') throw fsError(error, 'wait for lock', this.paths.waitingDir);
      }
      try {
        closeSync(openSync(this.wakePath, 'wx', 0o600));
        this.waiting = true;
        return;
      } catch (error) {
        const code = errnoCode(error);
        if (code === 'EEXIST') {
          this.waiting = true;
          return;
        }
        // ENOENT: the last waiter removed the directory between our mkdir and create.
        if (code !== 'ENOENT') throw fsError(error, 'wait for lock', this.wakePath);
      }
    }
  }

  leaveWaitList(): void {
    if (!this.waiting) return;
    this.waiting = false;
    ignore(['ENOENT'], () => unlinkSync(this.wakePath));
    ignore(['ENOENT', 'ENOTEMPTY', 'EEXIST'], () => rmdirSync(this.paths.waitingDir));
  }

  /** Our private record was taken away (we were reclaimed while waiting): start over with a new one. */
  private renew(): Attempt {
    this.leaveWaitList();
    this.linked = false;
    this.registered = false;
    this.record = createRecord(this.paths.resourcePath, this.options.type, this.options.ttl);
    writePrivate(this.private, this.record);
    this.renewedAt = performance.now();
    return { kind: 'retry' };
  }

  unregister(): void {
    if (!this.registered) return;
    this.registered = false;
    ignore(['ENOENT'], () => unlinkSync(this.readerName));
    leaveReaders(this.paths);
  }

  /** Gives up an attempt that did not succeed, leaving nothing behind. */
  abandon(): void {
    try {
      const wasLinked = this.linked;
      this.leaveWaitList();
      if (this.linked) endGeneration(this.paths, this.record.ownerId, this.record.ownerId);
      this.linked = false;
      this.unregister();
      ignore(['ENOENT'], () => unlinkSync(this.private));
      if (wasLinked) wakeNext(this.paths, this.record.ownerId);
    } catch {
      // Nothing more we can do; a dead or abandoned record is reclaimable by proof.
    }
  }
}

async function acquireHandle(resource: string, options: LockOptions | undefined): Promise<HeldLock> {
  const opts = validateLockOptions(options);
  const paths = lockPaths(resource);
  if (opts.signal?.aborted) throw abortError(paths);
  const contender = new Contender(paths, opts);
  // The watch is set up only once we have to wait, then we try again at once,
  // so a wake between the failed try and the watch is not missed.
  let watch: Waker | undefined;
  let watched = '';
  const deadline = performance.now() + opts.timeout;
  let failures = 0;
  try {
    for (;;) {
      const mark = watch?.mark() ?? 0;
      const outcome = contender.attempt();
      if (outcome.kind === 'held') {
        contender.leaveWaitList();
        // Readers do not exclude each other: let the next waiter try too.
        if (opts.type === 'shared') wakeNext(paths, contender.record.ownerId);
        return new HeldLock(paths, contender.record, opts, contender.reclaimed, contender.renewedAt);
      }
      if (outcome.kind === 'retry') continue;
      if (opts.timeout > 0 && watched !== contender.wakePath) {
        // Join the wait list and watch our entry, then try once more: a
        // release in between cannot go unnoticed.
        contender.joinWaitList();
        watch?.close();
        watch = watchWakeFile(contender.wakePath);
        watched = contender.wakePath;
        continue;
      }
      failures++;
      const remaining = deadline - performance.now();
      if (opts.timeout === 0 || failures > opts.maxRetries) {
        throw new BatonError('LOCKED', `${paths.resourcePath} is locked${describeHolder(outcome.holder)}`, {
          details: { path: paths.lockPath, holder: outcome.holder },
        });
      }
      if (remaining <= 0) {
        throw new BatonError('LOCK_TIMEOUT', `timed out after ${opts.timeout} ms waiting for ${paths.resourcePath}${describeHolder(outcome.holder)}`, {
          details: { path: paths.lockPath, holder: outcome.holder },
        });
      }
      // A holder killed on this host wakes nobody: poll its liveness often (a cheap kill(pid, 0)).
      const cap = outcome.holder?.verdict.alive === true ? Math.min(opts.retryInterval, SAME_HOST_POLL_MS) : opts.retryInterval;
      let pause = Math.min(remaining, backoffDelay(failures, 1, cap));
      if (opts.ttl !== null) pause = Math.min(pause, opts.ttl / 3);
      await watch!.wait(mark, pause, opts.signal);
      if (opts.signal?.aborted) throw abortError(paths);
    }
  } catch (error) {
    contender.abandon();
    throw error;
  } finally {
    watch?.close();
  }
}

function abortError(paths: LockPaths): BatonError {
  return new BatonError('ABORTED', `gave up waiting for ${paths.resourcePath}: aborted`, { details: { path: paths.lockPath } });
}

function describeHolder(holder: LockHolder | undefined): string {
  if (holder === undefined) return '';
  const r = holder.record;
  return ` (${r.type} lock held by pid ${r.pid} on ${r.hostname} since ${r.acquiredAt})`;
}

// ---------------------------------------------------------------------------
// A held lock

const NO_TTL_CHECK_MS = 2000;

class HeldLock implements LockHandle {
  readonly lockPath: string;
  readonly resourcePath: string;
  readonly type: LockType;
  readonly record: LockRecord;
  readonly reclaimed: boolean;
  readonly #paths: LockPaths;
  readonly #ttl: number | null;
  readonly #controller = new AbortController();
  #state: 'held' | 'released' | 'lost' = 'held';
  #confirmedAt = performance.now();
  #timer: ReturnType<typeof setInterval>;

  constructor(paths: LockPaths, record: LockRecord, options: NormalizedLockOptions, reclaimed: boolean, renewedAt: number) {
    this.#paths = paths;
    this.reclaimed = reclaimed;
    // The lease runs from its last renewal, not from now.
    this.#confirmedAt = renewedAt;
    this.lockPath = paths.lockPath;
    this.resourcePath = paths.resourcePath;
    this.type = options.type;
    this.record = record;
    this.#ttl = options.ttl;
    // Checks run off the event loop's keep-alive: a lock never keeps a process running.
    this.#timer = setInterval(() => this.#check(), this.#ttl === null ? NO_TTL_CHECK_MS : Math.max(1, this.#ttl / 3));
    this.#timer.unref();
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get #private(): string {
    return privateName(this.#paths, this.record.ownerId);
  }

  isHeld(): boolean {
    if (this.#state !== 'held') return false;
    if (this.#ttl !== null && performance.now() - this.#confirmedAt > this.#ttl) {
      this.#check();
      return false;
    }
    return true;
  }

  /** Renews a TTL lock and confirms we still hold it; never throws. */
  #check(): void {
    if (this.#state !== 'held') return;
    const started = performance.now();
    const late = this.#ttl !== null && started - this.#confirmedAt > this.#ttl;
    try {
      if (this.#ttl !== null && !late) {
        const now = new Date();
        utimesSync(this.#private, now, now);
      }
      // Our private name has two links while we hold: R.lock or our reader entry.
      if (statSync(this.#private).nlink < 2) return this.#lose('its record was removed (reclaimed or removed by force)');
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return this.#lose('its record was removed (reclaimed or removed by force)');
      return; // a transient error: try again next tick
    }
    if (late) return this.#lose(`it was not renewed within its TTL of ${this.#ttl} ms (was this process suspended or blocked?)`);
    this.#confirmedAt = started;
  }

  #lose(why: string): void {
    if (this.#state !== 'held') return;
    this.#state = 'lost';
    clearInterval(this.#timer);
    this.#giveUp();
    this.#controller.abort(new BatonError('LOCK_LOST', `lost the ${this.type} lock on ${this.resourcePath}: ${why}`, { details: { path: this.lockPath } }));
  }

  /** Removes our records if they are still ours (safe after a reclaim), then wakes the next waiter. */
  #giveUp(): void {
    try {
      if (this.type === 'exclusive') {
        // Ending our generation renames our private name away: nothing more to remove.
        endGeneration(this.#paths, this.record.ownerId, this.record.ownerId);
      } else {
        ignore(['ENOENT'], () => unlinkSync(join(this.#paths.readersDir, this.record.ownerId)));
        leaveReaders(this.#paths);
        ignore(['ENOENT'], () => unlinkSync(this.#private));
      }
      wakeNext(this.#paths, this.record.ownerId);
    } catch {
      // Losing or releasing a lock never throws from a timer.
    }
  }

  async release(): Promise<void> {
    if (this.#state === 'released') return;
    const wasLost = this.#state === 'lost';
    this.#state = 'released';
    clearInterval(this.#timer);
    if (!wasLost) this.#giveUp();
  }

  addProcess(pid: number): void {
    if (this.#state !== 'held') throw new BatonError('LOCK_LOST', `the lock on ${this.resourcePath} is no longer held`);
    this.record.children.push(processRef(pid));
    // Rewrite the shared inode in place (it is R.lock too); readers retry a torn read.
    const text = Buffer.from(serializeRecord(this.record));
    const fd = openSync(this.#private, 'r+');
    try {
      writeSync(fd, text, 0, text.length, 0);
      ftruncateSync(fd, text.length);
    } finally {
      closeSync(fd);
    }
  }
}

// ---------------------------------------------------------------------------
// Public operations

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
  const holders: LockHolder[] = [];
  const writer = readRecordFile(paths.lockPath);
  if (writer !== undefined && writer.record === null) {
    return { resourcePath: paths.resourcePath, lockPath: paths.lockPath, state: 'corrupt', holders, waiting: [], message: corruptError(paths.lockPath).message };
  }
  if (writer?.record) holders.push(holderOf(paths.lockPath, writer as RecordFile & { record: LockRecord }));
  for (const name of listDir(paths.readersDir)) {
    const path = join(paths.readersDir, name);
    const file = readRecordFile(path);
    if (file?.record) holders.push(holderOf(path, file as RecordFile & { record: LockRecord }));
  }
  const waiting: LockHolder[] = [];
  for (const id of listDir(paths.waitingDir).sort()) {
    const path = privateName(paths, id);
    const file = OWNER_ID.test(id) ? readRecordFile(path) : undefined;
    if (file?.record) waiting.push(holderOf(path, file as RecordFile & { record: LockRecord }));
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

export interface RemoveResult {
  removed: LockHolder[];
  /** Live holders left in place because `force` was not given. */
  kept: LockHolder[];
}

/**
 * Removes stale holders of a lock; live ones only with `force`. A live holder
 * whose lock is removed by force learns it through its handle's signal.
 */
export async function removeLock(resourcePath: string, options: { force?: boolean } = {}): Promise<RemoveResult> {
  const paths = lockPaths(resourcePath);
  const force = options.force === true;
  const result: RemoveResult = { removed: [], kept: [] };
  const writer = readRecordFile(paths.lockPath);
  if (writer !== undefined && writer.record === null) {
    if (!force && !corruptRecordIsStale(writer.mtimeMs)) throw corruptError(paths.lockPath);
    ignore(['ENOENT'], () => unlinkSync(paths.lockPath));
  } else if (writer?.record) {
    const holder = holderOf(paths.lockPath, writer as RecordFile & { record: LockRecord });
    if (holder.verdict.stale || force) {
      // Race for the end like any contender, with a record of our own so others can judge us.
      const me = createRecord(paths.resourcePath, 'exclusive', null);
      writePrivate(privateName(paths, me.ownerId), me);
      try {
        if (endGeneration(paths, writer.record.ownerId, me.ownerId)) result.removed.push(holder);
      } finally {
        ignore(['ENOENT'], () => unlinkSync(privateName(paths, me.ownerId)));
      }
    } else {
      result.kept.push(holder);
    }
  }
  for (const name of listDir(paths.readersDir)) {
    const path = join(paths.readersDir, name);
    const file = readRecordFile(path);
    if (!file?.record) continue;
    const holder = holderOf(path, file as RecordFile & { record: LockRecord });
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

/** A FileLockService with defaults applied to every call. */
export interface FileLockService {
  acquire(resourcePath: string, options?: LockOptions): Promise<LockResult>;
  withLock<T>(resourcePath: string, fn: (handle: LockHandle) => Promise<T> | T, options?: LockOptions): Promise<T>;
  isLocked(resourcePath: string): Promise<boolean>;
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
