// A real daemon process (`baton serve`) and clients of it, for tests, benchmarks
// and scripts. It checks its answers against the response schemas
// (BATON_CHECK_RESPONSES), as the test suite wants, unless `env` says otherwise.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { RemoteCoordinator, type RemoteOptions } from '../src/client/index.ts';
import type { DaemonRecord } from '../src/project/daemon-record.ts';
import { cli } from './paths.ts';

export interface RunningDaemon {
  child: ChildProcess;
  record: DaemonRecord;
  /** stderr so far, for failure messages. */
  stderr(): string;
  /** A client over the unix socket. */
  client(options?: Partial<RemoteOptions>): RemoteCoordinator;
  /** SIGTERM and wait for the exit; returns the exit code. */
  stop(): Promise<number | null>;
  /** kill -9 and wait. */
  kill(): Promise<void>;
}

/** Starts `baton serve --json` in `cwd` for `stateDir` and waits for its record. */
export async function startDaemon(stateDir: string, options: { cwd?: string; args?: string[]; env?: Record<string, string>; entry?: string } = {}): Promise<RunningDaemon> {
  const child = spawn(process.execPath, [options.entry ?? cli, 'serve', '--json', '--state-dir', stateDir, ...(options.args ?? [])], {
    cwd: options.cwd ?? stateDir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, BATON_CHECK_RESPONSES: '1', ...options.env },
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += String(chunk)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const lines = createInterface({ input: child.stdout! });
  const record = await new Promise<DaemonRecord>((resolve, reject) => {
    let text = '';
    lines.on('line', (line) => {
      text += line;
      try {
        resolve(JSON.parse(text) as DaemonRecord);
      } catch {
        // a pretty-printed record spans lines
      }
    });
    void exited.then((code) => reject(new Error(`baton serve exited with ${code} before it was ready: ${stderr}`)));
  });
  const clients: RemoteCoordinator[] = [];
  return {
    child,
    record,
    stderr: () => stderr,
    client(extra = {}) {
      const c = new RemoteCoordinator({ socketPath: record.socket!, ...extra });
      clients.push(c);
      return c;
    },
    async stop() {
      for (const c of clients) await c.close();
      child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      child.kill('SIGKILL');
      await exited;
      // Its clients would retry the dead daemon for ever, keeping the test's process alive.
      for (const c of clients) await c.close();
    },
  };
}
