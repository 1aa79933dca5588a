// git through the daemon: status and commit run while holding the `git`
// lease, so they never interleave with another agent's git work.
import { execFile } from 'node:child_process';
import type { Coordinator } from '../coordinator.ts';
import { BatonError } from '../errors.ts';
import { withGitLock } from '../git-lock.ts';
import type { DaemonOperations } from '../protocol/daemon-operations.ts';
import type { Worktrees } from './worktrees.ts';

function git(root: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('git', args, { cwd: root, maxBuffer: 16 << 20, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } }, (error, stdout, stderr) => {
      if (error === null) resolve(stdout);
      else reject(new BatonError('IO_ERROR', `git ${args[0]} failed: ${(stderr || error.message).trim().split('\n')[0]}`, { details: { args, stderr } }));
    });
  });
}

export function gitOperations(coordinator: Coordinator, worktrees: Worktrees): Pick<DaemonOperations, 'gitStatus' | 'gitCommit'> {
  return {
    async gitStatus(body) {
      const { root } = worktrees.get(body.worktree);
      return withGitLock(coordinator, async () => ({ output: await git(root, ['status', '--porcelain=v1']) }), { owner: 'baton-daemon' });
    },
    async gitCommit(body) {
      const { root } = worktrees.get(body.worktree);
      const message = body.message;
      const paths = body.paths ?? [];
      for (const p of paths) if (p.startsWith('-')) throw new BatonError('INVALID_ARGUMENT', `a path may not start with "-": ${JSON.stringify(p)}`);
      const owner = body.owner ?? 'baton-daemon';
      return withGitLock(coordinator, async () => {
        if (paths.length > 0) await git(root, ['add', '--', ...paths]);
        const output = await git(root, ['commit', '-m', message]);
        const commit = (await git(root, ['rev-parse', 'HEAD'])).trim();
        await coordinator.publish({ type: 'git.committed', key: 'git', actor: owner, data: { commit, paths, worktree: root } });
        return { output, commit };
      }, { owner });
    },
  };
}
