// baton run --lock <path> | --reserve <glob> -- <command>: like flock(1). The
// command runs while the lock and the reservations are held. The lock stays
// live while baton or the command lives; a reservation is a path lease in the
// project's coordinator, the namespace agents reserve in, bound to a session
// of this process.
import { connectToRunningDaemon } from '../client/open.ts';
import type { Coordinator, Lease } from '../coordinator.ts';
import { acquireLock, readLock, type LockResult } from '../files/lock/lock.ts';
import { BatonError, isBatonError } from '../errors.ts';
import { locateProject } from '../project/state-dir.ts';
import { runChild } from './child.ts';
import { ExitCode, UsageError, errorLine, parse, seconds, warningLine, type Command } from './command.ts';
import { connect } from './connect.ts';
import { waitingForLease } from './lease-holders.ts';
import { runOwner } from './owner.ts';
import { releaseAll, reservePattern, takeReservations, warnIfReserved } from './reservations.ts';
import { projectLocation } from './state-dir.ts';
import { notesShown, waitingNote } from './waiting.ts';
import { resolve } from 'node:path';

const usage = 'baton run (--lock <path> | --reserve <glob>...) [--shared] [--timeout <seconds>] [--ttl <seconds>] [--conflict-exit-code <n>] -- <command> [args...]';

const help = `usage: ${usage}

Runs <command> while holding the lock on <path> and/or reservations of <glob>, then exits with
its exit code (128+N if it was killed by signal N).

  --lock <path>              the resource to lock (the lock file is <path>.lock), like flock(1)
  --reserve <glob>           reserve these paths in the project, as agents do with reserve_paths
                             (path:<glob>, relative to the working directory); repeatable
  --shared                   shared (many readers) instead of exclusive, for both
  --timeout <seconds>        give up if not had in time (default: wait for ever; 0: try once)
  --ttl <seconds>            the lock's lease time: it may be reclaimed once baton has stopped renewing it that
                             long, even while the command still runs (without --ttl it lives as long as either)
  --conflict-exit-code <n>   exit code when the lock or a reservation is not had (default 75)
  --no-daemon                do not use the project's daemon ($BATON_NO_DAEMON=1 too)
  --state-dir <dir>          the project's state directory (default: $BATON_HOME, <git common dir>/baton, .baton)

--lock is a lock file: it works anywhere, with or without a project. If baton is killed, the lock
stays held until the command has ended too (with --ttl, until the ttl has passed since baton's last
renewal, if that comes first). When the project's daemon runs, baton also takes the daemon lease
file:<absolute path>, bound to its session, so a waiter is woken the moment the holder releases; and
it warns (one line) when an agent's path reservation covers <path>: a lock does not wait for those.

--reserve takes path:<glob> in the project's coordinator, through its daemon (started if none runs),
bound to a session of this baton process: agents' reserve_paths and 'baton lease acquire path:...'
wait for it, and it waits for theirs. If baton is killed (even with -9) the daemon ends the
reservation at once, while the command may still run. Outside a project it is refused (NO_PROJECT).

On a terminal, a note on stderr says whom baton waits for, and for how long.
SIGTERM and SIGHUP are passed on to the command; SIGINT from a terminal reaches it directly.
`;

const options = {
  lock: { type: 'string' },
  reserve: { type: 'string', multiple: true },
  shared: { type: 'boolean' },
  timeout: { type: 'string' },
  ttl: { type: 'string' },
  'conflict-exit-code': { type: 'string' },
  'no-daemon': { type: 'boolean' },
  'state-dir': { type: 'string' },
} as const;

/** The coordinator side of a run: the session its leases are bound to, and what it holds. */
interface Held {
  coordinator: Coordinator;
  session: string;
  leases: Lease[];
}

async function letGo(held: Held | undefined): Promise<void> {
  if (held === undefined) return;
  await releaseAll(held.coordinator, held.leases);
  await held.coordinator.endSession(held.session).catch(() => undefined);
  await held.coordinator.close().catch(() => undefined);
}

