// Real child processes for concurrency tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { cli, root } from '../../support/paths.ts';

export function worker(name: string): string {
  return join(root, 'test/workers', `${name}.ts`);
}

/** A fresh temp directory, removed after the test. */
export function tempDir(t: TestContext, prefix = 'baton-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Running {
  child: ChildProcess;
  /** Resolves with the first stdout line that starts with `prefix`. */
  line(prefix: string, timeoutMs?: number): Promise<string>;
  lines(): string[];
  done: Promise<Finished>;
}

/** Starts a process (Node scripts run on this same Node) and collects its output line by line. */
export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Give the process a stdin pipe (child.stdin) instead of none. */
  stdin?: boolean;
}

export function start(command: string, args: string[], options: StartOptions = {}): Running {
  // Hermetic by default: a CLI under test neither uses nor starts a daemon unless the test says so (BATON_NO_DAEMON: '').
  // FORCE_COLOR off too: node --test sets it for its children on a terminal, and output under test is read as plain text.
  const child = spawn(command, args, { env: { ...process.env, BATON_NO_DAEMON: '1', BATON_CHECK_RESPONSES: '1', FORCE_COLOR: undefined, ...options.env }, cwd: options.cwd, stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const seen: string[] = [];
  const waiters: Array<{ prefix: string; resolve: (line: string) => void }> = [];
  let partial = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    partial += chunk;
    const parts = partial.split('\n');
    partial = parts.pop()!;
    for (const line of parts) {
      seen.push(line);
      for (const w of [...waiters]) {
        if (line.startsWith(w.prefix)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const done = new Promise<Finished>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return {
    child,
    lines: () => seen,
    done,
    line(prefix, timeoutMs = 10_000) {
      const found = seen.find((l) => l.startsWith(prefix));
      if (found !== undefined) return Promise.resolve(found);
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no line starting with ${JSON.stringify(prefix)} within ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs);
        waiters.push({
          prefix,
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line);
          },
        });
        void done.then(() => {
          clearTimeout(timer);
          reject(new Error(`process exited before printing ${JSON.stringify(prefix)}; stderr: ${stderr}`));
        });
      });
    },
  };
}

export function startNode(script: string, args: string[] = [], options: StartOptions = {}): Running {
  return start(process.execPath, [script, ...args], options);
}

/** Runs the baton CLI to completion. */
export function baton(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Finished> {
  return startNode(cli, args, options).done;
}

/** Starts processes that print 'ready', then tells them all to go at once (on stdin). */
export async function startTogether(count: number, script: string, args: string[], options: Omit<StartOptions, 'stdin'> = {}): Promise<Running[]> {
  const procs = Array.from({ length: count }, () => startNode(script, args, { ...options, stdin: true }));
  await Promise.all(procs.map((p) => p.line('ready', 30_000)));
  for (const p of procs) p.child.stdin!.write('go\n');
  return procs;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
