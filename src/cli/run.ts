// baton run --lock <path> -- <command>: like flock(1). The command runs while
// the lock is held, and the lock stays live while baton or the command lives.
import { resolve } from 'node:path';
import { connectToRunningDaemon } from '../client/open.ts';
import type { RemoteCoordinator } from '../client/remote.ts';
import type { Lease } from '../coordinator.ts';
import { acquireLock, readLock, type LockResult } from '../files/lock/lock.ts';
import { BatonError, isBatonError } from '../errors.ts';
import { defaultOwner } from '../git-lock.ts';
import { runChild } from './child.ts';
import { ExitCode, UsageError, parse, seconds, type Command } from './command.ts';
import { waitingForLease } from './lease-holders.ts';
import { notesShown, waitingNote } from './waiting.ts';

const usage = 'baton run --lock <path> [--shared] [--timeout <seconds>] [--ttl <seconds>] [--conflict-exit-code <n>] -- <command> [args...]';

const help = `usage: ${usage}

Runs <command> while holding the lock on <path>, then exits with its exit code
(128+N if it was killed by signal N).

  --lock <path>              the resource to lock (the lock file is <path>.lock)
  --shared                   take a shared lock (many readers) instead of an exclusive one
  --timeout <seconds>        give up if the lock is not had in time (default: wait for ever; 0: try once)
  --ttl <seconds>            lease time: the lock may be reclaimed once baton has stopped renewing it that long,
                             even while the command still runs (without --ttl it lives as long as either)
  --conflict-exit-code <n>   exit code when the lock is not had (default 75)

If baton is killed, the lock stays held until the command has ended too (with --ttl, until
the ttl has passed since baton's last renewal, if that comes first).
When the project's daemon runs (and not --no-daemon), baton first takes the daemon lease
file:<absolute path>, bound to its session, so a waiter is woken the moment the holder releases;
the lock file is still taken too, so processes that do not use the daemon are excluded as well.
On a terminal, a note on stderr says whom baton waits for, and for how long.
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
      { lock: { type: 'string' }, shared: { type: 'boolean' }, timeout: { type: 'string' }, ttl: { type: 'string' }, 'conflict-exit-code': { type: 'string' }, 'no-daemon': { type: 'boolean' } },
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

    const timeoutMs = seconds('--timeout', values.timeout) ?? Infinity;
    const started = performance.now();
    const daemon = values['no-daemon'] || process.env.BATON_NO_DAEMON ? undefined : await connectToRunningDaemon().catch(() => undefined);
    let daemonLease: Lease | undefined;
    const releaseDaemon = async (): Promise<void> => {
      if (daemonLease !== undefined) await daemon!.release(daemonLease).catch(() => undefined);
      await daemon?.close();
    };
    if (daemon !== undefined) {
      try {
        daemonLease = await takeDaemonLease(daemon, values.lock, values.shared === true, timeoutMs);
      } catch (error) {
        await releaseDaemon();
        if (isBatonError(error, 'LOCKED') || isBatonError(error, 'LOCK_TIMEOUT')) {
          process.stderr.write(`baton: ${error.message} [${error.code}]\n`);
          return conflictCode;
        }
        throw error;
      }
    }
    const result = await waitingForLock(
      values.lock,
      acquireLock(values.lock, {
        type: values.shared ? 'shared' : 'exclusive',
        // What is left of --timeout after waiting for the daemon lease (all of it without a daemon).
        timeout: daemon === undefined ? timeoutMs : Math.max(0, Math.round(timeoutMs - (performance.now() - started))),
        ttl,
      }),
    );
    if (!result.success) {
      await releaseDaemon();
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
      await releaseDaemon();
    }
  },
};

/** The daemon lease for a lock path, bound to a session of this process (it ends if baton dies). */
async function takeDaemonLease(daemon: RemoteCoordinator, path: string, shared: boolean, timeoutMs: number): Promise<Lease> {
  const session = await daemon.register({ name: 'baton run', kind: 'cli' });
  const key = `file:${resolve(path)}`;
  const mode = shared ? 'shared' : 'exclusive';
  return waitingForLease(daemon, key, mode, daemon.acquire(key, { owner: defaultOwner(), mode, sessionId: session.id, ttlMs: 0, timeoutMs: Number.isFinite(timeoutMs) ? timeoutMs : 2 ** 31 - 1 }));
}

/** Waits for a lock file; on a terminal, a note names its holder (pid and host), looked up each second. */
async function waitingForLock(path: string, acquiring: Promise<LockResult>): Promise<LockResult> {
  if (!notesShown()) return acquiring;
  const note = waitingNote();
  let over = false;
  void (async () => {
    while (!over) {
      await new Promise((resolve) => setTimeout(resolve, 250).unref());
      const info = await readLock(path).catch(() => undefined);
      const holder = info?.holders.find((h) => !h.verdict.stale)?.record;
      if (!over && holder !== undefined) note.update(`the lock on ${path}, held by pid ${holder.pid} on ${holder.hostname} (${holder.type})`);
      await new Promise((resolve) => setTimeout(resolve, 750).unref());
    }
  })();
  try {
    return await acquiring;
  } finally {
    over = true;
    note.done();
  }
}

