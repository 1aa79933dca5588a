// Watching a project root for changes made by anyone but baton itself.
//
// The watcher reports changes made by anyone but this instance: its own
// writes, deletes and renames (and the directories they create) are echoes
// and dropped for `echoMs`; the daemon emits its own event with the actor.
// It never reports .git, node_modules, the ignore dirs, or the temp files of
// atomic writers (`.<name>.<pid>.<hex>.tmp`). On Linux it watches directories
// (tree-watcher.ts), since Node's recursive watch loses atomically saved files.
//
// fs.watch names only 'rename' (created, deleted, moved, replaced) and
// 'change'; the watcher says what happened, by looking when a burst on a path
// has settled: there now and not known before is created, there and known is
// changed (an atomic save included), gone and known is deleted. A move is two
// changes, the old path deleted and the new one created (fs.watch does not
// pair them). A path created and removed within one burst is not reported.
import { lstatSync, watch as fsWatch } from 'node:fs';
import { join } from 'node:path';
import { toPosix, under } from './confinement.ts';
import { KnownPaths } from './known-paths.ts';
import { watchTree } from './tree-watcher.ts';

/** The temp files writeFileAtomic makes beside its target: `.<name>.<pid>.<12 hex>.tmp`. */
const TEMP_NAME = /^\.(.+)\.(\d+)\.[0-9a-f]{12}\.tmp$/;
const IGNORED_SEGMENTS = new Set(['.git', 'node_modules']);
/**
 * Where fs.watch's recursive mode is the OS's own (FSEvents, ReadDirectoryChangesW)
 * and follows paths. Elsewhere (Linux) Node watches each file's inode and goes
 * deaf to a file after an atomic replace, so tree-watcher.ts watches directories.
 */
const NATIVE_RECURSIVE = process.platform === 'darwin' || process.platform === 'win32';

export interface FileChange {
  /** Relative to the root, '/'-separated. */
  path: string;
  /** What the path went through: it appeared (moved here included), its content or metadata changed (replaced included), it went away (moved away included). */
  kind: 'created' | 'changed' | 'deleted';
}

export interface WatchOptions {
  onError?: (error: Error) => void;
}

export interface FileWatch {
  close(): void;
}

/** The paths changed through baton a moment ago, whose events are its own echoes. */
export class Echoes {
  readonly #ms: number;
  /** rel -> until when events on it (and below it) are our own echoes. */
  readonly #until = new Map<string, number>();

  constructor(ms: number) {
    this.#ms = ms;
  }

