// The project's files as the daemon writes them for agents: every path is
// confined to the project root, every write is checked against a path lease,
// every change is atomic, and a watcher reports changes made by anyone else.
//
// Policies (the daemon's error codes):
// - OUTSIDE_ROOT: an empty path, a NUL byte, '..' that leaves the root, an
//   absolute path outside it, the root itself, or a path that reaches outside
//   through a symlink: of any existing ancestor, or of the final component
//   (followed to its end, dangling links included).
// - PERMISSION_DENIED: anything inside a `.git` directory (any segment named
//   `.git`, in any case, also nested repositories and submodules) and inside
//   the protected directories (by default the watcher's `ignore` dirs: the
//   state dir). Reads are refused there too: .git/config may hold credentials.
// - Symlinks. Ancestors are resolved: `link/a.ts`, where `link -> src`, is
//   `src/a.ts`, and `rel` (what leases are matched against) is that canonical
//   path, so a link cannot be used to write under someone else's lease. The
//   final component is never followed by a write: writeFileAtomic would write
//   the link's target, whose path the lease was not checked against, so
//   `write` refuses a symlink with PERMISSION_DENIED and names its target.
//   `read` follows it (its target is confined like any path); `delete` and
//   `rename` act on the link itself (unlink and rename do not follow).
// - Races: a directory swapped for a symlink between the check and the
//   syscall is not caught (there is no openat(2) in Node). The check is
//   against agents' mistakes and against paths they were handed, not against
//   a hostile process already writing inside the root.
// - The watcher reports changes made by anyone but this instance: its own
//   writes, deletes and renames (and the directories they create) are echoes
//   and dropped for `echoMs`; the daemon emits its own event with the actor.
//   It never reports .git, node_modules, the ignore dirs, or the temp files of
//   atomic writers (`.<name>.<pid>.<hex>.tmp`). On Linux it watches directories
//   (tree-watcher.ts), since Node's recursive watch loses atomically saved files.
import { lstatSync, readlinkSync, realpathSync, renameSync, unlinkSync, watch as fsWatch } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Coordinator, Lease, LeaseRef } from '../coordinator.ts';
import { BatonError, errnoCode, fsError } from '../errors.ts';
import { pathCovers, pathPatternFor, pathsOverlap } from '../engine/paths.ts';
import { PATH_PREFIX } from '../limits.ts';
import { fsyncDirectory, stageReplace } from '../files/atomic-write.ts';
import { makeDirectories } from '../files/directories.ts';
import { watchTree } from './tree-watcher.ts';

/** Symlinks followed while resolving one path before giving up (Linux's own limit). */
const MAX_LINK_HOPS = 40;
/** The temp files writeFileAtomic makes beside its target: `.<name>.<pid>.<12 hex>.tmp`. */
const TEMP_NAME = /^\.(.+)\.(\d+)\.[0-9a-f]{12}\.tmp$/;
const IGNORED_SEGMENTS = new Set(['.git', 'node_modules']);
/**
 * Where fs.watch's recursive mode is the OS's own (FSEvents, ReadDirectoryChangesW)
 * and follows paths. Elsewhere (Linux) Node watches each file's inode and goes
 * deaf to a file after an atomic replace, so tree-watcher.ts watches directories.
 */
const NATIVE_RECURSIVE = process.platform === 'darwin' || process.platform === 'win32';

export interface ProjectFilesOptions {
  /** The project root; realpath'd at construction. */
  root: string;
  /** Absolute directories the watcher ignores (e.g. the state dir). */
  ignore?: string[];
  /** Absolute directories never read or written through this instance. Default: `ignore`. */
  protect?: string[];
  /** Bursts of events on one path within this window are reported once. Default 50 ms. */
  coalesceMs?: number;
  /** Events on a path this instance changed are dropped for this long after the change. Default 1000 ms. */
  echoMs?: number;
  /** Where the watcher reports its errors (and errors thrown by onChange). */
  onError?: (error: Error) => void;
}

export interface ResolvedPath {
  /** The canonical absolute path (ancestors resolved, the final component as named). */
  abs: string;
  /** Relative to the root, '/'-separated: what lease patterns are matched against. */
  rel: string;
}

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

export interface WriteResult {
  path: string;
  size: number;
}

export interface RenameResult {
  path: string;
  from: string;
}

interface Located extends ResolvedPath {
  /** The final component is a symlink; `target` is where it ends, relative to the root. */
  link: { target: string } | undefined;
}

function outside(path: unknown, reason: string, details: Record<string, unknown> = {}): BatonError {
  return new BatonError('OUTSIDE_ROOT', `path ${JSON.stringify(path)} ${reason}`, { details: { path, ...details } });
}

