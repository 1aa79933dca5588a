#!/usr/bin/env node
// The baton command: dispatches to one command per file.
import { readFileSync } from 'node:fs';
import { ExitCode, reportError, type Command } from './command.ts';
import { lockCommand } from './lock.ts';
import { runCommand } from './run.ts';

const commands: Command[] = [lockCommand, runCommand];

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

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
    'Exit codes: 0 ok, 1 error, 2 bad usage, 3 live lock kept, 75 lock not acquired; run: the command\'s own.',
    '',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const json = argv.includes('--json');
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = commands.find((c) => c.name === rest[0]);
    if (topic) return topic.run(['--help']);
    process.stdout.write(help());
    return name === undefined ? ExitCode.usage : ExitCode.ok;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`${version()}\n`);
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
