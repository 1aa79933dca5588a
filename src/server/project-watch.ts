// Watching a project root for changes made by anyone but baton itself.
//
// The watcher reports changes made by anyone but this instance: its own
// writes, deletes and renames (and the directories they create) are echoes
// and dropped for `echoMs`; the daemon emits its own event with the actor.
// It never reports .git, node_modules, the ignore dirs, or the temp files of
// atomic writers (`.<name>.<pid>.<hex>.tmp`). On Linux it watches directories
// (tree-watcher.ts), since Node's recursive watch loses atomically saved files.
import { watch as fsWatch } from 'node:fs';
import { toPosix, under } from './confinement.ts';
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
  /** 'rename': created, removed or renamed; 'change': content changed. */
  kind: 'change' | 'rename';
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
 * dropped). Bursts on one path are coalesced over `coalesceMs` ('rename' wins
 * over 'change'). Watcher errors go to onError and the watcher restarts,
 * backing off up to 30 s.
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
  const pending = new Map<string, { kind: FileChange['kind']; timer: NodeJS.Timeout }>();
  let watcher: { close(): void } | undefined;
  let restartTimer: NodeJS.Timeout | undefined;
  let backoffMs = 1000;
  let closed = false;

  const deliver = (path: string): void => {
    const entry = pending.get(path);
    pending.delete(path);
    if (entry === undefined || closed) return;
    try {
      onChange({ path, kind: entry.kind });
    } catch (error) {
      report(error);
    }
  };

  const onEvent = (eventType: string, filename: string | null): void => {
    if (closed || filename === null) return;
    const rel = toPosix(filename);
    if (rel === '' || ignored(rel, ignore) || echoes.has(rel)) return;
    const kind: FileChange['kind'] = eventType === 'rename' ? 'rename' : 'change';
    const entry = pending.get(rel);
    if (entry !== undefined) {
      if (kind === 'rename') entry.kind = 'rename';
      return;
    }
    const timer = setTimeout(() => deliver(rel), coalesceMs);
    pending.set(rel, { kind, timer });
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
        const w = fsWatch(root, { recursive: true, ignore: (p: string) => ignored(toPosix(p), ignore) }, onEvent);
        w.on('error', (error) => {
          w.close();
          if (watcher === w) failed(error);
        });
        watcher = w;
      } else {
        const w = watchTree(root, {
          ignored: (rel) => ignored(rel, ignore),
          onEvent: (kind, rel) => onEvent(kind, rel),
          onError: (error, fatal) => {
            if (!fatal) report(error);
            else if (watcher === w) failed(error);
          },
        });
        watcher = w;
      }
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
