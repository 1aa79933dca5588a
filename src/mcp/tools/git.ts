// git_commit: stage and commit under the project-wide git lease (the daemon
// takes it), refused up front when another agent has reserved part of it.
import { z } from 'zod';
import { BatonError, isBatonError } from '../../errors.ts';
import { pathPatternFor } from '../../engine/paths.ts';
import { MAX_TEXT_LENGTH } from '../../limits.ts';
import { projectPath } from './inputs.ts';
import { relativePath } from './project-path.ts';
import { refusal } from './refusals.ts';
import { tool } from './tool.ts';
import { describeHolder, pathHolders } from './views.ts';

export const gitCommit = tool({
  name: 'git_commit',
  title: 'Commit files under the git lock',
  description:
    'Stage the given paths and commit them, holding the project-wide git lock so no other agent runs git at the same moment (no index.lock errors, no mixed commits). Commit only the files you changed; a path another agent has reserved is refused with LOCKED (committing it would take their unfinished work). Use this instead of running git add/commit yourself.',
  input: z.strictObject({
    message: z.string().min(1).max(MAX_TEXT_LENGTH).describe('The commit message.'),
    paths: z.array(projectPath).min(1).max(1000).describe('Files or directories to stage and commit, relative to the project root.'),
  }),
  async run(args, ctx) {
    const paths = args.paths.map((p) => relativePath(p, ctx.backend.root));
    await ctx.agent.session();
    const others = (await pathHolders(ctx, paths.map(pathPatternFor))).filter((h) => !h.mine && h.mode === 'exclusive');
    if (others.length > 0) {
      throw refusal('LOCKED', `cannot commit: ${others.map(describeHolder).join(', ')} reserved part of it`, 'commit only the files you changed yourself, or wait until that agent releases them; nothing was committed', { holders: others });
    }
    try {
      const result = await ctx.backend.gitCommit(args.message, paths, ctx.agent.name);
      return { commit: result.commit, output: result.output.trim() };
    } catch (error) {
      // The daemon answers a git refusal of the request with its own code (CONFLICT: nothing to commit; NOT_FOUND: no such path), hinted in refusals.ts; IO_ERROR is git failing on the daemon's side.
      if (isBatonError(error, 'IO_ERROR')) throw new BatonError('IO_ERROR', error.message, { details: { ...error.details, hint: 'git failed on the daemon\'s side (a hook, the committer identity, the disk): tell your user; nothing was committed' } });
      if (isBatonError(error, 'LOCK_TIMEOUT') || isBatonError(error, 'LOCKED')) throw new BatonError(error.code, error.message, { details: { hint: 'another git operation held the git lock the whole time; retry shortly' } });
      throw error;
    }
  },
});
