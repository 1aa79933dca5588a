// What the fuzzer attacks: a real daemon serving a scratch git project, with
// a sentinel directory beside the project (and a symlink into it from the
// project) to show that nothing is written outside. The store is a
// parameter: how a daemon is started over a project. A daemon a run broke
// (or the fuzzer suspects) is replaced by a fresh one, on a fresh project,
// before the next run, so each run and each shrinking step starts sound.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createToken } from '../../src/project/tokens.ts';
import { startDaemon, type RunningDaemon } from '../daemon.ts';
import type { Databases } from '../postgres.ts';
import type { Endpoint } from './http-client.ts';
import { Violation } from './violation.ts';

export interface Project {
  /** The scratch directory holding the project and the sentinel. */
  base: string;
  /** The git work tree the daemon serves. */
  root: string;
  stateDir: string;
  /** Beside the project: nothing the daemon does may change it. */
  sentinel: string;
}

/** How a store's daemon is started over a project: the embedded SQLite store, or PostgreSQL. */
export interface FuzzStore {
  name: string;
  /** Starts `baton serve` for the project, listening on its unix socket and on TCP (`--listen`). */
  start(project: Project): Promise<RunningDaemon>;
}

/**
 * The embedded SQLite store, served by this checkout's CLI or by `entry`
 * (another checkout's src/cli/main.ts: how the note on the hostile-input
 * issue showed what the fuzzer finds on older code).
 */
export function sqliteStoreAt(entry?: string): FuzzStore {
  return {
    name: entry === undefined ? 'sqlite' : `sqlite, served by ${entry}`,
    start: (project) => startDaemon(project.stateDir, { cwd: project.root, args: ['--listen', '127.0.0.1:0'], ...(entry === undefined ? {} : { entry }) }),
  };
}

export const sqliteStore = sqliteStoreAt();

/** PostgreSQL: each project's daemon on a fresh database of `server` (one cluster for the whole run). */
export function postgresStore(databases: Databases): FuzzStore {
  return {
    name: 'postgres',
    start: async (project) => startDaemon(project.stateDir, { cwd: project.root, args: ['--listen', '127.0.0.1:0', '--store', await databases.fresh()] }),
  };
}

/** A listing of a tree (paths, sizes, contents of small files): equal listings mean nothing there changed. */
function snapshot(dir: string): string {
  const lines: string[] = [];
  const walk = (at: string, rel: string): void => {
    for (const name of readdirSync(at).sort()) {
      const path = join(at, name);
      const st = statSync(path, { throwIfNoEntry: false });
      if (st === undefined) lines.push(`${rel}${name} (dangling)`);
      else if (st.isDirectory()) walk(path, `${rel}${name}/`);
      else lines.push(`${rel}${name} ${st.size} ${st.size < 4096 ? readFileSync(path, 'utf8') : ''}`);
    }
  };
  walk(dir, '');
  return lines.join('\n');
}

function makeProject(): Project {
  const base = mkdtempSync(join(tmpdir(), 'baton-fuzz-'));
  const root = join(base, 'project');
  const sentinel = join(base, 'sentinel');
  mkdirSync(sentinel);
  writeFileSync(join(sentinel, 'planted'), 'the sentinel\n');
  execFileSync('git', ['init', '-q', root]);
  execFileSync('git', ['-C', root, 'config', 'user.email', 'fuzz@example.com']);
  execFileSync('git', ['-C', root, 'config', 'user.name', 'Fuzz']);
  mkdirSync(join(root, 'src'));
  writeFileSync(join(root, 'src', 'a.txt'), 'a\n');
  writeFileSync(join(root, '.gitignore'), 'escape\n');
  execFileSync('git', ['-C', root, 'add', '.']);
  execFileSync('git', ['-C', root, 'commit', '-q', '-m', 'init']);
  // A way out that only a symlink-following write would take.
  symlinkSync('../sentinel', join(root, 'escape'));
  return { base, root, stateDir: join(root, '.git', 'baton'), sentinel };
}

export interface TargetOptions {
  /** Start a fresh daemon after this many runs, so state stays small over a long run. */
  recycleAfterRuns?: number;
}

