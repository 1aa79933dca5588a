// What the engine's commands share: where the database is, opening and
// closing the coordinator around one command, and command groups with
// actions (`baton lease acquire ...`).
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { makeDirectories } from '../files/directories.ts';
import { dirname, join, resolve } from 'node:path';
import type { Coordinator } from '../coordinator.ts';
import { openCoordinator } from '../engine/open.ts';
import { fsError } from '../errors.ts';
import { ExitCode, UsageError, type Command } from './command.ts';

/** Options every engine command takes. */
export const common = {
  db: { type: 'string' },
  json: { type: 'boolean' },
} as const;

export const commonHelp = `  --db <path>   the database (default: $BATON_DB, else <git toplevel or cwd>/.baton/baton.db)
  --json        print the result as JSON (errors as {"error":{...}} on stderr)
`;

/** The nearest directory at or above `from` that holds `.git` (a directory, or a worktree's file), as `git rev-parse --show-toplevel` finds it. */
export function gitToplevel(from: string): string | undefined {
  let dir = resolve(from);
  for (;;) {
    if (existsSync(join(dir, '.git'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** --db, else $BATON_DB, else <git toplevel or cwd>/.baton/baton.db. */
export function databasePath(db: string | undefined): { path: string; isDefault: boolean } {
  if (db !== undefined) {
    if (db === '') throw new UsageError('--db must name a file, got ""');
    return { path: resolve(db), isDefault: false };
  }
  const env = process.env.BATON_DB;
  if (env !== undefined && env !== '') return { path: resolve(env), isDefault: false };
  const cwd = process.cwd();
  return { path: join(gitToplevel(cwd) ?? cwd, '.baton', 'baton.db'), isDefault: true };
}

/** Creates the database's directory (mode 0700: leases and tasks are nobody else's business). */
function ensureDirectory(path: string, isDefault: boolean): void {
  const dir = dirname(path);
  try {
    if (existsSync(dir)) {
      if (!statSync(dir).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
      return;
    }
    makeDirectories(dir, 0o700);
    // The default .baton directory sits in a working tree: keep it out of git.
    if (isDefault) writeFileSync(join(dir, '.gitignore'), '*\n', { mode: 0o600 });
  } catch (error) {
    throw fsError(error, 'create the database directory', dir);
  }
}

/** Opens the coordinator on the command's database, runs `fn`, and always closes it. */
export async function withCoordinator<T>(db: string | undefined, fn: (coordinator: Coordinator) => Promise<T>): Promise<T> {
  const { path, isDefault } = databasePath(db);
  ensureDirectory(path, isDefault);
  const coordinator = await openCoordinator({ url: `sqlite:${path}` });
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
