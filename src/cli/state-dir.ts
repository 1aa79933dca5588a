// The state directory a command works in: --state-dir, else the project's
// ($BATON_HOME, <git common dir>/baton, a .baton made on purpose). Outside a
// project the engine's commands refuse (NO_PROJECT), as git does outside a
// repository, instead of making state nobody asked for.
import { resolve } from 'node:path';
import { ensureStateDir as makeStateDir, locateProject, noProjectError, type ProjectLocation } from '../project/state-dir.ts';
import { UsageError } from './command.ts';

export interface StateDir {
  path: string;
  /** Outside any project: the default ./.baton, which nothing asked for yet. */
  inWorkTree: boolean;
}

/** --state-dir (`option`), else where the project at `cwd` keeps (or would keep) its state. */
export function stateDirOption(option: string | undefined, cwd = process.cwd()): StateDir {
  if (option === '') throw new UsageError('--state-dir must name a directory, got ""');
  if (option !== undefined) return { path: resolve(option), inWorkTree: false };
  const project = locateProject(cwd);
  return { path: project.stateDir, inWorkTree: project.source === 'cwd' };
}

/** The project's location, or NO_PROJECT when there is none at `cwd` and no --state-dir names one. */
export function projectLocation(option: string | undefined, cwd = process.cwd()): ProjectLocation {
  if (option === '') throw new UsageError('--state-dir must name a directory, got ""');
  const project = locateProject(cwd);
  if (option !== undefined) return { ...project, stateDir: resolve(option) };
  if (project.source === 'cwd') throw noProjectError(cwd, '--state-dir <dir>');
  return project;
}

/**
 * Creates a directory for baton's state: mode 0700, and a `.gitignore` of `*`
 * in the top-most level it makes (so it never shows as untracked). Kept with
 * its old signature for its callers; every directory made is marked now.
 */
export function ensureStateDir(dir: string, _inWorkTree = false): void {
  makeStateDir(dir);
}