export const runCommand: Command = {
  name: 'run',
  summary: 'run a command while holding a lock (like flock) or path reservations',
  usage,
  async run(argv) {
    const split = argv.indexOf('--');
    const own = split === -1 ? argv : argv.slice(0, split);
    const command = split === -1 ? [] : argv.slice(split + 1);
    const { values, positionals } = parse(own, options, usage);
    if (values.help) {
      process.stdout.write(help);
      return ExitCode.ok;
    }
    if (positionals.length > 0) throw new UsageError(`put the command after --, e.g. baton run --lock f -- ${positionals.join(' ')}\nusage: ${usage}`);
    const lock = values.lock;
    const reserves = values.reserve ?? [];
    if (lock === '') throw new UsageError(`--lock must name a path, got ""\nusage: ${usage}`);
    if (lock === undefined && reserves.length === 0) throw new UsageError(`--lock <path> or --reserve <glob> is required\nusage: ${usage}`);
    if (command.length === 0) throw new UsageError(`no command given after --\nusage: ${usage}`);
    const conflictCode = values['conflict-exit-code'] === undefined ? ExitCode.notAcquired : Number(values['conflict-exit-code']);
    if (!Number.isInteger(conflictCode) || conflictCode < 1 || conflictCode > 255) {
      throw new UsageError(`--conflict-exit-code must be a whole number from 1 to 255, got ${JSON.stringify(values['conflict-exit-code'])}`);
    }
    const ttl = seconds('--ttl', values.ttl, true);
    if (ttl !== undefined && lock === undefined) throw new UsageError(`--ttl is the lock file's lease time and needs --lock; a reservation lasts as long as baton run\nusage: ${usage}`);
    const timeoutMs = seconds('--timeout', values.timeout) ?? Infinity;
    const mode = values.shared ? 'shared' : 'exclusive';
    const [file, ...args] = command as [string, ...string[]];
    const owner = runOwner(file);
    const deadline = performance.now() + timeoutMs;
    const left = (): number => Math.max(0, Math.round(deadline - performance.now()));
    const noDaemon = values['no-daemon'] === true || Boolean(process.env.BATON_NO_DAEMON);

    // The project's coordinator: --reserve needs one (and makes it); --lock uses a daemon that runs.
    let held: Held | undefined;
    const conflict = async (error: unknown): Promise<number> => {
      await letGo(held);
      if (isBatonError(error, 'LOCKED') || isBatonError(error, 'LOCK_TIMEOUT')) {
        process.stderr.write(errorLine(error.message, error.code));
        return conflictCode;
      }
      throw error;
    };
    try {
      let coordinator: Coordinator | undefined;
      let root: string | undefined;
      if (reserves.length > 0) {
        root = projectLocation(values['state-dir']).root;
        const patterns = reserves.map((r) => reservePattern(r, root!));
        coordinator = await connect({ 'state-dir': values['state-dir'], 'no-daemon': noDaemon });
        held = { coordinator, session: (await coordinator.register({ name: 'baton run', kind: 'cli' })).id, leases: [] };
        held.leases.push(...(await takeReservations(coordinator, patterns, { sessionId: held.session, owner, mode, timeoutMs: left() })));
      } else if (!noDaemon && lock !== undefined) {
        const stateDir = values['state-dir'] === undefined ? undefined : resolve(values['state-dir']);
        coordinator = await connectToRunningDaemon(stateDir === undefined ? {} : { stateDir }).catch(() => undefined);
        if (coordinator !== undefined) held = { coordinator, session: (await coordinator.register({ name: 'baton run', kind: 'cli' })).id, leases: [] };
      }
      if (lock !== undefined && held !== undefined) {
        await warnIfReserved(held.coordinator, lock, root ?? locateProject().root, held.session);
        // The daemon's lease on the lock's path first: a waiter is woken the moment the holder releases.
        const key = `file:${resolve(lock)}`;
        const acquiring = held.coordinator.acquire(key, { owner, mode, sessionId: held.session, ttlMs: 0, timeoutMs: Number.isFinite(timeoutMs) ? left() : 2 ** 31 - 1 });
        held.leases.push(await waitingForLease(held.coordinator, key, mode, acquiring));
      }
    } catch (error) {
      return conflict(error);
    }

    let result: LockResult | undefined;
    if (lock !== undefined) {
      result = await waitingForLock(lock, acquireLock(lock, { type: mode, timeout: Number.isFinite(timeoutMs) ? left() : Infinity, ttl }));
      if (!result.success) {
        await letGo(held);
        if (result.reason === 'error') throw new BatonError(result.code, result.message);
        process.stderr.write(errorLine(result.message, result.code));
        return conflictCode;
      }
      const handle = result.handle;
      handle.signal.addEventListener('abort', () => {
        process.stderr.write(warningLine((handle.signal.reason as Error).message));
      });
    }
    const handle = result?.success ? result.handle : undefined;
    try {
      return await runChild(file, args, JSON.stringify(file), (pid) => {
        try {
          // From now on the lock is live while either process is.
          handle?.addProcess(pid);
        } catch {
          // lost already: the abort listener has said so
        }
      });
    } finally {
      await handle?.release();
      await letGo(held);
    }
  },
};

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
