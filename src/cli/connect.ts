// How an engine command reaches its coordinator, opened around one command,
// and the options and help text for that choice, which every engine command
// takes. Two ways in:
//   - a command that writes goes through the project's daemon (started when
//     none runs), or the embedded store (--no-daemon, --db), making the state
//     directory (private, hidden from git) if it is missing;
//   - a command that only reads never creates anything and never starts a
//     daemon: the running daemon, else the database if there is one, else an
//     empty store in memory ("no state yet").
// Outside a project (no git repository, $BATON_HOME or .baton, and no
// --state-dir, --db or $BATON_URL) both refuse with NO_PROJECT.
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { connectToRunningDaemon, openCoordinator } from '../client/open.ts';
import { RemoteCoordinator } from '../client/remote.ts';
import type { Coordinator } from '../coordinator.ts';
import { openCoordinator as openEmbedded } from '../engine/open.ts';
import { statePaths } from '../project/state-dir.ts';
import { PROJECT_NAME_PATTERN, PROJECT_NAME_RULE } from '../limits.ts';
import { describeTarget } from '../stores/postgres/connection.ts';
import { ExitCode, UsageError } from './command.ts';
import { ensureStateDir, projectLocation } from './state-dir.ts';
import { daemonWaitNote } from './waiting.ts';

/** The options that choose the coordinator, plus --json: every engine command takes them. */
export const connectOptions = {
  db: { type: 'string' },
  'no-daemon': { type: 'boolean' },
  'state-dir': { type: 'string' },
  project: { type: 'string' },
  json: { type: 'boolean' },
} as const;

export const connectHelp = `  --db <path>         use this database file directly (embedded; no daemon)
  --no-daemon         do not use or start the project's daemon: the embedded store ($BATON_NO_DAEMON=1 too)
  --state-dir <dir>   the project's state directory (default: $BATON_HOME, else <git common dir>/baton, else a .baton
                      directory at or above the working directory; outside all three, give this or get NO_PROJECT)
  --project <name>    the project to work in, on a daemon that serves several ($BATON_PROJECT too; default: the
                      daemon's own, named after its repository: docs/projects.md)
  --json              print the result as JSON (errors as {"error":{...}} on stderr)
`;

export interface ConnectChoice {
  db?: string | undefined;
  'no-daemon'?: boolean | undefined;
  'state-dir'?: string | undefined;
  project?: string | undefined;
}

/** --project, else $BATON_PROJECT: checked here so a bad name is a usage error before anything connects. */
function projectOf(choice: ConnectChoice): { project?: string } {
  const project = choice.project ?? (process.env.BATON_PROJECT || undefined);
  if (project === undefined) return {};
  if (!PROJECT_NAME_PATTERN.test(project)) throw new UsageError(`${choice.project === undefined ? 'BATON_PROJECT' : '--project'} must be ${PROJECT_NAME_RULE}, got ${JSON.stringify(project.length > 60 ? `${project.slice(0, 60)}...` : project)}`);
  return { project };
}

/** The embedded store is one project's, and which that is only a daemon records: --project needs one (docs/projects.md). */
function refuseProjectWithoutDaemon(choice: ConnectChoice, where: string): void {
  const { project } = projectOf(choice);
  if (project !== undefined) throw new UsageError(`project ${project} needs the daemon: ${where} is one project's embedded store; start the daemon (baton serve), or leave --project and BATON_PROJECT unset`);
}

/** Where the state is: a database file, a coordinator url, or a project's state directory. */
type Target = { kind: 'db'; path: string } | { kind: 'url'; url: string } | { kind: 'project'; stateDir: string };

function target(choice: ConnectChoice): Target {
  if (choice.db === '') throw new UsageError('--db must name a file, got ""');
  if (choice['state-dir'] === '') throw new UsageError('--state-dir must name a directory, got ""');
  const db = choice.db ?? (process.env.BATON_DB || undefined);
  if (db !== undefined) return { kind: 'db', path: resolve(db) };
  // $BATON_URL names the coordinator outright (discovery reads it first): no project needed.
  const url = process.env.BATON_URL || undefined;
  if (url !== undefined) return { kind: 'url', url };
  return { kind: 'project', stateDir: projectLocation(choice['state-dir']).stateDir };
}

const noDaemon = (choice: ConnectChoice): boolean => choice['no-daemon'] === true || Boolean(process.env.BATON_NO_DAEMON);

/** The embedded store checks each call as the daemon would, so refusals read the same either way. */
async function checked(coordinator: Coordinator): Promise<Coordinator> {
  if (coordinator instanceof RemoteCoordinator) return coordinator;
  // Loaded here: the schemas cost ~90 ms to import, which a command through the daemon never pays.
  const { checkedAsTheDaemonChecks } = await import('../protocol/checked-coordinator.ts');
  return checkedAsTheDaemonChecks(coordinator);
}

