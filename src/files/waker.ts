// How a waiter learns it may have its turn. Each waiting contender watches
// only its own entry in the lock's wait list (an inotify watch on one inode
// on Linux), and a process that releases a lock touches the entry of the
// waiter that has waited longest: one waiter wakes, not all of them. A wake is only a hint (the
// attempt decides), so jittered, capped polling remains the fallback: for
// holders that die (a kill changes nothing on disk), for filesystems that do
// not report changes (NFS), and when watches run out.
import { unlinkSync, utimesSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { contenderGone, ignore, listDir, privateName, readRecordFile, removeIfEmpty, type LockPaths } from './lock-disk.ts';
import { OWNER_ID, ownerIdTime } from './lock-record.ts';

export interface Waker {
  /** A counter of wakes; take it before trying, pass it to wait(). */
  mark(): number;
  /** Resolves when woken after `mark`, after `maxMs`, or on abort. */
  wait(mark: number, maxMs: number, signal?: AbortSignal): Promise<void>;
  close(): void;
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

/**
 * Wakes the contender that has waited longest (the smallest id: ids start
 * with their arrival time) by touching its entry in the wait list, a small
 * file of its own that it watches (never the record whose mtime is a lease).
 * With nobody waiting this costs one failed open, however large the
 * resource's directory. A contender killed while waiting left its entry
 * behind; one that has waited over a second is checked first, and dropped
 * if it is gone, so wakes are not spent on the dead.
 */
export function wakeNext(paths: LockPaths, selfId: string): void {
  try {
    let ids = listDir(paths.waitingDir);
    if (ids.length === 0) return; // nobody waiting: one access(2), however large R's directory
    ids = ids.filter((id) => id !== selfId && OWNER_ID.test(id)).sort();
    const now = new Date();
    for (const id of ids) {
      const entry = join(paths.waitingDir, id);
      if (now.getTime() - ownerIdTime(id) > 1000 && waiterGone(paths, id)) {
        ignore(['ENOENT'], () => unlinkSync(entry));
        continue;
      }
      utimesSync(entry, now, now);
      return;
    }
    removeIfEmpty(paths.waitingDir);
  } catch {
    // Only a hint: waiters poll as well.
  }
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

