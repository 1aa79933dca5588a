// Atomic, durable file replacement: readers see the old content or the new,
// never a mix, and after fsync a crash or power loss keeps one of the two.
import { open, lstat, realpath, rename, stat, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import { BatonError, errnoCode, fsError } from '../errors.ts';

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
async function resolveTarget(path: string): Promise<{ target: string; mode: number | undefined }> {
  try {
    const info = await lstat(path);
    if (info.isSymbolicLink()) {
      const target = await realpath(path).catch(() => undefined);
      if (target === undefined) return { target: path, mode: undefined };
      return { target, mode: (await stat(target)).mode & 0o7777 };
    }
    if (info.isDirectory()) throw new BatonError('IS_A_DIRECTORY', `cannot write ${path}: it is a directory`, { details: { path } });
    return { target: path, mode: info.mode & 0o7777 };
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return { target: path, mode: undefined };
    throw fsError(error, 'write', path);
  }
}

/** fsync a directory so a rename in it survives power loss. */
export async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch (error) {
    // Some filesystems refuse fsync on directories; the rename is still atomic.
    if (!['EINVAL', 'EISDIR', 'EPERM', 'ENOTSUP'].includes(errnoCode(error) ?? '')) throw error;
  } finally {
    await handle.close();
  }
}

export async function writeFileAtomic(path: string, content: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  if (typeof path !== 'string' || path.length === 0) throw new BatonError('INVALID_ARGUMENT', `path must be a non-empty string, got ${JSON.stringify(path)}`);
  if (typeof content !== 'string' && !(content instanceof Uint8Array)) {
    throw new BatonError('INVALID_ARGUMENT', `content for ${path} must be a string or bytes, got ${typeof content}`);
  }
  const durable = options.fsync !== false;
  const { target, mode } = await resolveTarget(resolve(path));
  const dir = dirname(target);
  // Unique and opened exclusively: concurrent writers never share a temp file.
  const temp = join(dir, `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  let handle;
  try {
    handle = await open(temp, 'wx', mode ?? options.mode ?? 0o666);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') {
      throw new BatonError('NOT_FOUND', `cannot write ${target}: directory ${dir} does not exist`, { cause: error, details: { path: target } });
    }
    throw fsError(error, 'write', target);
  }
  try {
    // The umask applied at open; an existing file's mode is restored exactly.
    if (mode !== undefined) await handle.chmod(mode);
    await handle.writeFile(content);
    if (durable) await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(temp, target);
  } catch (error) {
    await handle?.close().catch(() => {});
    await unlink(temp).catch(() => {});
    throw fsError(error, 'write', target);
  }
  if (durable) await fsyncDirectory(dir).catch((error: unknown) => {
    throw fsError(error, 'sync directory of', target);
  });
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
