#!/usr/bin/env node
// The baton command: dispatches to one command per file.
import { packageVersion } from '../project/version.ts';
import { ExitCode, reportError, type Command } from './command.ts';
import { agentsCommand } from './agents.ts';
import { authCommand } from './auth/auth.ts';
import { budgetCommand } from './budget.ts';
import { eventsCommand } from './events.ts';
import { gitCommand } from './git.ts';
import { leaseCommand } from './lease.ts';
import { limitCommand } from './limit.ts';
import { lockCommand } from './lock.ts';
import { mcpCommand } from './mcp.ts';
import { runCommand } from './run.ts';
import { serveCommand } from './serve.ts';
import { statusCommand } from './status.ts';
import { taskCommand } from './task.ts';

const commands: Command[] = [
  lockCommand, runCommand, serveCommand, statusCommand, leaseCommand, taskCommand, agentsCommand, budgetCommand, limitCommand, eventsCommand, gitCommand, authCommand, mcpCommand,
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
    'store). State lives in $BATON_HOME, else <git common dir>/baton (shared by all worktrees), else ./.baton;',
    '--db <path> (or $BATON_DB) uses that database file directly.',
    'Exit codes: 0 ok, 1 error, 2 bad usage, 3 live lock kept, 75 try later (lock or lease not had, budget',
    "exceeded, rate limited); run and git: the command's own.",
    '',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  // Only baton's own flags: after `--` the words are the command's (baton run -- cmd --json).
  const end = argv.indexOf('--');
  const json = (end === -1 ? argv : argv.slice(0, end)).includes('--json');
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = commands.find((c) => c.name === rest[0]);
    if (topic) return topic.run(['--help']);
    process.stdout.write(help());
    return name === undefined ? ExitCode.usage : ExitCode.ok;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`${packageVersion()}\n`);
    return ExitCode.ok;
  }
  const command = commands.find((c) => c.name === name);
  if (command === undefined) {
    process.stderr.write(`baton: unknown command ${JSON.stringify(name)}; run 'baton --help' for the list\n`);
    return ExitCode.usage;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    return reportError(error, json);
  }
}

process.exitCode = await main(process.argv.slice(2));
