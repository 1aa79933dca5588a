// How a waiter learns it may have its turn. Each waiting contender watches
// only its own entry in the lock's wait list (an inotify watch on one inode
// on Linux), and a process that releases a lock touches the entry of the
// waiter that has waited longest: one waiter wakes, not all of them. A wake is only a hint (the
// attempt decides), so jittered, capped polling remains the fallback: for
// holders that die (a kill changes nothing on disk), for filesystems that do
// not report changes (NFS), and when watches run out.
import { existsSync, unlinkSync, utimesSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { contenderGone, ignore, listDir, privateName, readRecordFile, removeIfEmpty, type LockPaths } from './disk.ts';
import { OWNER_ID, ownerIdTime } from './record.ts';
import { pause } from '../pause.ts';

export interface Waker {
  /** A counter of wakes; take it before trying, pass it to wait(). */
  mark(): number;
  /** Resolves when woken after `mark`, after `maxMs`, or on abort. */
  wait(mark: number, maxMs: number, signal?: AbortSignal): Promise<void>;
  close(): void;
  /** Whether changes are being reported (false: polling only). */
  readonly live: boolean;
}

export function watchWakeFile(path: string): Waker {
  let generation = 0;
  let wake: (() => void) | undefined;
  let watcher: FSWatcher | undefined;
  const bump = (): void => {
    generation++;
    wake?.();
  };
  try {
    watcher = watch(path, { persistent: false }, bump);
    watcher.on('error', () => {
      watcher?.close();
      watcher = undefined;
      bump();
    });
  } catch {
    watcher = undefined; // polling only
  }
  return {
    mark: () => generation,
    wait(mark, maxMs, signal) {
      if (generation !== mark || signal?.aborted) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          wake = undefined;
          signal?.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, Math.max(0, maxMs));
        wake = done;
        signal?.addEventListener('abort', done, { once: true });
      });
    },
    close() {
      watcher?.close();
      watcher = undefined;
    },
    get live() {
      return watcher !== undefined;
    },
  };
}

/** Exponential backoff with full jitter between `min` and a cap. */
export function backoffDelay(attempt: number, minMs: number, capMs: number): number {
  const ceiling = Math.min(capMs, minMs * 2 ** Math.min(attempt, 20));
  return minMs + Math.random() * Math.max(0, ceiling - minMs);
}

// ---------------------------------------------------------------------------
// The releasing side

/**
 * A wait-list entry whose contender is gone: its private record was removed
 * (it gave up, or was swept) or its process is dead.
 */
export function waiterGone(paths: LockPaths, id: string): boolean {
  const file = readRecordFile(privateName(paths, id));
  return file === undefined || contenderGone(file, id);
}

/** Removes a wait-list entry whose contender is gone; true if it was gone. */
export function dropIfGone(paths: LockPaths, id: string): boolean {
  if (!waiterGone(paths, id)) return false;
  ignore(['ENOENT'], () => unlinkSync(join(paths.waitingDir, id)));
  return true;
}

/**
 * Wakes the contender that has waited longest (the smallest id: ids start
 * with their arrival time) by touching its entry in the wait list, a small
 * file of its own that it watches (never the record whose mtime is a lease).
 * With nobody waiting this costs one failed open, however large the
 * resource's directory. A contender killed while waiting left its entry
 * behind; one that has waited over a second is checked first, and dropped
 * if it is gone, so wakes are not spent on the dead. True if it woke one.
 */
export function wakeNext(paths: LockPaths, selfId: string): boolean {
  try {
    let ids = listDir(paths.waitingDir);
    if (ids.length === 0) return false; // nobody waiting: one access(2), however large R's directory
    ids = ids.filter((id) => id !== selfId && OWNER_ID.test(id)).sort();
    const now = new Date();
    for (const id of ids) {
      if (now.getTime() - ownerIdTime(id) > 1000 && dropIfGone(paths, id)) continue;
      utimesSync(join(paths.waitingDir, id), now, now);
      return true;
    }
    removeIfEmpty(paths.waitingDir);
  } catch {
    // Only a hint: waiters poll as well.
  }
  return false;
}

/**
 * How many times in a row, and for how long, a process may take a lock
 * straight back before its wake goes out; then it is handed over.
 */
export const STREAK_MAX = 32;
export const STREAK_MAX_MS = 20;
/** How long at most a process that just handed the lock over holds back, waiting for the waiter to take it. */
const HOLD_BACK_MS = 5;

