#!/usr/bin/env node
// The baton command: dispatches to one command per file.
import { packageVersion } from '../project/version.ts';
import { ExitCode, UsageError, reportError, type Command } from './command.ts';
import { closest } from './suggest.ts';
import { agentsCommand } from './agents.ts';
import { authCommand } from './auth/auth.ts';
import { budgetCommand } from './budget.ts';
import { configCommand } from './config.ts';
import { electCommand, leaderCommand } from './elect.ts';
import { eventsCommand } from './events.ts';
import { auditCommand } from './audit.ts';
import { gitCommand } from './git.ts';
import { kvCommand } from './kv.ts';
import { leaseCommand } from './lease.ts';
import { limitCommand } from './limit.ts';
import { quotaCommand } from './quota.ts';
import { logsCommand } from './logs.ts';
import { lockCommand } from './lock.ts';
import { mcpCommand } from './mcp.ts';
import { migrateCommand } from './migrate.ts';
import { msgCommand } from './msg.ts';
import { projectCommand } from './project.ts';
import { releaseRequestCommand } from './release-request.ts';
import { runCommand } from './run.ts';
import { serveCommand } from './serve.ts';
import { statusCommand } from './status.ts';
import { uiCommand } from './ui.ts';
import { taskCommand } from './task.ts';
import { webhookCommand } from './webhook.ts';

const commands: Command[] = [
  lockCommand, runCommand, serveCommand, statusCommand, uiCommand, leaseCommand, taskCommand, agentsCommand, budgetCommand, limitCommand, quotaCommand, msgCommand, releaseRequestCommand, kvCommand, electCommand, leaderCommand, eventsCommand, auditCommand, webhookCommand, logsCommand, gitCommand, authCommand, projectCommand, configCommand, mcpCommand, migrateCommand,
];


function help(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'baton: coordination for concurrent processes and coding agents',
    '',
    'usage: baton <command> [options]',
    '',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}\n  ${' '.repeat(width)}  ${c.usage}`),
    '',
    "Run 'baton <command> --help' for a command's options. Every command that prints data takes --json.",
    "Engine commands go through the project's daemon (started when none runs; --no-daemon for the embedded",
    'store). State lives in $BATON_HOME, else <git common dir>/baton (shared by all worktrees), else in a',
    '.baton directory made on purpose at or above here; elsewhere engine commands say so (NO_PROJECT) and',
    'create nothing. --db <path> (or $BATON_DB) uses that database file directly.',
    'Exit codes: 0 ok, 1 error, 2 bad usage, 3 live lock kept, 75 try later (lock or lease not had, budget',
    "exceeded, rate limited, a daemon already serving); run and git: the command's own.",
    '',
  ].join('\n');
}

/** `name` as one of our commands, or a usage error with the nearest names. */
function commandNamed(name: string): Command {
  const command = commands.find((c) => c.name === name);
  if (command !== undefined) return command;
  // `baton --json task list`: baton's own options are --help and --version; the others go after a command.
  if (name.startsWith('-')) {
    const near = closest(name, ['--help', '--version']);
    throw new UsageError(near.length > 0 ? `unknown option ${JSON.stringify(name)}` : `expected a command before ${JSON.stringify(name)}: baton <command> ${name}`, { didYouMean: near, help: 'baton' });
  }
  throw new UsageError(`unknown command ${JSON.stringify(name)}`, { didYouMean: closest(name, commands.map((c) => c.name)), help: 'baton' });
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  // Only baton's own flags: after `--` the words are the command's (baton run -- cmd --json).
  const end = argv.indexOf('--');
  const json = (end === -1 ? argv : argv.slice(0, end)).includes('--json');
  try {
    if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
      if (rest[0] !== undefined) return await commandNamed(rest[0]).run(['--help']);
      process.stdout.write(help());
      return name === undefined ? ExitCode.usage : ExitCode.ok;
    }
    if (name === '--version' || name === '-v') {
      process.stdout.write(`${packageVersion()}\n`);
      return ExitCode.ok;
    }
    return await commandNamed(name).run(rest);
  } catch (error) {
    return reportError(error, json);
  }
}

process.exitCode = await main(process.argv.slice(2));