export class FuzzTarget {
  readonly store: FuzzStore;
  project!: Project;
  daemon!: RunningDaemon;
  unix!: Endpoint;
  tcp!: Endpoint;
  /** Set when a run failed: the next run starts on a fresh daemon. */
  dirty = false;
  /** The last event seq the state checks have read. */
  lastSeq = 0;
  restarts = 0;
  private runs = 0;
  private closed = false;
  /** The run in progress: fast-check leaves a run it interrupted going, and the next must not overlap it. */
  private turn: Promise<unknown> = Promise.resolve();
  private sentinelSnapshot = '';
  private baseEntries = '';
  private readonly recycleAfterRuns: number;

  private constructor(store: FuzzStore, options: TargetOptions) {
    this.store = store;
    this.recycleAfterRuns = options.recycleAfterRuns ?? 400;
  }

  static async open(store: FuzzStore, options: TargetOptions = {}): Promise<FuzzTarget> {
    const target = new FuzzTarget(store, options);
    await target.start();
    return target;
  }

  private async start(): Promise<void> {
    this.project = makeProject();
    const { token } = await createToken(this.project.stateDir, 'fuzz');
    this.daemon = await this.store.start(this.project);
    const listen = this.daemon.record.listen ?? '';
    const colon = listen.lastIndexOf(':');
    this.unix = { via: 'unix', socketPath: this.daemon.record.socket! };
    this.tcp = { via: 'tcp', host: listen.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(listen.slice(colon + 1)), token };
    this.sentinelSnapshot = snapshot(this.project.sentinel);
    this.baseEntries = readdirSync(this.project.base).sort().join(' ');
    this.lastSeq = 0;
    this.runs = 0;
    this.dirty = false;
  }

  private async stopDaemon(): Promise<void> {
    // A daemon that hangs gets 5 s to stop before it is killed.
    const stopped = this.daemon.stop().then(() => true);
    const late = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 5_000).unref());
    if (!(await Promise.race([stopped, late]))) await this.daemon.kill();
    rmSync(this.project.base, { recursive: true, force: true });
  }

  /**
   * Runs `run` after any run still going, on a fresh daemon if the last run
   * failed or this one has served its share. A run that throws leaves the
   * daemon dirty (and says so if the daemon died).
   */
  async exclusive<T>(run: () => Promise<T>): Promise<T> {
    const mine = this.turn.then(async () => {
      if (this.closed) throw new Error('the fuzz target is closed');
      if (this.dirty || this.runs >= this.recycleAfterRuns || this.daemon.child.exitCode !== null) {
        await this.stopDaemon();
        await this.start();
        this.restarts++;
      }
      this.runs++;
      try {
        return await run();
      } catch (error) {
        this.dirty = true;
        const code = this.daemon.child.exitCode;
        if (code !== null) throw new Violation(`the daemon exited (${code}): ${this.daemon.stderr().slice(-1000)}\n${String(error)}`);
        // A failure that needs what earlier runs left shrinks no further on a fresh daemon: this says how many came before.
        if (error instanceof Violation) error.message += ` [run ${this.runs} of this daemon]`;
        throw error;
      }
    });
    this.turn = mine.catch(() => undefined);
    return mine;
  }

  /**
   * Waits for any run still going and replaces a dirty daemon now, so the
   * next property's time budget is spent on runs, not on a restart.
   */
  async settle(): Promise<void> {
    await this.turn;
    if (this.dirty || this.daemon.child.exitCode !== null) {
      await this.stopDaemon();
      await this.start();
      this.restarts++;
    }
  }

  endpoint(via: 'unix' | 'tcp'): Endpoint {
    return via === 'unix' ? this.unix : this.tcp;
  }

  /** What changed beside the project since the daemon started, or undefined when nothing did. */
  outsideChanges(): string | undefined {
    const entries = readdirSync(this.project.base).sort().join(' ');
    if (entries !== this.baseEntries) return `the directory holding the project now has ${entries} (was ${this.baseEntries})`;
    const now = snapshot(this.project.sentinel);
    if (now !== this.sentinelSnapshot) return `the sentinel directory beside the project changed:\n${now}\n(was:\n${this.sentinelSnapshot})`;
    return undefined;
  }

  /** Waits for the run in progress, then stops the daemon and removes the project. */
  async close(): Promise<void> {
    const last = this.turn;
    this.closed = true;
    await last;
    await this.stopDaemon();
  }
}
