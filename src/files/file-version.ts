// A file's identity and version, to re-read a small file only when it changed:
// an atomic replace makes a new inode, an edit in place a new mtime or size.
import { statSync } from 'node:fs';
import { fsError } from '../errors.ts';

/** The version of the file at `path`, or undefined when there is none. Equal versions: the same content. */
export function fileVersion(path: string): string | undefined {
  let info;
  try {
    info = statSync(path, { bigint: true, throwIfNoEntry: false });
  } catch (error) {
    throw fsError(error, 'stat', path);
  }
  return info === undefined ? undefined : `${info.dev}:${info.ino}:${info.size}:${info.mtimeNs}:${info.ctimeNs}`;
}
