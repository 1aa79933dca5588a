// A recursive directory watcher built from one non-recursive fs.watch per
// directory, for Linux.
//
// Node's own `fs.watch(dir, { recursive: true })` on Linux (Node 24) puts an
// inotify watch on every *file*. inotify follows the inode, so once a file is
// replaced by rename (an atomic save: every editor, every agent, our own
// writeFileAtomic) its watch is left on the unlinked inode and later changes
// to that path are never reported. A watch on the *directory* reports its
// children by name whatever their inode, so that is what this does: one watch
// per directory (also far fewer inotify watches), new directories are watched
// as they appear (their entries reported, since they may have been filled
// before the watch was in place), removed ones are dropped.
//
// Symlinks are never followed (a link to a directory outside the root is not
// watched). Events name paths relative to the root with '/' separators.
import { lstatSync, readdirSync, watch, type FSWatcher } from 'node:fs';
import { basename, join } from 'node:path';
import { BatonError, errnoCode } from '../errors.ts';

export interface TreeWatchOptions {
  /** A '/'-separated path relative to the root that must be neither reported nor watched. */
  ignored(rel: string): boolean;
  onEvent(kind: 'change' | 'rename', rel: string): void;
  /** fatal: the root's own watch failed; the tree watcher is closed. */
  onError(error: Error, fatal: boolean): void;
}

export interface TreeWatch {
  close(): void;
}

interface Watched {
  watcher: FSWatcher;
}

const exists = (path: string): boolean => {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
};

const gone = (error: unknown): boolean => {
  const code = errnoCode(error);
  return code === 'ENOENT' || code === 'ENOTDIR';
};

/** Watches `root` (an absolute, real directory path). Throws if the root itself cannot be watched. */
export function watchTree(root: string, options: TreeWatchOptions): TreeWatch {
  const dirs = new Map<string, Watched>(); // '' is the root
  let closed = false;
  const abs = (rel: string): string => (rel === '' ? root : join(root, ...rel.split('/')));
  const childOf = (dir: string, name: string): string => (dir === '' ? name : `${dir}/${name}`);
  const baseOf = (rel: string): string => rel.slice(rel.lastIndexOf('/') + 1);

  const reported = new Set<string>();
  /** Non-fatal errors are reported once per errno code (ENOSPC would come for every directory). */
  const report = (error: unknown, fatal: boolean): void => {
    const code = errnoCode(error) ?? 'other';
    if (!fatal && reported.has(code)) return;
    reported.add(code);
    options.onError(error instanceof Error ? error : new Error(String(error)), fatal);
  };

  const unwatch = (rel: string): void => {
    for (const [dir, w] of dirs) {
      if (dir === rel || rel === '' || dir.startsWith(rel + '/')) {
        dirs.delete(dir);
        w.watcher.close();
      }
    }
  };

  /** Watches `start` and every directory below it; with `announce`, reports each entry found. */
  const add = (start: string, announce: boolean): void => {
    const stack = [start];
    while (stack.length > 0 && !closed) {
      const dir = stack.pop()!;
      if (dirs.has(dir)) continue;
      const entry = {} as Watched;
      try {
        entry.watcher = watch(abs(dir), { persistent: true }, (type, name) => onDirEvent(entry, dir, type, name));
      } catch (error) {
        if (dir === '') throw error;
        if (!gone(error)) report(error, false);
        continue;
      }
      entry.watcher.on('error', (error) => {
        if (dirs.get(dir) !== entry) return;
        const fatal = dir === '';
        if (fatal) close();
        else unwatch(dir);
        report(error, fatal);
      });
      dirs.set(dir, entry);
      let entries;
      try {
        entries = readdirSync(abs(dir), { withFileTypes: true });
      } catch (error) {
        if (!gone(error)) report(error, false);
        if (dir !== '') unwatch(dir);
        continue;
      }
      for (const dirent of entries) {
        const rel = childOf(dir, dirent.name);
        if (options.ignored(rel)) continue;
        if (announce) options.onEvent('rename', rel);
        if (dirent.isDirectory()) stack.push(rel);
      }
    }
  };

  const onDirEvent = (entry: Watched, dir: string, type: string, name: string | Buffer | null): void => {
    if (closed || name === null || dirs.get(dir) !== entry) return; // dropped or replaced meanwhile
    const text = typeof name === 'string' ? name : name.toString();
    if (type === 'rename' && dir === '' && text === basename(root) && !exists(root)) {
      close();
      report(new BatonError('NOT_FOUND', `the watched project root ${root} was removed or moved`, { details: { path: root } }), true);
      return;
    }
    if (type === 'rename' && dir !== '' && text === baseOf(dir)) {
      // inotify reports the directory's own removal or move with its own name:
      // a self event when the directory is gone (else a child of that name).
      // The parent's watch reports the change itself.
      if (!exists(abs(dir))) {
        unwatch(dir);
        return;
      }
    }
    const rel = childOf(dir, text);
    if (options.ignored(rel)) return;
    try {
      options.onEvent(type === 'rename' ? 'rename' : 'change', rel);
    } finally {
      if (type === 'rename') refresh(rel);
    }
  };

  /**
   * After a rename event on an entry: it was created, removed, moved or
   * replaced, so a directory there is watched afresh (its old watch may hold a
   * removed inode; inode numbers are reused at once, so they cannot tell).
   */
  const refresh = (rel: string): void => {
    if (dirs.has(rel)) unwatch(rel);
    let isDir = false;
    try {
      isDir = lstatSync(abs(rel)).isDirectory();
    } catch {
      isDir = false;
    }
    if (isDir) {
      try {
        add(rel, true);
      } catch (error) {
        report(error, false);
      }
    }
  };

  const close = (): void => {
    if (closed) return;
    closed = true;
    for (const w of dirs.values()) w.watcher.close();
    dirs.clear();
  };

  try {
    add('', false);
  } catch (error) {
    close();
    throw error;
  }
  return { close };
}