/** Wakes put off to the end of this event-loop turn, by lock path. */
const deferred = new Map<string, () => void>();
/** Locks this process handed over, and when: its next request holds back. */
const handedOver = new Map<string, number>();
/** Releases this process took back before their wake went out, by lock path: how many, since when. */
const streaks = new Map<string, { count: number; since: number }>();

function runDeferred(): void {
  for (const wake of [...deferred.values()]) wake();
}

/**
 * Counts a release of `lockPath` into this process's streak of releases it
 * took straight back, and returns its place in the streak (1: the first, so
 * no release before it was taken back). 0 once the streak has reached its
 * bound (STREAK_MAX releases or STREAK_MAX_MS): the streak is over and the
 * lock is handed over (handOver).
 */
export function continueStreak(lockPath: string): number {
  const now = performance.now();
  // Bound the map for a process that touches many locks.
  if (streaks.size > 64 && !streaks.has(lockPath)) streaks.clear();
  const streak = streaks.get(lockPath) ?? { count: 0, since: now };
  streak.count++;
  if (streak.count >= STREAK_MAX || now - streak.since >= STREAK_MAX_MS) {
    streaks.delete(lockPath);
    return 0;
  }
  streaks.set(lockPath, streak);
  return streak.count;
}

/** The streak on this lock is over without a handover (the lock was not taken back). */
export function dropStreak(lockPath: string): void {
  streaks.delete(lockPath);
}

/** Wakes the next waiter now; if one woke, this process's next request holds back until it has the lock. */
export function handOver(paths: LockPaths, selfId: string): void {
  if (!wakeNext(paths, selfId)) return;
  if (handedOver.size > 64) handedOver.clear();
  handedOver.set(paths.lockPath, performance.now());
}

/** The lock was not taken back by the end of the turn: the streak ends and the next waiter wakes. */
export function endStreak(paths: LockPaths, selfId: string): void {
  streaks.delete(paths.lockPath);
  wakeNext(paths, selfId);
}

/**
 * The wake after an exclusive release. A handoff costs process switches,
 * which under contention is most of the price of a short critical section,
 * so (like most mutexes) a process that asks again at once may take the lock
 * back: the wake waits for the end of this event-loop turn and is dropped if
 * the lock is taken again by then (its next release wakes). Once the streak
 * reaches its bound the wake goes out at once and, if it woke a waiter, this
 * process holds back its next request briefly, so the waiter gets in.
 */
export function wakeAfterRelease(paths: LockPaths, selfId: string): void {
  if (continueStreak(paths.lockPath) === 0) handOver(paths, selfId);
  else deferWake(paths, selfId);
}

/** Sends the wake after a release at the end of this turn, unless the lock is held again by then. */
export function deferWake(paths: LockPaths, selfId: string): void {
  if (deferred.has(paths.lockPath)) return;
  if (deferred.size === 0) process.once('exit', runDeferred);
  const wake = (): void => {
    if (deferred.get(paths.lockPath) !== wake) return;
    deferred.delete(paths.lockPath);
    if (deferred.size === 0) process.off('exit', runDeferred);
    // Taken again (by us, or anyone): its release wakes, and our streak goes on.
    if (existsSync(paths.lockPath)) return;
    endStreak(paths, selfId);
  };
  deferred.set(paths.lockPath, wake);
  setImmediate(wake);
}

/**
 * If this process just handed `lockPath` over, waits (in 1 ms steps, for
 * HOLD_BACK_MS at most) until the woken waiter has taken it.
 */
export async function holdBackAfterHandover(lockPath: string, signal: AbortSignal | undefined): Promise<void> {
  const at = handedOver.get(lockPath);
  if (at === undefined) return;
  handedOver.delete(lockPath);
  while (performance.now() - at < HOLD_BACK_MS && !signal?.aborted && !existsSync(lockPath)) await pause(1, signal);
}

/** Wakes one contender by its id, if it is on the wait list. */
export function wake(paths: LockPaths, id: string | undefined): void {
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
export function leaveReaders(paths: LockPaths): void {
  if (!removeIfEmpty(paths.readersDir)) return;
  try {
    wake(paths, readRecordFile(paths.lockPath)?.record?.ownerId);
  } catch {
    // no writer waiting
  }
}

