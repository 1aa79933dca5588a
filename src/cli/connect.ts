// How an engine command reaches its coordinator: the project's daemon, or the
// embedded store (--no-daemon, --db), opened around one command; and the
// options and help text for that choice, which every engine command takes.
import { dirname, resolve } from 'node:path';
import { openCoordinator } from '../client/open.ts';
import { RemoteCoordinator } from '../client/remote.ts';
import type { Coordinator } from '../coordinator.ts';
import { openCoordinator as openEmbedded } from '../engine/open.ts';
import { ExitCode, UsageError } from './command.ts';
import { ensureStateDir, stateDirOption } from './state-dir.ts';

/** The options that choose the coordinator, plus --json: every engine command takes them. */
export const connectOptions = {
  db: { type: 'string' },
  'no-daemon': { type: 'boolean' },
  'state-dir': { type: 'string' },
  json: { type: 'boolean' },
} as const;

export const connectHelp = `  --db <path>         use this database file directly (embedded; no daemon)
  --no-daemon         do not use or start the project's daemon: the embedded store ($BATON_NO_DAEMON=1 too)
  --state-dir <dir>   the project's state directory (default: $BATON_HOME, else <git common dir>/baton, else ./.baton)
  --json              print the result as JSON (errors as {"error":{...}} on stderr)
`;

export interface ConnectChoice {
  db?: string | undefined;
  'no-daemon'?: boolean | undefined;
  'state-dir'?: string | undefined;
}

/**
 * The coordinator a command runs against: --db (or $BATON_DB) is that file,
 * embedded; otherwise the project's daemon (started if none runs, unless
 * --no-daemon), else the embedded store in the state directory.
 */
export async function connect(choice: ConnectChoice): Promise<Coordinator> {
  const coordinator = await open(choice);
  if (coordinator instanceof RemoteCoordinator) return coordinator;
  // The same refusals with and without a daemon: the embedded store checks what the daemon would
  // (loaded here: the schemas cost ~90 ms to import, which a command through the daemon never pays).
  const { checkedAsTheDaemonChecks } = await import('../protocol/checked-coordinator.ts');
  return checkedAsTheDaemonChecks(coordinator);
}

async function open(choice: ConnectChoice): Promise<Coordinator> {
  const db = choice.db ?? (process.env.BATON_DB || undefined);
  if (choice.db === '') throw new UsageError('--db must name a file, got ""');
  if (choice['state-dir'] === '') throw new UsageError('--state-dir must name a directory, got ""');
  if (db !== undefined) {
    const path = resolve(db);
    ensureStateDir(dirname(path));
    return openEmbedded({ url: `sqlite:${path}` });
  }
  const stateDir = stateDirOption(choice['state-dir']);
  ensureStateDir(stateDir.path, stateDir.inWorkTree);
  return openCoordinator({ stateDir: stateDir.path, noDaemon: choice['no-daemon'] === true || Boolean(process.env.BATON_NO_DAEMON) });
}

/** Opens the command's coordinator, runs `fn`, and always closes it. */
export async function withCoordinator<T>(choice: ConnectChoice, fn: (coordinator: Coordinator) => Promise<T>): Promise<T> {
  const coordinator = await connect(choice);
  try {
    return await fn(coordinator);
  } finally {
    await coordinator.close();
  }
}

/** Prints an engine action's help, then the connection options; returns exit code 0. */
export function printHelp(usage: string, body: string): number {
  process.stdout.write(`usage: ${usage}\n\n${body}${body.endsWith('\n') ? '' : '\n'}${connectHelp}`);
  return ExitCode.ok;
}
