// A held lock: renewal of its lease, the check that it is still ours, the
// signal when it is lost, and release. Nothing here ever throws from a timer.
import { closeSync, ftruncateSync, openSync, statSync, unlinkSync, utimesSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { BatonError, errnoCode } from '../../errors.ts';
import { ignore, privateName, type LockPaths } from './disk.ts';
import { endGeneration } from './generation.ts';
import type { NormalizedLockOptions } from './options.ts';
import { processRef } from '../process-info.ts';
import { serializeRecord, type LockRecord, type LockType } from './record.ts';
import type { LockHandle } from './types.ts';
import { retainRelease } from './retention.ts';
import { continueStreak, deferWake, endStreak, handOver, leaveReaders, wakeAfterRelease, wakeNext } from './waker.ts';

const NO_TTL_CHECK_MS = 2000;

export class HeldLock implements LockHandle {
  readonly lockPath: string;
  readonly resourcePath: string;
  readonly type: LockType;
  readonly record: LockRecord;
  readonly reclaimed: boolean;
  readonly #paths: LockPaths;
  readonly #ttl: number | null;
  readonly #controller = new AbortController();
  #state: 'held' | 'released' | 'lost' = 'held';
  #confirmedAt: number;
  #timer: ReturnType<typeof setInterval>;
  /** Runs once the lock is given up: the contender's leftovers (its wait-list entry and watch). */
  #afterRelease: (() => void) | undefined;

  constructor(paths: LockPaths, record: LockRecord, options: NormalizedLockOptions, reclaimed: boolean, renewedAt: number, afterRelease?: () => void) {
    this.#paths = paths;
    this.#afterRelease = afterRelease;
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
      if (this.type === 'exclusive') wakeAfterRelease(this.#paths, this.record.ownerId);
      else wakeNext(this.#paths, this.record.ownerId);
    } catch {
      // Losing or releasing a lock never throws from a timer.
    }
    this.#leave();
  }

  #leave(): void {
    try {
      this.#afterRelease?.();
    } catch {
      // Leftovers are cleared by the next release's wake or sweep.
    }
    this.#afterRelease = undefined;
  }

  /**
   * An exclusive release: handed over at once when this process's streak on
   * the lock is over; retained (lock-retention.ts) once the process has taken
   * it straight back before; else ended now with the wake put off to the end
   * of the turn. Never retained: a lock that `baton run` shares with its
   * children (their records end with it).
   */
  #release(): void {
    if (this.type !== 'exclusive' || this.record.children.length > 0) return this.#giveUp();
    const paths = this.#paths;
    const id = this.record.ownerId;
    try {
      const place = continueStreak(paths.lockPath);
      const retained =
        place >= 2 &&
        retainRelease(paths, this.record, this.#ttl, this.#confirmedAt, () => {
          endGeneration(paths, id, id);
          endStreak(paths, id);
        });
      if (!retained) {
        endGeneration(paths, id, id);
        if (place === 0) handOver(paths, id);
        else deferWake(paths, id);
      }
    } catch {
      // Nothing more we can do; what is left is reclaimable by proof.
    }
    this.#leave();
  }

  async release(): Promise<void> {
    if (this.#state === 'released') return;
    const wasLost = this.#state === 'lost';
    this.#state = 'released';
    clearInterval(this.#timer);
    if (!wasLost) this.#release();
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

