// baton git -- <args>: run git while holding the exclusive `git` lease, so
// concurrent agents in one checkout take turns.
import { RemoteCoordinator } from '../client/remote.ts';
import type { AcquireOptions, Coordinator } from '../coordinator.ts';
import { withGitLock } from '../git-lock.ts';
import { DEFAULT_ACQUIRE_TIMEOUT_MS, DEFAULT_LEASE_TTL_MS, GIT_LEASE_KEY } from '../limits.ts';
import { runChild } from './child.ts';
import { UsageError, millis, parse, reportError, type Command } from './command.ts';
import { connectOptions, printHelp, withCoordinator } from './connect.ts';

const usage = 'baton git [--timeout <s>] [--owner <name>] [--db <path>] [--json] -- <git args...>';

/**
 * Through a daemon, the lease belongs to a session of this process, attached
 * by its connection: if baton is killed, the daemon releases the lease within
 * a second instead of after the TTL. The embedded store has no such liveness:
 * there the lease has a TTL and is renewed while git runs.
 */
async function bindToThisProcess(c: Coordinator): Promise<string | undefined> {
  if (!(c instanceof RemoteCoordinator)) return undefined;
  return (await c.register({ name: 'baton git', kind: 'cli' })).id;
}

export const gitCommand: Command = {
  name: 'git',
  summary: `run git while holding the exclusive '${GIT_LEASE_KEY}' lease`,
  usage,
  async run(argv) {
    const split = argv.indexOf('--');
    const own = split === -1 ? argv : argv.slice(0, split);
    const gitArgs = split === -1 ? [] : argv.slice(split + 1);
    const { values, positionals } = parse(own, { ...connectOptions, timeout: { type: 'string' }, owner: { type: 'string' } }, usage);
    if (values.help) {
      return printHelp(
        usage,
        `Takes the exclusive '${GIT_LEASE_KEY}' lease, runs 'git <args>' in the current directory with the terminal's stdio,
releases the lease, and exits with git's exit code. Agents that all go through 'baton git' never run
two git commands at once (no .git/index.lock collisions). Through the daemon the lease belongs to this
process: killed, it is released within a second. With the embedded store it has a ${DEFAULT_LEASE_TTL_MS / 1000} s TTL, renewed
while git runs.

  --timeout <s>    wait at most this long for the lease (default ${DEFAULT_ACQUIRE_TIMEOUT_MS / 1000}; 0: fail at once); exit 75 if not had
  --owner <name>   who holds the lease (default: <user>@<host>:<pid>)
`,
      );
    }
    // Errors are reported here: --json after -- belongs to git, not to baton.
    try {
      if (positionals.length > 0) throw new UsageError(`put git's arguments after --, e.g. baton git -- ${positionals.join(' ')}\nusage: ${usage}`);
      if (gitArgs.length === 0) throw new UsageError(`no git arguments given after --\nusage: ${usage}`);
      const timeoutMs = millis('--timeout', values.timeout) ?? DEFAULT_ACQUIRE_TIMEOUT_MS;
      return await withCoordinator(values, async (c) => {
        const options: Partial<AcquireOptions> = { timeoutMs, ...(values.owner === undefined ? {} : { owner: values.owner }) };
        const session = await bindToThisProcess(c);
        try {
          return await withGitLock(c, () => runChild('git', gitArgs, 'git'), session === undefined ? options : { ...options, sessionId: session, ttlMs: 0 });
        } finally {
          if (session !== undefined) await c.endSession(session).catch(() => undefined);
        }
      });
    } catch (error) {
      return reportError(error, values.json === true);
    }
  },
};