/**
 * The coordinator a command that writes runs against: --db (or $BATON_DB) is
 * that file, embedded; otherwise the project's daemon (started if none runs,
 * unless --no-daemon), else the embedded store in the state directory.
 */
export async function connect(choice: ConnectChoice): Promise<Coordinator> {
  const where = target(choice);
  const onDaemonWait = daemonWaitNote();
  if (where.kind === 'db') {
    refuseProjectWithoutDaemon(choice, where.path);
    ensureStateDir(dirname(where.path));
    return checked(await openEmbedded({ url: `sqlite:${where.path}` }));
  }
  if (where.kind === 'url') return checked(await openCoordinator({ url: where.url, onDaemonWait, ...projectOf(choice) }));
  ensureStateDir(where.stateDir);
  return checked(await openCoordinator({ stateDir: where.stateDir, noDaemon: noDaemon(choice), onDaemonWait, ...projectOf(choice) }));
}

/** What a reading command read from: the daemon, the database, or nothing yet. */
export interface Source {
  kind: 'daemon' | 'store' | 'none';
  /** The database file, state directory or url. */
  where: string;
}

/** An empty store in memory: what a project with no state yet answers, with nothing made on disk. */
async function nothingYet(where: string): Promise<Reading> {
  return { coordinator: await checked(await openEmbedded({ url: 'sqlite::memory:' })), source: { kind: 'none', where } };
}

export interface Reading {
  coordinator: Coordinator;
  source: Source;
}

/**
 * The coordinator a command that only reads runs against. It never creates a
 * file or starts a daemon: the project's running daemon (unless --no-daemon),
 * else its database if there is one, else an empty store in memory (or, with
 * `empty: false`, undefined).
 */
export async function connectToRead(choice: ConnectChoice): Promise<Reading>;
export async function connectToRead(choice: ConnectChoice, options: { empty: false }): Promise<Reading | undefined>;
export async function connectToRead(choice: ConnectChoice, options: { empty?: boolean } = {}): Promise<Reading | undefined> {
  const where = target(choice);
  const orNothing = (at: string): Promise<Reading> | undefined => (options.empty === false ? undefined : nothingYet(at));
  const file = async (path: string): Promise<Reading | undefined> => {
    refuseProjectWithoutDaemon(choice, path);
    return existsSync(path) ? { coordinator: await checked(await openEmbedded({ url: `sqlite:${path}` })), source: { kind: 'store', where: path } } : orNothing(path);
  };
  if (where.kind === 'db') return file(where.path);
  if (where.kind === 'url') {
    if (where.url.startsWith('sqlite:') && where.url !== 'sqlite::memory:') return file(resolve(where.url.slice('sqlite:'.length)));
    return { coordinator: await checked(await openCoordinator({ url: where.url, onDaemonWait: daemonWaitNote(), ...projectOf(choice) })), source: { kind: 'daemon', where: where.url } };
  }
  if (!noDaemon(choice)) {
    const daemon = await connectToRunningDaemon({ stateDir: where.stateDir, onDaemonWait: daemonWaitNote(), ...projectOf(choice) });
    if (daemon !== undefined) return { coordinator: daemon, source: { kind: 'daemon', where: daemon.url } };
  }
  const store = process.env.BATON_STORE || undefined;
  if (store !== undefined && /^postgres(ql)?:\/\//.test(store)) {
    refuseProjectWithoutDaemon(choice, describeTarget(store));
    return { coordinator: await checked(await openEmbedded({ url: store })), source: { kind: 'store', where: describeTarget(store) } };
  }
  const database = statePaths(where.stateDir).database;
  return existsSync(database) ? file(database) : orNothing(where.stateDir);
}

/** Opens a writing command's coordinator, runs `fn`, and always closes it. */
export async function withCoordinator<T>(choice: ConnectChoice, fn: (coordinator: Coordinator) => Promise<T>): Promise<T> {
  const coordinator = await connect(choice);
  try {
    return await fn(coordinator);
  } finally {
    await coordinator.close();
  }
}

/** Opens a reading command's coordinator (creating nothing), runs `fn`, and always closes it. */
export async function withReader<T>(choice: ConnectChoice, fn: (coordinator: Coordinator, source: Source) => Promise<T>): Promise<T> {
  const { coordinator, source } = await connectToRead(choice);
  try {
    return await fn(coordinator, source);
  } finally {
    await coordinator.close();
  }
}

/** Prints an engine action's help, then the connection options; returns exit code 0. */
export function printHelp(usage: string, body: string): number {
  process.stdout.write(`usage: ${usage}\n\n${body}${body.endsWith('\n') ? '' : '\n'}${connectHelp}`);
  return ExitCode.ok;
}
