// Atomic, durable file replacement: readers see the old content or the new,
// never a mix, and after fsync a crash or power loss keeps one of the two.
// The syscalls are synchronous: for small files on a local disk they cost a
// third of the thread-pool round trips of fs/promises (see docs/guarantees.md).
import { close, closeSync, constants, fchmodSync, fstatSync, fsyncSync, lstatSync, openSync, readdirSync, realpathSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { BatonError, errnoCode, fsError } from '../errors.ts';
import { isProcessAlive } from './process-info.ts';
import { randomPart } from './unique-name.ts';

const UMASK = process.umask();

export interface AtomicWriteOptions {
  /** fsync the file before the rename and the directory after it (default true). Off: survives process crashes, not power loss. */
  fsync?: boolean;
  /** Mode for a new file (default 0o666 less the umask). An existing file keeps its mode. */
  mode?: number;
}

export interface WriteJsonOptions extends AtomicWriteOptions {
  /** Indentation passed to JSON.stringify (default 2). */
  spaces?: number;
}

/** Where the bytes really go: a symlink is followed so it stays a symlink. Undefined mode: new file. */
function resolveTarget(path: string): { target: string; mode: number | undefined } {
  try {
    const info = lstatSync(path);
    if (info.isSymbolicLink()) {
      let target: string;
      try {
        target = realpathSync(path);
      } catch {
        return { target: path, mode: undefined }; // dangling: replace the link itself
      }
      return { target, mode: statSync(target).mode & 0o7777 };
    }
    if (info.isDirectory()) throw new BatonError('IS_A_DIRECTORY', `cannot write ${path}: it is a directory`, { details: { path } });
    return { target: path, mode: info.mode & 0o7777 };
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return { target: path, mode: undefined };
    throw fsError(error, 'write', path);
  }
}

/** Some filesystems refuse fsync on directories; a rename in them is still atomic. */
const refusesDirectoryFsync = (error: unknown): boolean => ['EINVAL', 'EISDIR', 'EPERM', 'ENOTSUP'].includes(errnoCode(error) ?? '');

/** fsync a directory so a rename in it survives power loss. */
export function fsyncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } catch (error) {
    if (!refusesDirectoryFsync(error)) throw error;
  } finally {
    closeSync(fd);
  }
}

export function writeFileAtomicSync(path: string, content: string | Uint8Array, options: AtomicWriteOptions = {}): void {
  const dir = replaceFileSync(path, content, options);
  if (dir !== undefined) syncDirectoryOf(dir, path);
}

/**
 * The atomic replace up to the rename; returns the directory still to be
 * fsynced (undefined with fsync off). A caller under a lock syncs it after
 * the release: the next holder may read the new content at once, and the
 * caller's own write is acknowledged only after the sync (JsonFile).
 */
export function replaceFileSync(path: string, content: string | Uint8Array, options: AtomicWriteOptions = {}): string | undefined {
  if (typeof path !== 'string' || path.length === 0) throw new BatonError('INVALID_ARGUMENT', `path must be a non-empty string, got ${JSON.stringify(path)}`);
  if (typeof content !== 'string' && !(content instanceof Uint8Array)) {
    throw new BatonError('INVALID_ARGUMENT', `content for ${path} must be a string or bytes, got ${typeof content}`);
  }
  const durable = options.fsync !== false;
  const { target, mode } = resolveTarget(resolve(path));
  const dir = dirname(target);
  const temp = tempPathFor(target);
  let fd: number | undefined;
  try {
    fd = openSync(temp, 'wx', mode ?? options.mode ?? 0o666);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') {
      throw new BatonError('NOT_FOUND', `cannot write ${target}: directory ${dir} does not exist`, { cause: error, details: { path: target } });
    }
    throw fsError(error, 'write', target);
  }
  try {
    // The umask applied at open; an existing file's mode is restored exactly.
    if (mode !== undefined && (mode & ~UMASK) !== mode) fchmodSync(fd, mode);
    const bytes = typeof content === 'string' ? Buffer.from(content) : content;
    for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
    if (durable) fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(temp, target);
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(temp);
    } catch {
      // already gone
    }
    throw fsError(error, 'write', target);
  }
  return durable ? dir : undefined;
}

/**
 * Unique and opened exclusively: concurrent writers never share a temp file.
 * Our PID in the name lets a later writer clear what a killed one left (removeStaleTemps).
 */