  /** `rel` is being changed through baton now. */
  mark(rel: string): void {
    const now = Date.now();
    if (this.#until.size > 1000) {
      for (const [k, until] of this.#until) if (until <= now) this.#until.delete(k);
    }
    this.#until.set(rel, now + this.#ms);
  }

  /** Was `rel` (or a directory above it) changed through baton a moment ago? */
  has(rel: string): boolean {
    if (this.#until.size === 0) return false;
    const now = Date.now();
    for (let p = rel; ; ) {
      const until = this.#until.get(p);
      if (until !== undefined) {
        if (until > now) return true;
        this.#until.delete(p);
      }
      const slash = p.lastIndexOf('/');
      if (slash < 0) return false;
      p = p.slice(0, slash);
    }
  }
}

export interface WatchedProject {
  /** The real path of the project root. */
  root: string;
  /** Directories never reported, relative to the root (as dirsBelow returns them). */
  ignore: string[];
  echoes: Echoes;
  /** Bursts of events on one path within this window are reported once. */
  coalesceMs: number;
}

/** Paths the watcher never reports: .git, node_modules, the ignore dirs, atomic writers' temp files. */
function ignored(rel: string, ignore: string[]): boolean {
  const segments = rel.split('/');
  if (segments.some((s) => IGNORED_SEGMENTS.has(s) || s.toLowerCase() === '.git')) return true;
  if (TEMP_NAME.test(segments.at(-1) ?? '')) return true;
  return ignore.some((d) => under(rel, d));
}

/**
 * Reports changes under the root made by anyone but baton (its echoes are
 * dropped, though what they did is learnt). Bursts on one path are coalesced
 * over `coalesceMs` and reported as what they came to. Watcher errors go to
 * onError and the watcher restarts, backing off up to 30 s.
 */
export function watchProject(project: WatchedProject, onChange: (change: FileChange) => void, onError: ((error: Error) => void) | undefined): FileWatch {
  const { root, ignore, echoes, coalesceMs } = project;
  const report = (error: unknown): void => {
    const e = error instanceof Error ? error : new Error(String(error));
    try {
      onError?.(e);
    } catch {
      // an error handler that throws must not take the watcher down
    }
  };
  // Per path while a burst settles; `report` is false while all of it was baton's own.
  const pending = new Map<string, { report: boolean; timer: NodeJS.Timeout }>();
  let known = new KnownPaths();
  const present = (rel: string): boolean => {
    try {
      lstatSync(join(root, ...rel.split('/')));
      return true;
    } catch {
      return false;
    }
  };
  let watcher: { close(): void } | undefined;
  let restartTimer: NodeJS.Timeout | undefined;
  let backoffMs = 1000;
  let closed = false;

  const deliver = (path: string): void => {
    const entry = pending.get(path);
    pending.delete(path);
    if (entry === undefined || closed) return;
    const was = known.has(path);
    const is = present(path);
    if (is) known.add(path);
    else known.remove(path);
    const kind: FileChange['kind'] | undefined = is ? (was ? 'changed' : 'created') : was ? 'deleted' : undefined;
    if (kind === undefined || !entry.report) return;
    try {
      onChange({ path, kind });
    } catch (error) {
      report(error);
    }
  };

  const onEvent = (filename: string | null): void => {
    if (closed || filename === null) return;
    const rel = toPosix(filename);
    if (rel === '' || ignored(rel, ignore)) return;
    // baton's own change is not reported, but what it did is learnt: a later outside save of the file is a change.
    const own = echoes.has(rel);
    const entry = pending.get(rel);
    if (entry !== undefined) {
      if (!own) entry.report = true;
      return;
    }
    const timer = setTimeout(() => deliver(rel), coalesceMs);
    pending.set(rel, { report: !own, timer });
  };

  const start = (): void => {
    restartTimer = undefined;
    if (closed) return;
    const startedAt = Date.now();
    const failed = (error: unknown): void => {
      report(error);
      watcher = undefined;
      if (Date.now() - startedAt > 60_000) backoffMs = 1000; // it had been working: not a failing loop
      scheduleRestart();
    };
    try {
      if (NATIVE_RECURSIVE) {
        // `ignore` (Node 24.x) keeps the watcher out of .git and node_modules;
        // on a Node without it, `ignored` filters the events instead.
        const w = fsWatch(root, { recursive: true, ignore: (p: string) => ignored(toPosix(p), ignore) }, (_type, filename) => onEvent(filename));
        w.on('error', (error) => {
          w.close();
          if (watcher === w) failed(error);
        });
        watcher = w;
      } else {
        const w = watchTree(root, {
          ignored: (rel) => ignored(rel, ignore),
          onEvent: (_type, rel) => onEvent(rel),
          onError: (error, fatal) => {
            if (!fatal) report(error);
            else if (watcher === w) failed(error);
          },
        });
        watcher = w;
      }
      // What is there once the watch is in place: later changes are judged against it.
      known = new KnownPaths();
      known.scan(root, (rel) => ignored(rel, ignore));
    } catch (error) {
      failed(error);
    }
  };

  const scheduleRestart = (): void => {
    if (closed || restartTimer !== undefined) return;
    restartTimer = setTimeout(start, backoffMs);
    restartTimer.unref();
    backoffMs = Math.min(backoffMs * 2, 30_000);
  };

  start();
  return {
    close: () => {
      if (closed) return;
      closed = true;
      if (restartTimer !== undefined) clearTimeout(restartTimer);
      for (const { timer } of pending.values()) clearTimeout(timer);
      pending.clear();
      try {
        watcher?.close();
      } catch (error) {
        report(error);
      }
      watcher = undefined;
    },
  };
}
