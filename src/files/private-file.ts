// Files that hold secrets or their hashes (API tokens, HMAC keys): replaced
// atomically and durably, and readable by their user alone.
import { chmodSync, readFileSync, statSync } from 'node:fs';
import { errnoCode, fsError } from '../errors.ts';
import { writeFileAtomicSync } from './atomic-write.ts';

/** Replaces the file at `path` atomically, mode 0600 (hold its lock, if others write it). */
export function writePrivateFileSync(path: string, content: string | Uint8Array): void {
  try {
    // An existing file keeps its mode across an atomic write: make sure it is ours alone first.
    const info = statSync(path, { throwIfNoEntry: false });
    if (info !== undefined && (info.mode & 0o777) !== 0o600) chmodSync(path, 0o600);
  } catch (error) {
    throw fsError(error, 'set the mode of', path);
  }
  writeFileAtomicSync(path, content, { mode: 0o600 });
}

/** The text of the file at `path`, or undefined when there is none (any other failure is an IO error naming it). */
export function readPrivateFileSync(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw fsError(error, 'read', path);
  }
}