function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.${process.pid}.${randomPart(6, 'hex')}.tmp`);
}

/** An atomic replace staged up to its rename: the new content is in a synced temp file beside the target. */
export interface StagedReplace {
  readonly target: string;
  readonly temp: string;
  /** Renames the temp file into place (one synchronous syscall), then syncs the directory on the thread pool. */
  commit(): Promise<void>;
  /** Removes the temp file instead. */
  discard(): Promise<void>;
}

/**
 * The first half of an atomic replace, on the thread pool: for a process that
 * must keep answering while a large file is written (the daemon). What it
 * decides between staging and commit (a lease check) runs with the new
 * content already durable, and the rename is the moment it takes effect.
 */
export async function stageReplace(path: string, content: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<StagedReplace> {
  if (typeof content !== 'string' && !(content instanceof Uint8Array)) {
    throw new BatonError('INVALID_ARGUMENT', `content for ${path} must be a string or bytes, got ${typeof content}`);
  }
  const durable = options.fsync !== false;
  const { target, mode } = resolveTarget(resolve(path));
  const temp = tempPathFor(target);
  let handle;
  try {
    handle = await open(temp, 'wx', mode ?? options.mode ?? 0o666);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') {
      throw new BatonError('NOT_FOUND', `cannot write ${target}: directory ${dirname(target)} does not exist`, { cause: error, details: { path: target } });
    }
    throw fsError(error, 'write', target);
  }
  try {
    if (mode !== undefined && (mode & ~UMASK) !== mode) await handle.chmod(mode);
    await handle.writeFile(content);
    if (durable) await handle.sync();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(temp, { force: true });
    throw fsError(error, 'write', target);
  }
  await handle.close();
  const discard = (): Promise<void> => rm(temp, { force: true });
  return {
    target,
    temp,
    async commit() {
      try {
        renameSync(temp, target);
      } catch (error) {
        await discard();
        throw fsError(error, 'write', target);
      }
      if (!durable) return;
      const dir = await open(dirname(target), 'r');
      try {
        await dir.sync();
      } catch (error) {
        if (!refusesDirectoryFsync(error)) throw fsError(error, 'sync directory of', target);
      } finally {
        await dir.close();
      }
    },
    discard,
  };
}

export function syncDirectoryOf(dir: string, path: string): void {
  try {
    fsyncDirectory(dir);
  } catch (error) {
    throw fsError(error, 'sync directory of', path);
  }
}

/**
 * Opens the file a write is about to replace (or a delete to unlink), so that
 * its inode is freed when this descriptor closes rather than inside rename(2)
 * or unlink(2). On ext4 that free costs about as much as the rest of a write
 * without fsync; a caller holding a lock opens the file under the lock and
 * hands the descriptor to closeReplaced after the release. Undefined if the
 * file cannot be opened (the caller's own read or write reports why) or is
 * not a regular file, and on Windows, where an open file can refuse to be
 * replaced.
 */
export function openReplaced(path: string): number | undefined {
  if (process.platform === 'win32') return undefined;
  let fd: number;
  try {
    // Non-blocking: opening a named pipe must not wait for a writer.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  if (fstatSync(fd).isFile()) return fd;
  closeSync(fd);
  return undefined;
}

/** Closes what openReplaced opened, on the thread pool: the same process often takes the lock straight back. */
export function closeReplaced(fd: number | undefined): void {
  if (fd !== undefined) close(fd, () => {});
}

/**
 * Removes temp files that writers of `path` killed mid-write left behind.
 * Call it while holding the file's exclusive lock (JsonFile does, after it
 * reclaimed a dead holder's lock), so no live writer's temp file is touched.
 */
export function removeStaleTemps(path: string): number {
  const target = resolve(path);
  const prefix = `.${basename(target)}.`;
  let removed = 0;
  let names: string[];
  try {
    names = readdirSync(dirname(target));
  } catch {
    return 0;
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue;
    const match = /^(\d+)\.[0-9a-f]{12}\.tmp$/.exec(name.slice(prefix.length));
    if (match === null || isProcessAlive({ pid: Number(match[1]), startTime: null })) continue;
    try {
      unlinkSync(join(dirname(target), name));
      removed++;
    } catch {
      // gone already
    }
  }
  return removed;
}

export async function writeFileAtomic(path: string, content: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  writeFileAtomicSync(path, content, options);
}

export function serializeJson(path: string, data: unknown, spaces = 2): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(data, null, spaces);
  } catch (error) {
    throw new BatonError('INVALID_ARGUMENT', `cannot write ${path}: value is not JSON-serializable (${(error as Error).message})`, { cause: error });
  }
  if (text === undefined) throw new BatonError('INVALID_ARGUMENT', `cannot write ${path}: value ${String(data)} is not JSON-serializable`);
  return `${text}\n`;
}

export async function writeJsonAtomic(path: string, data: unknown, options: WriteJsonOptions = {}): Promise<void> {
  await writeFileAtomic(path, serializeJson(path, data, options.spaces), options);
}

/** Class form, holding default options. */
export class AtomicWriter {
  readonly options: WriteJsonOptions;

  constructor(options: WriteJsonOptions = {}) {
    this.options = options;
  }

  write(path: string, content: string | Uint8Array, options?: AtomicWriteOptions): Promise<void> {
    return writeFileAtomic(path, content, { ...this.options, ...options });
  }

  writeJson(path: string, data: unknown, options?: WriteJsonOptions): Promise<void> {
    return writeJsonAtomic(path, data, { ...this.options, ...options });
  }
}
