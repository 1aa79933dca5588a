// How a waiter learns it may have its turn. Each waiting contender watches
// only its own entry in the lock's wait list (an inotify watch on one inode
// on Linux), and a process that releases a lock touches the entry of the
// waiter that has waited longest: one waiter wakes, not all of them. A wake is only a hint (the
// attempt decides), so jittered, capped polling remains the fallback: for
// holders that die (a kill changes nothing on disk), for filesystems that do
// not report changes (NFS), and when watches run out.
import { watch, type FSWatcher } from 'node:fs';

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
