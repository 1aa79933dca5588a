// What the engine's commands share: where the database is, opening and
// closing the coordinator around one command, and command groups with
// actions (`baton lease acquire ...`).
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { openCoordinator } from '../client/open.ts';
import { RemoteCoordinator } from '../client/remote.ts';
import { checkedAsTheDaemonChecks } from '../protocol/checked-coordinator.ts';
import type { Coordinator } from '../coordinator.ts';
import { openCoordinator as openEmbedded } from '../engine/open.ts';
import { makeDirectories } from '../files/directories.ts';
import { locateProject } from '../project/state-dir.ts';
import { fsError } from '../errors.ts';
import { ExitCode, UsageError, type Command } from './command.ts';

/** Options every engine command takes. */
export const common = {
  db: { type: 'string' },
  'no-daemon': { type: 'boolean' },
  'state-dir': { type: 'string' },
  json: { type: 'boolean' },
} as const;

export const commonHelp = `  --db <path>         use this database file directly (embedded; no daemon)
  --no-daemon         do not use or start the project's daemon: the embedded store ($BATON_NO_DAEMON=1 too)
  --state-dir <dir>   the project's state directory (default: $BATON_HOME, else <git common dir>/baton, else ./.baton)
  --json              print the result as JSON (errors as {"error":{...}} on stderr)
`;

export interface StoreChoice {
  db?: string | undefined;
  'no-daemon'?: boolean | undefined;
  'state-dir'?: string | undefined;
}

/**
 * The coordinator a command runs against: --db (or $BATON_DB) is that file,
 * embedded; otherwise the project's daemon (started if none runs, unless
 * --no-daemon), else the embedded store in the state directory.
 */
export async function openForCommand(choice: StoreChoice): Promise<Coordinator> {
  const coordinator = await openStore(choice);
  // The same refusals with and without a daemon: the embedded store checks what the daemon would.
  return coordinator instanceof RemoteCoordinator ? coordinator : checkedAsTheDaemonChecks(coordinator);
}

async function openStore(choice: StoreChoice): Promise<Coordinator> {
  const db = choice.db ?? (process.env.BATON_DB || undefined);
  if (choice.db === '') throw new UsageError('--db must name a file, got ""');
  if (choice['state-dir'] === '') throw new UsageError('--state-dir must name a directory, got ""');
  if (db !== undefined) {
    const path = resolve(db);
    ensureDirectory(dirname(path));
    return openEmbedded({ url: `sqlite:${path}` });
  }
  const location = locateProject();
  const stateDir = choice['state-dir'] === undefined ? location.stateDir : resolve(choice['state-dir']);
  ensureDirectory(stateDir, location.source === 'cwd' && choice['state-dir'] === undefined);
  return openCoordinator({ stateDir, noDaemon: choice['no-daemon'] === true || Boolean(process.env.BATON_NO_DAEMON) });
}

/** Creates a state directory (mode 0700: leases and tasks are nobody else's business). */
function ensureDirectory(dir: string, inWorkingTree = false): void {
  try {
    if (existsSync(dir)) {
      if (!statSync(dir).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
      return;
    }
    makeDirectories(dir, 0o700);
    // ./.baton outside git sits in a working directory: keep it out of any later repository.
    if (inWorkingTree) writeFileSync(join(dir, '.gitignore'), '*\n', { mode: 0o600 });
  } catch (error) {
    throw fsError(error, 'create the state directory', dir);
  }
}

/** Opens the command's coordinator, runs `fn`, and always closes it. */
export async function withCoordinator<T>(choice: StoreChoice, fn: (coordinator: Coordinator) => Promise<T>): Promise<T> {
  const coordinator = await openForCommand(choice);
  try {
    return await fn(coordinator);
  } finally {
    await coordinator.close();
  }
}


/** One action of a command group: `baton <group> <name> ...`. */
export interface Action {
  name: string;
  summary: string;
  usage: string;
  run(argv: string[]): Promise<number>;
}

/** A command with actions; `baton <group> --help` lists them, `baton <group> <action> --help` explains one. */
export function group(name: string, summary: string, actions: Action[], footer = ''): Command {
  const usage = `baton ${name} <${actions.map((a) => a.name).join('|')}> [options]`;
  const help = (): string => {
    const width = Math.max(...actions.map((a) => a.name.length));
    return (
      `usage: ${usage}\n\n` +
      actions.map((a) => `  ${a.name.padEnd(width)}  ${a.summary}\n  ${' '.repeat(width)}  ${a.usage}\n`).join('') +
      `\nRun 'baton ${name} <action> --help' for an action's options.\n` +
      footer
    );
  };
  return {
    name,
    summary,
    usage,
    async run(argv) {
      const [first, ...rest] = argv;
      if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
        const topic = actions.find((a) => a.name === rest[0]);
        if (topic) return topic.run(['--help']);
        process.stdout.write(help());
        return first === undefined ? ExitCode.usage : ExitCode.ok;
      }
      const action = actions.find((a) => a.name === first);
      if (action === undefined) throw new UsageError(`unknown ${name} action ${JSON.stringify(first)}\nusage: ${usage}`);
      return action.run(rest);
    },
  };
}

/** Prints an action's help and returns exit code 0. */
export function printHelp(usage: string, body: string): number {
  process.stdout.write(`usage: ${usage}\n\n${body}${body.endsWith('\n') ? '' : '\n'}${commonHelp}`);
  return ExitCode.ok;
}

/** Exactly `names.length` positionals, or a usage error naming what is missing or extra. */
export function positionalArgs(positionals: string[], names: string[], usage: string): string[] {
  if (positionals.length < names.length) throw new UsageError(`missing <${names[positionals.length]}>\nusage: ${usage}`);
  if (positionals.length > names.length) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[names.length])}\nusage: ${usage}`);
  return positionals;
}

/** A required option, or a usage error naming it. */
export function required<T>(name: string, value: T | undefined, usage: string): T {
  if (value === undefined) throw new UsageError(`${name} is required\nusage: ${usage}`);
  return value;
}