function toPosix(p: string): string {
  return sep === '/' ? p : p.split(sep).join('/');
}

/** True when `p` is strictly below `root` (both absolute and normalized). */
function isBelow(root: string, p: string): boolean {
  const r = relative(root, p);
  return r !== '' && r !== '..' && !r.startsWith('..' + sep) && !isAbsolute(r);
}

function isAtOrBelow(root: string, p: string): boolean {
  return p === root || isBelow(root, p);
}

/** `rel` is `dir` or below it ('/'-separated relative paths). */
function under(rel: string, dir: string): boolean {
  return rel === dir || rel.startsWith(dir + '/');
}

/**
 * Where `p` really is: every symlink followed, dangling ones too, and the
 * missing tail appended as named. Throws for a loop or an unreadable directory.
 */
function canonical(p: string, hops: { n: number }): string {
  try {
    return realpathSync.native(p);
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ELOOP') throw new BatonError('INVALID_ARGUMENT', `cannot resolve ${p}: too many levels of symbolic links`, { cause: error, details: { path: p } });
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw fsError(error, 'resolve', p);
  }
  const parent = dirname(p);
  if (parent === p) return p;
  const realParent = canonical(parent, hops);
  const candidate = join(realParent, basename(p));
  let isLink: boolean;
  try {
    isLink = lstatSync(candidate).isSymbolicLink();
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') return candidate;
    throw fsError(error, 'resolve', candidate);
  }
  if (!isLink) return candidate; // created since realpath failed
  if (++hops.n > MAX_LINK_HOPS) throw new BatonError('INVALID_ARGUMENT', `cannot resolve ${p}: too many levels of symbolic links`, { details: { path: p } });
  let target: string;
  try {
    target = readlinkSync(candidate);
  } catch (error) {
    if (errnoCode(error) === 'EINVAL' || errnoCode(error) === 'ENOENT') return canonical(candidate, hops); // replaced meanwhile
    throw fsError(error, 'resolve', candidate);
  }
  return canonical(resolve(realParent, target), hops);
}

export class ProjectFiles {
  /** The real path of the project root. */
  readonly root: string;
  readonly #ignore: string[];
  readonly #protect: string[];
  readonly #coalesceMs: number;
  readonly #echoMs: number;
  readonly #onError: ((error: Error) => void) | undefined;
  /** rel -> until when events on it (and below it) are our own echoes. */
  readonly #echoes = new Map<string, number>();

  constructor(options: ProjectFilesOptions) {
    if (typeof options !== 'object' || options === null || typeof options.root !== 'string' || options.root === '') {
      throw new BatonError('INVALID_ARGUMENT', 'ProjectFiles needs { root: string }');
    }
    try {
      this.root = realpathSync.native(resolve(options.root));
    } catch (error) {
      throw fsError(error, 'resolve project root', options.root);
    }
    let isDir = false;
    try {
      isDir = lstatSync(this.root).isDirectory();
    } catch (error) {
      throw fsError(error, 'stat project root', this.root);
    }
    if (!isDir) throw new BatonError('INVALID_ARGUMENT', `the project root ${this.root} is not a directory`, { details: { path: this.root } });
    this.#ignore = this.#relDirs(options.ignore ?? [], 'ignore');
    this.#protect = this.#relDirs(options.protect ?? options.ignore ?? [], 'protect');
    this.#coalesceMs = options.coalesceMs ?? 50;
    this.#echoMs = options.echoMs ?? 1000;
    this.#onError = options.onError;
  }

