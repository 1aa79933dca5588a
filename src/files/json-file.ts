// A JSON document shared by processes: reads under a shared lock, writes and
// read-modify-write under an exclusive lock, every write atomic.
import { readFileSync, unlinkSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { BatonError, errnoCode, fsError } from '../errors.ts';
import { closeReplaced, openReplaced, removeStaleTemps, replaceFileSync, serializeJson, syncDirectoryOf } from './atomic-write.ts';
import { withLock, type LockHandle, type LockOptions } from './lock/lock.ts';

export interface JsonFileOptions<T> {
  /** Value read when the file does not exist; without it a missing file is a NOT_FOUND error. */
  defaultValue?: T;
  /** Checks (and may convert) every value read or written; throw to reject. A zod schema's `parse` fits. */
  validate?: (value: unknown) => T;
  /** Options for the lock taken around each operation (timeout, ttl, ...). */
  lock?: Omit<LockOptions, 'type'>;
  /** fsync each write (default true). */
  fsync?: boolean;
  /** JSON indentation (default 2). */
  spaces?: number;
}

export class JsonFile<T> {
  readonly path: string;
  readonly #options: JsonFileOptions<T>;

  constructor(path: string, options: JsonFileOptions<T> = {}) {
    if (typeof path !== 'string' || path.length === 0) throw new BatonError('INVALID_ARGUMENT', `path must be a non-empty string, got ${JSON.stringify(path)}`);
    this.path = resolve(path);
    this.#options = options;
  }

  /** Reads the document under a shared lock. */
  read(): Promise<T> {
    return withLock(this.path, () => this.#load(), { ...this.#options.lock, type: 'shared' });
  }

  /** Replaces the document under an exclusive lock. */
  async write(value: T): Promise<void> {
    await this.#replacing((lock, _replaced, synced) => this.#store(value, lock, synced));
  }

  /**
   * Read-modify-write under an exclusive lock. `fn` gets the current value and
   * returns the next one (or mutates it and returns nothing). Returns what was written.
   */
  update(fn: (current: T) => T | void | Promise<T | void>): Promise<T> {
    if (typeof fn !== 'function') throw new BatonError('INVALID_ARGUMENT', `update needs a function, got ${typeof fn}`);
    return this.#replacing(async (lock, replaced, synced) => {
      const current = await this.#load(replaced);
      const returned = await fn(current);
      const next = returned === undefined ? current : returned;
      await this.#store(next, lock, synced);
      return next;
    });
  }

  /** Deletes the document; false if it did not exist. */
  delete(): Promise<boolean> {
    return this.#replacing(async (_lock, _replaced, synced) => {
      try {
        unlinkSync(this.path);
      } catch (error) {
        if (errnoCode(error) === 'ENOENT') return false;
        throw fsError(error, 'delete', this.path);
      }
      if (this.#options.fsync !== false) synced.dir = dirname(this.path);
      return true;
    });
  }

  // The names from the plan this project grew from.
  readWithLock(): Promise<T> {
    return this.read();
  }
  writeWithLock(value: T): Promise<void> {
    return this.write(value);
  }
  modifyWithLock(fn: (current: T) => T | void | Promise<T | void>): Promise<T> {
    return this.update(fn);
  }
  deleteWithLock(): Promise<boolean> {
    return this.delete();
  }

  /**
   * An exclusive section that holds the document's current inode open until
   * after the release (openReplaced), so the rename or unlink in it does not
   * free the inode under the lock. `replaced` reads the document as it is.
   * The directory fsync that makes a rename or unlink durable runs after the
   * release, before the caller is answered: the file's own data was fsynced
   * before the rename, so the next holder already reads a durable file, and
   * its disk wait overlaps ours instead of following it. A power loss before
   * our sync can lose only writes not yet acknowledged (docs/guarantees.md).
   */
  async #replacing<R>(fn: (lock: LockHandle, replaced: number | undefined, synced: { dir?: string }) => Promise<R>): Promise<R> {
    let replaced: number | undefined;
    const synced: { dir?: string } = {};
    let result: R;
    try {
      result = await withLock(
        this.path,
        (lock) => {
          replaced = openReplaced(this.path);
          return fn(lock, replaced, synced);
        },
        { ...this.#options.lock, type: 'exclusive' },
      );
    } finally {
      closeReplaced(replaced);
    }
    if (synced.dir !== undefined) syncDirectoryOf(synced.dir, this.path);
    return result;
  }

  async #load(fd?: number): Promise<T> {
    let text: string;
    try {
      text = readFileSync(fd ?? this.path, 'utf8');
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') {
        if ('defaultValue' in this.#options) return structuredClone(this.#options.defaultValue as T);
        throw new BatonError('NOT_FOUND', `JSON document ${this.path} does not exist (give a defaultValue to start from one)`, { cause: error, details: { path: this.path } });
      }
      throw fsError(error, 'read', this.path);
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      // Never replaced silently: a corrupt document may be someone's only copy.
      const what = text.length === 0 ? 'is empty' : `is not valid JSON (${(error as Error).message})`;
      throw new BatonError('CORRUPT_FILE', `JSON document ${this.path} ${what}; it was left untouched`, { cause: error, details: { path: this.path } });
    }
    return this.#validate(value, 'read');
  }

  async #store(value: T, lock: LockHandle, synced: { dir?: string }): Promise<void> {
    const checked = this.#validate(value, 'write');
    // The last holder died: it may have left a temp file mid-write.
    if (lock.reclaimed) removeStaleTemps(this.path);
    synced.dir = replaceFileSync(this.path, serializeJson(this.path, checked, this.#options.spaces), { fsync: this.#options.fsync });
  }

  #validate(value: unknown, when: 'read' | 'write'): T {
    if (this.#options.validate === undefined) return value as T;
    try {
      return this.#options.validate(value);
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      const detail = when === 'read' ? 'the document on disk failed validation' : 'the value to write failed validation; nothing was written';
      throw new BatonError('VALIDATION_FAILED', `${this.path}: ${detail}: ${why}`, { cause: error, details: { path: this.path } });
    }
  }
}
