// Where a project's coordination state lives: the database, the daemon's
// socket and record, its logs, API tokens and the HMAC secret. All worktrees
// of one git repository share it, because it sits in git's common directory.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { BatonError, fsError } from '../errors.ts';
import { makePrivateDirectory } from '../files/private-directory.ts';

export interface ProjectLocation {
  /** The state directory (mode 0700). */
  stateDir: string;
  /** The project root: the worktree top level, or the working directory outside git. */
  root: string;
  /**
   * How it was found: $BATON_HOME; git's common directory; a `.baton`
   * directory at or above the working directory, made on purpose (mkdir,
   * --state-dir .baton, a sqlite:.baton/... url); or 'cwd', nothing found:
   * `<cwd>/.baton` is where one would go, and no project is there yet.
   */
  source: 'BATON_HOME' | 'git' | '.baton' | 'cwd';
}

/** The nearest directory at or above `from` that holds `.git` (a directory, or a worktree's file). */
export function gitToplevel(from: string): string | undefined {
  let dir = resolve(from);
  for (;;) {
    if (existsSync(join(dir, '.git'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * git's common directory for the worktree at `toplevel`, found as git finds it
 * (no git process): `.git` is the directory itself, or a file naming the
 * worktree's git directory, whose `commondir` file points at the shared one.
 */
export function gitCommonDir(toplevel: string): string {
  const dotGit = join(toplevel, '.git');
  if (statSync(dotGit).isDirectory()) return dotGit;
  const match = /^gitdir:\s*(.+?)\s*$/m.exec(readFileSync(dotGit, 'utf8'));
  if (match === null) return dotGit;
  const gitDir = resolve(toplevel, match[1]!);
  const commonFile = join(gitDir, 'commondir');
  if (!existsSync(commonFile)) return gitDir;
  const common = readFileSync(commonFile, 'utf8').trim();
  return isAbsolute(common) ? common : resolve(gitDir, common);
}

/** The nearest directory at or above `from` that holds a `.baton` directory, as git finds `.git`. */
function batonDirAbove(from: string): string | undefined {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    try {
      if (statSync(join(dir, '.baton')).isDirectory()) return dir;
    } catch {
      // none here (or unreadable): look further up
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * $BATON_HOME, else `<git common dir>/baton`, else an existing `.baton` at or
 * above `cwd`, else `<cwd>/.baton` (source 'cwd': no project there yet).
 */
export function locateProject(cwd = process.cwd(), env: NodeJS.ProcessEnv = process.env): ProjectLocation {
  const toplevel = gitToplevel(cwd);
  const home = env.BATON_HOME;
  if (home !== undefined && home !== '') return { stateDir: resolve(home), root: toplevel ?? resolve(cwd), source: 'BATON_HOME' };
  if (toplevel !== undefined) return { stateDir: join(gitCommonDir(toplevel), 'baton'), root: toplevel, source: 'git' };
  const marked = batonDirAbove(cwd);
  if (marked !== undefined) return { stateDir: join(marked, '.baton'), root: marked, source: '.baton' };
  return { stateDir: join(resolve(cwd), '.baton'), root: resolve(cwd), source: 'cwd' };
}

/**
 * NO_PROJECT: said instead of making state where nothing asked for it, like
 * git's "not a git repository". `explicit` names the caller's own way to
 * give a state directory (`--state-dir <dir>`, `{ stateDir }`).
 */
export function noProjectError(cwd: string, explicit: string): BatonError {
  const here = resolve(cwd);
  return new BatonError(
    'NO_PROJECT',
    `no baton project here: ${here} is not in a git repository and has no .baton directory at or above it; run inside a git repository, set BATON_HOME, or pass ${explicit}`,
    { details: { path: here } },
  );
}

/** The files in a state directory. */
export function statePaths(stateDir: string) {
  return {
    database: join(stateDir, 'baton.db'),
    socket: join(stateDir, 'baton.sock'),
    /** The running daemon's record: pid, socket, listen address, started. */
    daemon: join(stateDir, 'daemon.json'),
    /** The lock (daemon.lock) one daemon per state directory holds while it runs. */
    daemonLock: join(stateDir, 'daemon'),
    logs: join(stateDir, 'logs'),
    tokens: join(stateDir, 'tokens.json'),
    /** The current HMAC key (project/hmac-key.ts). */
    hmacKey: join(stateDir, 'hmac.key'),
    /** The HMAC keys `baton auth rotate-key` replaced, until their overlap ends (project/hmac-key.ts). */
    hmacRetiring: join(stateDir, 'hmac-retiring.json'),
  };
}

/**
 * Makes the state directory if it is missing: mode 0700 (leases, tasks and
 * tokens are nobody else's business), with a `.gitignore` of `*` so that one
 * made inside a working tree never shows as untracked. The error names it.
 */
export function ensureStateDir(stateDir: string): void {
  try {
    makePrivateDirectory(stateDir);
  } catch (error) {
    throw fsError(error, 'create the state directory', stateDir);
  }
}
