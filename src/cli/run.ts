// baton run --lock <path> -- <command>: like flock(1). The command runs while
// the lock is held, and the lock stays live while baton or the command lives.
import { acquireLock } from '../files/lock.ts';
import { BatonError } from '../errors.ts';
import { runChild } from './child.ts';
import { ExitCode, UsageError, parse, seconds, type Command } from './command.ts';

const usage = 'baton run --lock <path> [--shared] [--timeout <seconds>] [--ttl <seconds>] [--conflict-exit-code <n>] -- <command> [args...]';

const help = `usage: ${usage}

Runs <command> while holding the lock on <path>, then exits with its exit code
(128+N if it was killed by signal N).

  --lock <path>              the resource to lock (the lock file is <path>.lock)
  --shared                   take a shared lock (many readers) instead of an exclusive one
  --timeout <seconds>        give up if the lock is not had in time (default: wait for ever; 0: try once)
  --ttl <seconds>            lease time: another host may reclaim the lock if baton stops renewing it
  --conflict-exit-code <n>   exit code when the lock is not had (default 75)

If baton is killed, the lock stays held until the command has ended too.
SIGTERM and SIGHUP are passed on to the command; SIGINT from a terminal reaches it directly.
`;

export const runCommand: Command = {
  name: 'run',
  summary: 'run a command while holding a lock (like flock)',
  usage,
  async run(argv) {
    const split = argv.indexOf('--');
    const own = split === -1 ? argv : argv.slice(0, split);
    const command = split === -1 ? [] : argv.slice(split + 1);
    const { values, positionals } = parse(
      own,
      { lock: { type: 'string' }, shared: { type: 'boolean' }, timeout: { type: 'string' }, ttl: { type: 'string' }, 'conflict-exit-code': { type: 'string' } },
      usage,
    );
    if (values.help) {
      process.stdout.write(help);
      return ExitCode.ok;
    }
    if (positionals.length > 0) throw new UsageError(`put the command after --, e.g. baton run --lock f -- ${positionals.join(' ')}\nusage: ${usage}`);
    if (values.lock === undefined || values.lock === '') throw new UsageError(`--lock <path> is required\nusage: ${usage}`);
    if (command.length === 0) throw new UsageError(`no command given after --\nusage: ${usage}`);
    const conflictCode = values['conflict-exit-code'] === undefined ? ExitCode.notAcquired : Number(values['conflict-exit-code']);
    if (!Number.isInteger(conflictCode) || conflictCode < 1 || conflictCode > 255) {
      throw new UsageError(`--conflict-exit-code must be a whole number from 1 to 255, got ${JSON.stringify(values['conflict-exit-code'])}`);
    }
    const ttl = seconds('--ttl', values.ttl, true);

    const result = await acquireLock(values.lock, {
      type: values.shared ? 'shared' : 'exclusive',
      timeout: seconds('--timeout', values.timeout) ?? Infinity,
      ttl,
    });
    if (!result.success) {
      if (result.reason === 'error') throw new BatonError(result.code, result.message);
      process.stderr.write(`baton: ${result.message} [${result.code}]\n`);
      return conflictCode;
    }
    const handle = result.handle;
    handle.signal.addEventListener('abort', () => {
      process.stderr.write(`baton: warning: ${(handle.signal.reason as Error).message}\n`);
    });

    const [file, ...args] = command as [string, ...string[]];
    try {
      return await runChild(file, args, JSON.stringify(file), (pid) => {
        try {
          // From now on the lock is live while either process is.
          handle.addProcess(pid);
        } catch {
          // lost already: the abort listener has said so
        }
      });
    } finally {
      await handle.release();
    }
  },
};
