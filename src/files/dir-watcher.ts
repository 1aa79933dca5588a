// Waiters learn of a release by watching the lock's directory (inotify on
// Linux), with jittered, capped polling as the fallback for filesystems
// that do not report changes (NFS), when watches run out, and for deaths
// (a killed holder changes nothing on disk).
import { watch, type FSWatcher } from 'node:fs';

type Listener = (filename: string | null) => void;

interface SharedWatcher {
  watcher: FSWatcher | null;
  listeners: Set<Listener>;
}

// One OS watch per directory per process, however many waiters.
const watchers = new Map<string, SharedWatcher>();

export interface DirWatch {
  /** A counter of relevant events; take it before trying, pass it to wait(). */
  mark(): number;
  /** Resolves when a relevant event came after `mark`, after `maxMs`, or on abort. */
  wait(mark: number, maxMs: number, signal?: AbortSignal): Promise<void>;
  close(): void;
}

/** Watches `dir` for changes to the entries named in `names` (all entries if empty). */
export function watchDir(dir: string, names: string[] = []): DirWatch {
  let shared = watchers.get(dir);
  if (shared === undefined) {
    const entry: SharedWatcher = { watcher: null, listeners: new Set() };
    const dispatch = (filename: string | null): void => {
      for (const listener of entry.listeners) listener(filename);
    };
    try {
      entry.watcher = watch(dir, { persistent: false }, (_event, filename) => dispatch(filename));
      entry.watcher.on('error', () => {
        entry.watcher?.close();
        entry.watcher = null;
        dispatch(null);
      });
    } catch {
      entry.watcher = null; // polling only
    }
    watchers.set(dir, entry);
    shared = entry;
  }
  const entry = shared;
  const relevant = new Set(names);
  let generation = 0;
  let wake: (() => void) | undefined;
  const listener: Listener = (filename) => {
    if (filename !== null && relevant.size > 0 && !relevant.has(filename)) return;
    generation++;
    wake?.();
  };
  entry.listeners.add(listener);
  let closed = false;
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
      if (closed) return;
      closed = true;
      entry.listeners.delete(listener);
      if (entry.listeners.size === 0) {
        entry.watcher?.close();
        watchers.delete(dir);
      }
    },
  };
}

/** Exponential backoff with full jitter between `min` and a cap. */
export function backoffDelay(attempt: number, minMs: number, capMs: number): number {
  const ceiling = Math.min(capMs, minMs * 2 ** Math.min(attempt, 20));
  return minMs + Math.random() * Math.max(0, ceiling - minMs);
}
