// git through the daemon: status and commit run while holding the `git`
// lease, so they never interleave with another agent's git work. What can be
// refused without git is refused before the lease is taken (a refused call
// leaves no lease events and waits for no one): a worktree outside git, a
// message git cannot take, a path that leaves the worktree (the daemon's own
// confinement, as for files). What only git can see is refused under it, with
// the code it means (git-run.ts).
import { resolve } from 'node:path';
import type { Coordinator } from '../coordinator.ts';
import { BatonError } from '../errors.ts';
import { withGitLock } from '../git-lock.ts';
import { gitToplevel } from '../project/state-dir.ts';
import type { DaemonOperations } from '../protocol/daemon-operations.ts';
import { git, gitFailure, runGit } from './git-run.ts';
import type { Worktree, Worktrees } from './worktrees.ts';

/** The worktree a request names, which must be in a git repository (a daemon may serve a directory outside git). */
function gitWorktree(worktrees: Worktrees, named: string | undefined, operation: string): Worktree {
  const worktree = worktrees.get(named);
  if (gitToplevel(worktree.root) === undefined) {
    throw new BatonError('NOT_FOUND', `${worktree.root} is not a git repository (nor inside one), so there is nothing for ${operation}: this daemon serves a directory outside git`, {
      details: { worktree: worktree.root },
    });
  }
  return worktree;
}

/** git strips a message's surrounding whitespace (its C isspace) and refuses what is left empty. */
function checkMessage(message: string): void {
  if (message.includes('\0')) throw new BatonError('INVALID_ARGUMENT', 'the commit message contains a NUL byte, which git cannot store', { details: { field: 'message' } });
  if (/^[ \t\n\r]*$/.test(message)) throw new BatonError('INVALID_ARGUMENT', 'the commit message is empty once git strips its whitespace; say what the commit does', { details: { field: 'message' } });
}

/**
 * Each path as git is given it: confined to the worktree as the daemon's file
 * operations confine theirs (`..`, absolute paths outside, symlinks leading
 * out, NUL: OUTSIDE_ROOT; `.git` and the state directory: PERMISSION_DENIED),
 * and named by its real path (git refuses a path beyond a symbolic link). The
 * worktree itself (`.`) is every change in it. Globs stay globs; pathspec
 * magic is not offered: a path starting with ':' names a file.
 */
function gitPaths(worktree: Worktree, paths: string[]): string[] {
  return paths.map((p) => {
    if (p.startsWith('-')) throw new BatonError('INVALID_ARGUMENT', `a path may not start with "-": ${JSON.stringify(p)}`, { details: { path: p } });
    if (!p.includes('\0') && resolve(worktree.root, p) === worktree.root) return '.';
    const rel = worktree.files.resolve(p).rel;
    // A leading ':' is pathspec magic to git (":(exclude)", ":/"); "./" makes it the file of that name.
    return rel.startsWith(':') ? `./${rel}` : rel;
  });
}

export function gitOperations(coordinator: Coordinator, worktrees: Worktrees): Pick<DaemonOperations, 'gitStatus' | 'gitCommit'> {
  return {
    async gitStatus(body) {
      const { root } = gitWorktree(worktrees, body.worktree, 'gitStatus');
      return withGitLock(coordinator, async () => ({ output: await git(root, ['status', '--porcelain=v1']) }), { owner: 'baton-daemon' });
    },
    async gitCommit(body) {
      const worktree = gitWorktree(worktrees, body.worktree, 'gitCommit');
      const { root } = worktree;
      const message = body.message;
      checkMessage(message);
      const given = body.paths ?? [];
      const paths = gitPaths(worktree, given);
      const owner = body.owner ?? 'baton-daemon';
      return withGitLock(coordinator, async () => {
        if (paths.length > 0) await git(root, ['add', '--', ...paths]);
        // Nothing staged is known only here; the same request can succeed once the tree has changed.
        const diff = ['diff', '--cached', '--quiet'];
        const staged = await runGit(root, diff);
        if (staged.status === 0) {
          const named = given.length > 0 ? ` (${given.map((p) => JSON.stringify(p)).join(', ')}: no change from the last commit)` : '';
          throw new BatonError('CONFLICT', `nothing to commit: no change is staged${named}; commit after changing something`, { details: { paths: given } });
        }
        if (staged.status !== 1) throw gitFailure(diff, staged);
        // The message goes on stdin: as an argument, a long one passes the kernel's limit for one (E2BIG).
        const output = await git(root, ['commit', '-F', '-'], message);
        const commit = (await git(root, ['rev-parse', 'HEAD'])).trim();
        await coordinator.publish({ type: 'git.committed', key: 'git', actor: owner, data: { commit, paths, worktree: root } });
        return { output, commit };
      }, { owner });
    },
  };
}
