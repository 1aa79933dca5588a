// The project's files as the daemon writes them for agents: every path is
// confined to the project root (confinement.ts), every change is atomic and
// durable, and the watcher (project-watch.ts) reports changes made by anyone
// else. The lease a change needs is path-leases.ts's check, made by the
// caller (file-ops.ts) in the order the changes arrived.
import { lstatSync, renameSync, unlinkSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, relative } from 'node:path';
import { BatonError, errnoCode, fsError } from '../errors.ts';
import { fsyncDirectory, stageReplace } from '../files/atomic-write.ts';
import { makeDirectories } from '../files/directories.ts';
import { Confinement, dirsBelow, isBelow, realRoot, toPosix, under, type Located, type ResolvedPath } from './confinement.ts';
import { Echoes, watchProject, type FileChange, type FileWatch, type WatchOptions } from './project-watch.ts';

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

export interface WriteResult {
  path: string;
  size: number;
}

export interface RenameResult {
  path: string;
  from: string;
}

export class ProjectFiles {
  /** The real path of the project root. */
  readonly root: string;
  readonly #paths: Confinement;
  readonly #ignore: string[];
  readonly #coalesceMs: number;
  readonly #onError: ((error: Error) => void) | undefined;
  /** This instance's own changes, which the watcher does not report. */
  readonly #echoes: Echoes;

  constructor(options: ProjectFilesOptions) {
    if (typeof options !== 'object' || options === null || typeof options.root !== 'string' || options.root === '') {
      throw new BatonError('INVALID_ARGUMENT', 'ProjectFiles needs { root: string }');
    }
    this.root = realRoot(options.root);
    this.#ignore = dirsBelow(this.root, options.ignore ?? [], 'ignore');
    this.#paths = new Confinement(this.root, dirsBelow(this.root, options.protect ?? options.ignore ?? [], 'protect'));
    this.#coalesceMs = options.coalesceMs ?? 50;
    this.#echoes = new Echoes(options.echoMs ?? 1000);
    this.#onError = options.onError;
  }

  /** Confines a path (relative to the root, or absolute inside it); see the policies in confinement.ts. */
  resolve(relPath: string): ResolvedPath {
    return this.#paths.resolve(relPath);
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
    const loc = this.#paths.locate(relPath);
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
    this.#echoes.mark(loc.rel);
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
      this.#echoes.mark(loc.rel);
    }
    return { path: loc.rel, size: typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength };
  }

  /** Removes a file (a symlink itself, not its target); NOT_FOUND when missing, IS_A_DIRECTORY for a directory. */
  async delete(relPath: string): Promise<{ path: string }> {
    const loc = this.#paths.locate(relPath);
    this.#assertNotDirectory(loc, 'delete');
    this.#echoes.mark(loc.rel);
    try {
      unlinkSync(loc.abs);
      fsyncDirectory(dirname(loc.abs));
    } catch (error) {
      throw fsError(error, 'delete', loc.rel);
    } finally {
      this.#echoes.mark(loc.rel);
    }
    return { path: loc.rel };
  }

  /**
   * Renames a file or directory atomically (a symlink itself, not its target),
   * replacing an existing file at `toRel` and creating missing parents.
   */
  async rename(fromRel: string, toRel: string): Promise<RenameResult> {
    const from = this.#paths.locate(fromRel);
    const to = this.#paths.locate(toRel);
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
    this.#echoes.mark(from.rel);
    this.#echoes.mark(to.rel);
    try {
      renameSync(from.abs, to.abs);
      fsyncDirectory(dirname(to.abs));
      if (dirname(from.abs) !== dirname(to.abs)) fsyncDirectory(dirname(from.abs));
    } catch (error) {
      // A directory moves onto an empty directory only: the caller's to resolve, not the daemon's failure.
      const code = errnoCode(error);
      if (code === 'ENOTEMPTY' || code === 'EEXIST') {
        throw new BatonError('CONFLICT', `cannot rename ${from.rel} to ${to.rel}: ${to.rel} is a directory that is not empty (${code})`, { cause: error, details: { from: from.rel, path: to.rel } });
      }
      throw fsError(error, `rename ${from.rel} to`, to.rel);
    } finally {
      this.#echoes.mark(from.rel);
      this.#echoes.mark(to.rel);
    }
    return { path: to.rel, from: from.rel };
  }

  /** Reads a whole file (a symlink is followed; its target is confined too). PAYLOAD_TOO_LARGE past `maxBytes`. */
  async read(relPath: string, options: { maxBytes?: number } = {}): Promise<Buffer> {
    const loc = this.#paths.locate(relPath);
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
    for (const rel of missing) this.#echoes.mark(rel);
    try {
      makeDirectories(parent);
    } catch (error) {
      throw fsError(error, 'create directory', toPosix(relative(this.root, parent)));
    }
  }

  // -------------------------------------------------------------------------
  // Watching

  /**
   * Reports changes under the root made by anyone but this instance (its own
   * writes, deletes and renames are dropped for `echoMs`); see project-watch.ts.
   */
  watch(onChange: (change: FileChange) => void, options: WatchOptions = {}): FileWatch {
    return watchProject({ root: this.root, ignore: this.#ignore, echoes: this.#echoes, coalesceMs: this.#coalesceMs }, onChange, options.onError ?? this.#onError);
  }
}
