// The state directory a command works in: --state-dir, else the project's
// ($BATON_HOME, <git common dir>/baton, ./.baton), made on first use.
import { resolve } from 'node:path';
import { ensureStateDir as makeStateDir, locateProject } from '../project/state-dir.ts';
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

/**
 * Creates a directory for baton's state: mode 0700, and a `.gitignore` of `*`
 * in the top-most level it makes (so it never shows as untracked). Kept with
 * its old signature for its callers; every directory made is marked now.
 */
export function ensureStateDir(dir: string, _inWorkTree = false): void {
  makeStateDir(dir);
}
