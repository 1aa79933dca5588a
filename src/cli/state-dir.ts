// The state directory a command works in: --state-dir, else the project's
// ($BATON_HOME, <git common dir>/baton, ./.baton), made on first use.
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fsError } from '../errors.ts';
import { makeDirectories } from '../files/directories.ts';
import { locateProject } from '../project/state-dir.ts';
import { UsageError } from './command.ts';

export interface StateDir {
  path: string;
  /** The default ./.baton outside git: it sits in a working tree. */
  inWorkTree: boolean;
}

/** --state-dir (`option`), else where the project at `cwd` keeps its state. */
export function stateDirOption(option: string | undefined, cwd = process.cwd()): StateDir {
  if (option === '') throw new UsageError('--state-dir must name a directory, got ""');
  if (option !== undefined) return { path: resolve(option), inWorkTree: false };
  const project = locateProject(cwd);
  return { path: project.stateDir, inWorkTree: project.source === 'cwd' };
}

/** Creates a directory for baton's state (mode 0700: leases, tasks and tokens are nobody else's business). */
export function ensureStateDir(dir: string, inWorkTree = false): void {
  try {
    if (existsSync(dir)) {
      if (!statSync(dir).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
      return;
    }
    makeDirectories(dir, 0o700);
    // ./.baton outside git sits in a working directory: keep it out of any later repository.
    if (inWorkTree) writeFileSync(join(dir, '.gitignore'), '*\n', { mode: 0o600 });
  } catch (error) {
    throw fsError(error, 'create the state directory', dir);
  }
}