  /** Absolute directories as canonical paths relative to the root; those outside it are dropped. */
  #relDirs(dirs: string[], what: string): string[] {
    if (!Array.isArray(dirs)) throw new BatonError('INVALID_ARGUMENT', `${what} must be an array of absolute directories`);
    const out: string[] = [];
    for (const dir of dirs) {
      if (typeof dir !== 'string' || !isAbsolute(dir)) throw new BatonError('INVALID_ARGUMENT', `${what} entries must be absolute directories, got ${JSON.stringify(dir)}`);
      const real = canonical(resolve(dir), { n: 0 });
      if (isBelow(this.root, real)) out.push(toPosix(relative(this.root, real)));
    }
    return out;
  }

  // -------------------------------------------------------------------------
  // Confinement

  /** Confines a path (relative to the root, or absolute inside it); see the policies at the top of this file. */
  resolve(relPath: string): ResolvedPath {
    const { abs, rel } = this.#locate(relPath);
    return { abs, rel };
  }

  #locate(input: string): Located {
    if (typeof input !== 'string') throw new BatonError('INVALID_ARGUMENT', `a path must be a string, got ${typeof input}`, { details: { path: input } });
    if (input === '') throw outside(input, 'is empty; name a file relative to the project root');
    if (input.includes('\0')) throw outside(input, 'contains a NUL byte');
    let lexical: string;
    if (isAbsolute(input)) {
      lexical = resolve(input);
    } else {
      lexical = resolve(this.root, input);
      if (!isAtOrBelow(this.root, lexical)) throw outside(input, "leaves the project root through '..'", { root: this.root });
    }
    const hops = { n: 0 };
    const parent = dirname(lexical);
    if (parent === lexical) throw outside(input, `is outside the project root ${this.root}`, { root: this.root });
    const abs = join(canonical(parent, hops), basename(lexical));
    if (abs === this.root) throw outside(input, 'is the project root itself; name a file inside it', { root: this.root });
    if (!isBelow(this.root, abs)) {
      const via = isAbsolute(input) && !isAtOrBelow(this.root, lexical) ? '' : ` (through a symbolic link it is ${abs})`;
      throw outside(input, `is outside the project root ${this.root}${via}`, { root: this.root, resolved: abs });
    }
    const rel = toPosix(relative(this.root, abs));
    let link: Located['link'];
    let isLink = false;
    try {
      isLink = lstatSync(abs).isSymbolicLink();
    } catch (error) {
      const code = errnoCode(error);
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw fsError(error, 'stat', rel);
    }
    if (isLink) {
      const end = canonical(abs, hops);
      if (!isAtOrBelow(this.root, end)) {
        throw outside(input, `is a symbolic link to ${end}, outside the project root ${this.root}`, { root: this.root, resolved: end });
      }
      link = { target: toPosix(relative(this.root, end)) };
      this.#checkProtected(input, link.target);
    }
    this.#checkProtected(input, rel);
    return { abs, rel, link };
  }

  #checkProtected(input: string, rel: string): void {
    if (rel.split('/').some((s) => s.toLowerCase() === '.git')) {
      throw new BatonError('PERMISSION_DENIED', `path ${JSON.stringify(input)} is inside a .git directory (${rel}); baton does not touch git's files: use git (e.g. baton git -- ...)`, {
        details: { path: input, resolved: rel },
      });
    }
    const dir = this.#protect.find((d) => under(rel, d));
    if (dir !== undefined) {
      throw new BatonError('PERMISSION_DENIED', `path ${JSON.stringify(input)} is inside ${dir}, which baton keeps for itself`, { details: { path: input, resolved: rel, protected: dir } });
    }
  }

  // -------------------------------------------------------------------------
  // Leases

  /**
   * The lease must be held now (checkLease throws STALE_TOKEN or LEASE_EXPIRED),
   * exclusive, a `path:` lease, and its pattern must cover `rel`; else LEASE_REQUIRED.
   * `rel` is a path as `resolve` returns it.
   */
  async assertCovered(coordinator: Coordinator, rel: string, lease: LeaseRef, options: { action?: string } = {}): Promise<Lease> {
    const held = await coordinator.checkLease(lease);
    const action = options.action ?? 'writing';
    const needed = PATH_PREFIX + pathPatternFor(rel);
    const name = `lease ${held.key} (token ${held.token})`;
    let reason: string | undefined;
    if (!held.key.startsWith(PATH_PREFIX)) reason = `${name} is not a path lease`;
    else if (held.mode !== 'exclusive') reason = `${name} is shared; changing files needs an exclusive one`;
    else if (!pathCovers(held.key.slice(PATH_PREFIX.length), rel)) reason = `${name} does not cover it`;
    if (reason === undefined) return held;
    throw new BatonError('LEASE_REQUIRED', `${action} ${JSON.stringify(rel)} needs an exclusive lease on ${needed} (or a pattern covering it); ${reason}`, {
      details: { path: rel, needed, lease: { key: held.key, token: held.token, mode: held.mode, owner: held.owner } },
    });
  }

  /** The LEASE_REQUIRED error for a caller that presented no lease: names whoever holds an overlapping path lease now. */
  async explainMissing(coordinator: Coordinator, rel: string, options: { action?: string } = {}): Promise<BatonError> {
    const action = options.action ?? 'writing';
    const pattern = pathPatternFor(rel);
    const needed = PATH_PREFIX + pattern;
    const leases = await coordinator.listLeases({ prefix: PATH_PREFIX });
    const holders = leases.filter((l) => l.key.startsWith(PATH_PREFIX) && pathsOverlap(l.key.slice(PATH_PREFIX.length), pattern));
    const head = `${action} ${JSON.stringify(rel)} needs an exclusive lease on ${needed} (or a pattern covering it)`;
    const tail = holders.length === 0
      ? '; no one holds an overlapping path lease now: acquire it first'
      : `; ${JSON.stringify(rel)} is reserved by ${holders.map((h) => `${h.owner} (${h.key}, ${h.mode}, token ${h.token})`).join(', ')}`;
    return new BatonError('LEASE_REQUIRED', head + tail, {
      details: {
        path: rel,
        needed,
        holders: holders.map((h) => ({ owner: h.owner, key: h.key, mode: h.mode, token: h.token, sessionId: h.sessionId, expiresAt: h.expiresAt })),
      },
    });
  }

  // -------------------------------------------------------------------------
  // Operations (the caller has checked the lease)

  /**
   * Writes the whole file atomically and durably, creating missing parent
   * directories. `mode` applies to a new file; an existing one keeps its mode.
   * A symlink at the path is refused (PERMISSION_DENIED). The bytes go to a
   * temp file on the thread pool (the process keeps serving meanwhile); then
   * `beforeCommit` runs (the lease check), and if it passes, the rename follows
   * with no I/O wait in between, else the temp file is removed.
   */
  async write(relPath: string, data: Uint8Array | string, options: { mode?: number; beforeCommit?: () => Promise<unknown> } = {}): Promise<WriteResult> {
    const loc = this.#locate(relPath);
    if (loc.link !== undefined) {
      throw new BatonError('PERMISSION_DENIED', `${loc.rel} is a symbolic link to ${loc.link.target}; baton does not write through links: write ${loc.link.target}, or delete the link first`, {
        details: { path: loc.rel, target: loc.link.target },
      });
    }
    if (typeof data !== 'string' && !(data instanceof Uint8Array)) throw new BatonError('INVALID_ARGUMENT', `content for ${loc.rel} must be a string or bytes`);
    const mode = options.mode;
    if (mode !== undefined && (!Number.isInteger(mode) || mode < 0 || mode > 0o7777)) {
      throw new BatonError('INVALID_ARGUMENT', `mode must be an integer from 0 to 0o7777, got ${String(mode)}`);
    }
    this.#ensureParent(loc);
    this.#echo(loc.rel);
    try {
      const staged = await stageReplace(loc.abs, data, mode === undefined ? {} : { mode });
      try {
        await options.beforeCommit?.();
      } catch (error) {
        await staged.discard();
        throw error;
      }
      await staged.commit();
    } finally {
      this.#echo(loc.rel);
    }
    return { path: loc.rel, size: typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength };
  }

  /** Removes a file (a symlink itself, not its target); NOT_FOUND when missing, IS_A_DIRECTORY for a directory. */
  async delete(relPath: string): Promise<{ path: string }> {
    const loc = this.#locate(relPath);
    this.#assertNotDirectory(loc, 'delete');
    this.#echo(loc.rel);
    try {
      unlinkSync(loc.abs);
      fsyncDirectory(dirname(loc.abs));
    } catch (error) {
      throw fsError(error, 'delete', loc.rel);
    } finally {
      this.#echo(loc.rel);
    }
    return { path: loc.rel };
  }

  /**
   * Renames a file or directory atomically (a symlink itself, not its target),
   * replacing an existing file at `toRel` and creating missing parents.
   */
  async rename(fromRel: string, toRel: string): Promise<RenameResult> {
    const from = this.#locate(fromRel);
    const to = this.#locate(toRel);
    try {
      lstatSync(from.abs);
    } catch (error) {
      throw fsError(error, 'rename', from.rel);
    }
    if (from.rel === to.rel) return { path: to.rel, from: from.rel };
    if (under(to.rel, from.rel)) {
      throw new BatonError('INVALID_ARGUMENT', `cannot rename ${from.rel} to ${to.rel}: a directory cannot move inside itself`, { details: { from: from.rel, path: to.rel } });
    }
    this.#ensureParent(to);
    this.#echo(from.rel);
    this.#echo(to.rel);
    try {
      renameSync(from.abs, to.abs);
      fsyncDirectory(dirname(to.abs));
      if (dirname(from.abs) !== dirname(to.abs)) fsyncDirectory(dirname(from.abs));
    } catch (error) {
      throw fsError(error, `rename ${from.rel} to`, to.rel);
    } finally {
      this.#echo(from.rel);
      this.#echo(to.rel);
    }
    return { path: to.rel, from: from.rel };
  }

  /** Reads a whole file (a symlink is followed; its target is confined too). PAYLOAD_TOO_LARGE past `maxBytes`. */
  async read(relPath: string, options: { maxBytes?: number } = {}): Promise<Buffer> {
    const loc = this.#locate(relPath);
    try {
      if (options.maxBytes !== undefined) {
        const info = await stat(loc.abs);
        if (info.isFile() && info.size > options.maxBytes) {
          throw new BatonError('PAYLOAD_TOO_LARGE', `${loc.rel} is ${info.size} bytes, more than the ${options.maxBytes} allowed`, { details: { path: loc.rel, size: info.size, maxBytes: options.maxBytes } });
        }
      }
      return await readFile(loc.abs);
    } catch (error) {
      throw fsError(error, 'read', loc.rel);
    }
  }

  #assertNotDirectory(loc: Located, action: string): void {
    let isDir: boolean;
    try {
      isDir = lstatSync(loc.abs).isDirectory();
    } catch (error) {
      throw fsError(error, action, loc.rel);
    }
    if (isDir) throw new BatonError('IS_A_DIRECTORY', `cannot ${action} ${loc.rel}: it is a directory`, { details: { path: loc.rel } });
  }

  /** Creates the missing parents of a located path (inside the root: its parent is canonical and below or at the root). */
  #ensureParent(loc: Located): void {
    const parent = dirname(loc.abs);
    if (parent === this.root) return;
    const missing: string[] = [];
    for (let dir = parent; dir !== this.root && isBelow(this.root, dir); dir = dirname(dir)) {
      try {
        lstatSync(dir);
        break;
      } catch (error) {
        if (errnoCode(error) !== 'ENOENT') break; // makeDirectories will say what is wrong
        missing.push(toPosix(relative(this.root, dir)));
      }
    }
    if (missing.length === 0) return;
    for (const rel of missing) this.#echo(rel);
    try {
      makeDirectories(parent);
    } catch (error) {
      throw fsError(error, 'create directory', toPosix(relative(this.root, parent)));
    }
  }

  // -------------------------------------------------------------------------
  // Watching

  #echo(rel: string): void {
    const now = Date.now();
    if (this.#echoes.size > 1000) {
      for (const [k, until] of this.#echoes) if (until <= now) this.#echoes.delete(k);
    }
    this.#echoes.set(rel, now + this.#echoMs);
  }

  /** Was `rel` (or a directory above it) changed through this instance a moment ago? */
  #isEcho(rel: string): boolean {
    if (this.#echoes.size === 0) return false;
    const now = Date.now();
    for (let p = rel; ; ) {
      const until = this.#echoes.get(p);
      if (until !== undefined) {
        if (until > now) return true;
        this.#echoes.delete(p);
      }
      const slash = p.lastIndexOf('/');
      if (slash < 0) return false;
      p = p.slice(0, slash);
    }
  }

  /** Paths the watcher never reports: .git, node_modules, the ignore dirs, atomic writers' temp files. */
  #ignored(rel: string): boolean {
    const segments = rel.split('/');
    if (segments.some((s) => IGNORED_SEGMENTS.has(s) || s.toLowerCase() === '.git')) return true;
    if (TEMP_NAME.test(segments[segments.length - 1])) return true;
    return this.#ignore.some((d) => under(rel, d));
  }

  /**
   * Reports changes under the root made by anyone but this instance (its own
   * writes, deletes and renames are dropped for `echoMs`). Bursts on one path
   * are coalesced over `coalesceMs` ('rename' wins over 'change'). Watcher
   * errors go to onError and the watcher restarts, backing off up to 30 s.
   */
  watch(onChange: (change: FileChange) => void, options: WatchOptions = {}): FileWatch {
    const onError = options.onError ?? this.#onError;
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
      if (rel === '' || this.#ignored(rel) || this.#isEcho(rel)) return;
      const kind: FileChange['kind'] = eventType === 'rename' ? 'rename' : 'change';
      const entry = pending.get(rel);
      if (entry !== undefined) {
        if (kind === 'rename') entry.kind = 'rename';
        return;
      }
      const timer = setTimeout(() => deliver(rel), this.#coalesceMs);
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
          // on a Node without it, #ignored filters the events instead.
          const w = fsWatch(this.root, { recursive: true, ignore: (p: string) => this.#ignored(toPosix(p)) }, onEvent);
          w.on('error', (error) => {
            w.close();
            if (watcher === w) failed(error);
          });
          watcher = w;
        } else {
          const w = watchTree(this.root, {
            ignored: (rel) => this.#ignored(rel),
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
}
