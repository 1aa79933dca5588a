// JSON Lines appends (histories, logs) that stay whole with many writers.
// O_APPEND alone keeps short writes whole on a local disk, but not long
// lines, partial writes, or NFS; so each append holds the file's lock.
import { open, readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { BatonError, errnoCode, fsError } from '../errors.ts';
import { withLock, type LockOptions } from './lock/lock.ts';

export interface AppendOptions {
  /** fsync after the append (default false: appends survive process crashes, not power loss). */
  fsync?: boolean;
  lock?: Omit<LockOptions, 'type'>;
}

function toLines(path: string, records: unknown[]): string {
  return records
    .map((record) => {
      const text = JSON.stringify(record);
      if (text === undefined) throw new BatonError('INVALID_ARGUMENT', `cannot append to ${path}: ${String(record)} is not JSON-serializable`);
      return `${text}\n`;
    })
    .join('');
}

/** Appends records as JSON lines, in one write, under the file's lock. */
export async function appendJsonLines(path: string, records: unknown | unknown[], options: AppendOptions = {}): Promise<void> {
  const file = resolve(path);
  const text = toLines(file, Array.isArray(records) ? records : [records]);
  await withLock(
    file,
    async () => {
      let handle;
      try {
        handle = await open(file, 'a+', 0o644);
        // A writer killed mid-line left a partial line: end it so ours stays whole.
        const { size } = await handle.stat();
        let prefix = '';
        if (size > 0) {
          const last = Buffer.alloc(1);
          await handle.read(last, 0, 1, size - 1);
          if (last[0] !== 0x0a) prefix = '\n';
        }
        // Under the lock, so a short write may simply go on where it stopped.
        const bytes = Buffer.from(prefix + text);
        for (let done = 0; done < bytes.length; ) done += (await handle.write(bytes, done, bytes.length - done)).bytesWritten;
        if (options.fsync === true) await handle.sync();
      } catch (error) {
        throw fsError(error, 'append to', file);
      } finally {
        await handle?.close();
      }
    },
    { ...options.lock, type: 'exclusive' },
  );
}

export interface ReadLinesOptions {
  /** 'throw' (default): a bad line is a CORRUPT_FILE error naming the line. 'skip': bad lines are left out. */
  onCorrupt?: 'throw' | 'skip';
}

/** Reads every complete record. A last line without a newline (a writer died mid-append) is ignored. */
export async function readJsonLines<T = unknown>(path: string, options: ReadLinesOptions = {}): Promise<T[]> {
  const file = resolve(path);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return [];
    throw fsError(error, 'read', file);
  }
  const lines = text.split('\n');
  lines.pop(); // after the last newline: empty, or an unfinished line
  const out: T[] = [];
  lines.forEach((line, index) => {
    if (line.length === 0) return;
    try {
      out.push(JSON.parse(line) as T);
    } catch (error) {
      if (options.onCorrupt === 'skip') return;
      throw new BatonError('CORRUPT_FILE', `${file} line ${index + 1} is not valid JSON: ${(error as Error).message}`, { cause: error, details: { path: file, line: index + 1 } });
    }
  });
  return out;
}
