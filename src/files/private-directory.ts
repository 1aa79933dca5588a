// Directories baton makes for its own state (the state directory, a database's
// directory): private to their user, and invisible to git. A state directory
// made inside a working tree (`sqlite:.baton/baton.db`, `--state-dir ./state`)
// must not show up as untracked, nor be committed by a `git add -A`.
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { errnoCode } from '../errors.ts';

/** What the `.gitignore` baton writes says: everything here, itself included. */
export const IGNORE_EVERYTHING = '# made by baton: its private state, never to be committed\n*\n';

/**
 * mkdir -p with mode 0700 for every level it creates; the top-most level it
 * creates gets a `.gitignore` of `*`, which hides it and all below from git.
 * A directory that exists is left as it is (its mode too: it is the user's).
 * Returns the top-most directory it created, or undefined if all existed.
 * Throws the filesystem's error (ENOTDIR when `dir` is a file).
 */
export function makePrivateDirectory(dir: string): string | undefined {
  const target = resolve(dir);
  // The missing levels, top-most first. Created one by one: Node's recursive
  // mkdir spins for ever on some paths (see directories.ts).
  const missing: string[] = [];
  for (let level = target; !existsSync(level); level = dirname(level)) {
    missing.unshift(level);
    if (dirname(level) === level) break;
  }
  if (missing.length === 0) {
    if (!statSync(target).isDirectory()) throw Object.assign(new Error(`not a directory: ${target}`), { code: 'ENOTDIR' });
    return undefined;
  }
  let top: string | undefined;
  for (const level of missing) {
    try {
      mkdirSync(level, { mode: 0o700 });
      top ??= level;
    } catch (error) {
      // Another process made it meanwhile: it is theirs to mark.
      if (errnoCode(error) !== 'EEXIST') throw error;
    }
  }
  if (top !== undefined) {
    try {
      writeFileSync(join(top, '.gitignore'), IGNORE_EVERYTHING, { mode: 0o600, flag: 'wx' });
    } catch (error) {
      if (errnoCode(error) !== 'EEXIST') throw error;
    }
  }
  return top;
}

