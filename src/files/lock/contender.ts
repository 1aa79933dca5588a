// Acquiring a lock: a contender's attempts, its place on the wait list, and
// the loop that waits between attempts.
import { closeSync, linkSync, lstatSync, openSync, unlinkSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { BatonError, errnoCode, fsError } from '../../errors.ts';
import {
  addToTransientDir,
  corruptError,
  describeHolder,
  holderOf,
  ignore,
  listDir,
  listReaders,
  lstatIfExists,
  lockPaths,
  privateName,
  readRecordFile,
  removeIfEmpty,
  writePrivate,
  type LockPaths,
  type RecordFile,
} from './disk.ts';
import { endGeneration, sweepLitter } from './generation.ts';
import { HeldLock } from './handle.ts';
import { validateLockOptions, type NormalizedLockOptions } from './options.ts';
import { corruptRecordIsStale, createRecord, OWNER_ID, type LockRecord } from './record.ts';
import type { LockHolder, LockOptions } from './types.ts';
import { takeBack } from './retention.ts';
import { backoffDelay, holdBackAfterHandover, dropIfGone, leaveReaders, wakeNext, watchWakeFile, type Waker } from './waker.ts';

/** How often a waiter re-checks a live holder on this host: a killed holder wakes nobody. */
const SAME_HOST_POLL_MS = 15;
/** How long a waiter trusts its verdict on a holder (same record inode) before judging again. */
const VERDICT_CACHE_MS = 5;

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
      // Look before linking: a lookup takes no lock on the directory, while a
      // link that fails takes it (slowing the holder's rename) and throws.
      const current = lstatIfExists(this.paths.lockPath, 'read lock');
      if (current !== undefined) return this.inspectWriter(current.ino);
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
    for (const { path, file } of listReaders(this.paths)) {
      const holder = holderOf(path, file);
      if (holder === undefined) {
        if (!corruptRecordIsStale(file.mtimeMs)) throw corruptError(path);
        ignore(['ENOENT'], () => unlinkSync(path));
        continue;
      }
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
      // False: our private record is gone (swept), so start over.
      if (!addToTransientDir(this.paths.readersDir, () => linkSync(this.private, this.readerName), 'create lock')) return this.renew();
      this.registered = true;
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

  private inspectWriter(knownIno?: number): Attempt {
    let ino = knownIno;
    if (ino === undefined) {
      const stat = lstatIfExists(this.paths.lockPath, 'read lock');
      if (stat === undefined) return { kind: 'retry' };
      ino = stat.ino;
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
    const holder = holderOf(this.paths.lockPath, file);
    if (holder === undefined) throw corruptError(this.paths.lockPath);
    if (!holder.verdict.stale) return { kind: 'busy', holder };
    if (endGeneration(this.paths, holder.record.ownerId, this.record.ownerId)) {
      this.reclaimed = true;
      sweepLitter(this.paths);
      return { kind: 'retry' };
    }
    // Someone else is ending it right now; our next poll sees the result.
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
    this.waiting = addToTransientDir(this.paths.waitingDir, () => closeSync(openSync(this.wakePath, 'wx', 0o600)), 'wait for lock');
  }

  /** Whether no entry on the wait list but the holder's is older than ours (true when not on it). */
  firstInLine(holder: LockHolder | undefined): boolean {
    if (!this.waiting) return true;
    const mine = this.record.ownerId;
    // A writer keeps its entry until it releases: it is not ahead of us.
    const holderId = holder?.record.ownerId;
    return !listDir(this.paths.waitingDir).some((id) => {
      if (id >= mine || id === holderId || !OWNER_ID.test(id)) return false;
      // A contender killed while waiting left its entry: counting it would leave
      // nobody polling the holder often, and a holder's death unnoticed for a full retryInterval.
      return !dropIfGone(this.paths, id);
    });
  }

  leaveWaitList(): void {
    if (!this.waiting) return;
    this.waiting = false;
    ignore(['ENOENT'], () => unlinkSync(this.wakePath));
    removeIfEmpty(this.paths.waitingDir);
  }

  /** Our private record was taken away (we were reclaimed while waiting): start over with a new one. */
  private renew(): Attempt {
    this.leaveWaitList();
    // Usually gone already; when R.lock was ended under us it is not, and nobody else will remove it.
    ignore(['ENOENT'], () => unlinkSync(this.private));
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

export async function acquireHandle(resource: string, options: LockOptions | undefined): Promise<HeldLock> {
  const opts = validateLockOptions(options);
  const paths = lockPaths(resource);
  if (opts.signal?.aborted) throw abortError(paths);
  const back = takeBack(paths, opts.type, opts.ttl);
  if (back !== undefined) return new HeldLock(paths, back.record, opts, false, back.renewedAt);
  if (opts.timeout > 0) {
    await holdBackAfterHandover(paths.lockPath, opts.signal);
    if (opts.signal?.aborted) throw abortError(paths);
  }
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
        if (opts.type === 'shared') {
          contender.leaveWaitList();
          // Readers do not exclude each other: let the next waiter try too.
          wakeNext(paths, contender.record.ownerId);
          return new HeldLock(paths, contender.record, opts, contender.reclaimed, contender.renewedAt);
        }
        // A writer leaves the wait list after its release, off the critical
        // section (wakes skip the releaser's own entry).
        const leave = watch;
        watch = undefined;
        return new HeldLock(paths, contender.record, opts, contender.reclaimed, contender.renewedAt, () => {
          leave?.close();
          contender.leaveWaitList();
        });
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
      // A holder killed on this host wakes nobody, so the first in line polls
      // its liveness often (a cheap kill(pid, 0)); the others wait for their
      // wake, which comes when those ahead are through. While our entry is
      // watched a wake is what we wait for: polling starts near the cap, not
      // at 1 ms, so waiters stay asleep (their attempts slowed the holder).
      const cap = outcome.holder?.verdict.alive === true && contender.firstInLine(outcome.holder) ? Math.min(opts.retryInterval, SAME_HOST_POLL_MS) : opts.retryInterval;
      let pause = Math.min(remaining, backoffDelay(failures, watch!.live ? cap / 2 : 1, cap));
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

