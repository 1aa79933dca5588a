// Running a command for `baton run` and `baton git`: the terminal's stdio,
// SIGTERM and SIGHUP passed on, SIGINT left to reach the child from the terminal.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { errorLine } from './command.ts';

/** Resolves with the child's exit code: 128+N if killed by signal N, 127 if not found, 126 if it could not run. */
export async function runChild(file: string, args: string[], label: string, onSpawn?: (pid: number) => void): Promise<number> {
  const child = spawn(file, args, { stdio: 'inherit' });
  // The pid is known as spawn returns: record it now, not a turn later on
  // 'spawn', so a baton killed in between cannot leave the command unlisted.
  // (A pid that failed to exec exits at once; its 'error' follows.)
  if (onSpawn !== undefined && child.pid !== undefined) onSpawn(child.pid);
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
  const forwarders = (['SIGTERM', 'SIGHUP'] as const).map((signal) => [signal, forward(signal)] as const);
  for (const [signal, fn] of forwarders) process.on(signal, fn);
  const onInt = (): void => {}; // the terminal sent it to the child too; wait for the child
  process.on('SIGINT', onInt);
  try {
    return await new Promise<number>((resolve) => {
      child.once('error', (error) => {
        const errno = (error as { code?: string }).code;
        process.stderr.write(errorLine(`cannot run ${label}: ${errno === 'ENOENT' ? 'command not found' : error.message}`, errno === 'ENOENT' ? 'NOT_FOUND' : 'IO_ERROR'));
        resolve(errno === 'ENOENT' ? 127 : 126);
      });
      child.once('exit', (exitCode, signal) => {
        resolve(exitCode ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0));
      });
    });
  } finally {
    for (const [signal, fn] of forwarders) process.off(signal, fn);
    process.off('SIGINT', onInt);
  }
}
