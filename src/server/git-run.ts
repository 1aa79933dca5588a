// One git command for the daemon, and what its refusals mean: a client's
// mistake that only git can see (a path that matches no file, an ignored
// file) is a 4xx with the code it means, and only what is wrong on the
// daemon's side (no committer identity, a failing hook, a full disk) is left
// an IO_ERROR (500). git speaks in the C locale here, so its words can be
// matched.
import { execFile } from 'node:child_process';
import { BatonError, type ErrorCode } from '../errors.ts';

export interface GitResult {
  stdout: string;
  stderr: string;
  /** git's exit status (0: done). */
  status: number;
}

/** Runs git in `cwd` with `input` on its stdin. Rejects only when git cannot be run at all. */
export function runGit(cwd: string, args: string[], input = ''): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' };
    try {
      const child = execFile('git', args, { cwd, env, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
        const status = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        if (status === null) reject(new BatonError('IO_ERROR', `cannot run git ${args[0] ?? ''}: ${error?.message ?? 'unknown error'}`, { cause: error, details: { args } }));
        else resolve({ stdout, stderr, status });
      });
      // git may exit before it reads its input (a refusal): that is its answer, not an error of ours.
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(input);
    } catch (error) {
      // Arguments git cannot be given (a NUL): the callers check for them, so this is a bug of ours.
      reject(new BatonError('IO_ERROR', `cannot run git ${args[0] ?? ''}: ${(error as Error).message}`, { cause: error, details: { args } }));
    }
  });
}

/** git's refusals that are the client's mistake (or a state of the tree it can change), by what git says. */
const refusals: Array<[RegExp, ErrorCode, (said: string) => string]> = [
  [/not a git repository/i, 'NOT_FOUND', () => 'the worktree is not in a git repository'],
  [/did not match any files/, 'NOT_FOUND', (said) => `no file matches ${JSON.stringify(/pathspec '(.*)' did not/.exec(said)?.[1] ?? 'a path given')}, in the worktree or in git's index`],
  [/paths are ignored by one of your \.gitignore files/, 'INVALID_ARGUMENT', (said) => `${ignoredPaths(said)} ignored by .gitignore, and baton does not force-add ignored files: change .gitignore, or leave them out`],
  [/is outside repository|beyond a symbolic link/, 'OUTSIDE_ROOT', (said) => firstLine(said)],
  [/index\.lock': File exists/, 'LOCKED', () => "another git process holds .git/index.lock (git run outside baton's git lease); retry once it is done, or remove the file if no git runs"],
  [/unmerged files|unresolved conflict/i, 'CONFLICT', (said) => `${firstLine(said)}; resolve the conflicts first`],
  [/empty commit message/i, 'INVALID_ARGUMENT', () => 'the commit message is empty once git strips its whitespace'],
];

function firstLine(said: string): string {
  return said.trim().split('\n')[0]?.replace(/^(fatal|error): /, '') ?? '';
}

function ignoredPaths(said: string): string {
  const listed = said.split('\n').slice(1).filter((line) => line !== '' && !line.startsWith('hint:'));
  return listed.length === 1 ? `${JSON.stringify(listed[0])} is` : `${listed.map((p) => JSON.stringify(p)).join(', ')} are`;
}

/** The error for a git command that did not succeed: a 4xx for a refusal the client can act on, else IO_ERROR. */
export function gitFailure(args: string[], result: GitResult): BatonError {
  const said = result.stderr.trim() === '' ? result.stdout : result.stderr;
  const details = { args: args.slice(0, 16), status: result.status, stderr: result.stderr.slice(0, 4000) };
  for (const [pattern, code, words] of refusals) {
    if (pattern.test(said)) return new BatonError(code, `git ${args[0] ?? ''} refused: ${words(said)}`, { details });
  }
  return new BatonError('IO_ERROR', `git ${args[0] ?? ''} failed: ${firstLine(said) || `exit status ${result.status}`}`, { details });
}

/** Runs git and answers its stdout, or throws what its refusal means. */
export async function git(cwd: string, args: string[], input = ''): Promise<string> {
  const result = await runGit(cwd, args, input);
  if (result.status !== 0) throw gitFailure(args, result);
  return result.stdout;
}
