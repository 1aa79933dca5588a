// The daemon's benchmarks (npm run bench -- daemon): request rates and latency
// over the unix socket against a bare node:http server driven by the same load
// generator, lease handoff between processes, and the daemon's resident memory.
// The daemon, the anchor server and every client run in processes of their own.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { RemoteCoordinator } from '../src/client/index.ts';
import { startDaemon, type RunningDaemon } from '../support/daemon.ts';
import { handoffGaps, together, worker } from './procs.ts';

const here = new URL('.', import.meta.url).pathname;

export interface Server {
  socket: string;
  stop(): Promise<void>;
}

/**
 * An anchor in its own process: by default the bare node:http server answering
 * a constant JSON; `lease-floor-server.ts`, the in-memory lease server.
 */
export async function startBareServer(dir: string, script = 'bare-server.ts'): Promise<Server> {
  const socket = join(dir, `${script.replace(/\.ts$/, '')}.sock`);
  const w = worker(script, [socket]);
  await w.line('ready');
  return {
    socket,
    stop: async () => {
      const exited = new Promise((resolve) => w.child.once('exit', resolve));
      w.child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * `baton serve` for a fresh project directory under `dir`, in its own process.
 * BENCH_CPU_PROF=<dir> writes the daemon's CPU profile there when it stops.
 */
export async function startBatonDaemon(dir: string, name: string, entry?: string): Promise<RunningDaemon> {
  const project = join(dir, name);
  mkdirSync(project, { recursive: true });
  const prof = process.env.BENCH_CPU_PROF;
  // As users run it: not with the test suite's answer checking (BATON_CHECK_RESPONSES) the helper turns on.
  const env = { BATON_CHECK_RESPONSES: '', ...(prof ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${prof}` } : {}) };
  return startDaemon(join(project, '.baton'), { cwd: project, ...(entry ? { entry } : {}), env });
}

export interface Load {
  /** Requests answered per second, over all processes. */
  perSec: number;
  /** Tasks completed per second (task modes). */
  tasksPerSec: number;
  /** Per-request latency, ms (the worst process's, with several). */
  p50: number;
  p99: number;
}

/** Runs the load generator: `procs` processes of `concurrency` clients each, for `ms`. */
export async function load(socket: string, mode: 'lease' | 'task' | 'tasks32', opts: { concurrency: number; procs: number; ms: number; tag: string; queue?: string }): Promise<Load> {
  const args = [socket, mode, String(opts.concurrency), String(opts.ms), opts.tag, ...(opts.queue === undefined ? [] : [opts.queue])];
  const workers = await together(opts.procs, 'http-load.ts', args);
  const results = await Promise.all(
    workers.map(async (w) => JSON.parse((await w.line('result ')).slice(7)) as { requests: number; tasks: number; ms: number; p50: number; p99: number }),
  );
  return {
    perSec: results.reduce((s, r) => s + (r.requests / r.ms) * 1000, 0),
    tasksPerSec: results.reduce((s, r) => s + (r.tasks / r.ms) * 1000, 0),
    p50: Math.max(...results.map((r) => r.p50)),
    p99: Math.max(...results.map((r) => r.p99)),
  };
}

/** Runs `measure` right before and right after `ours`: the machine's speed drifts, so the anchor is their mean. */
export async function around(measure: () => Promise<Load>, ours: () => Promise<Load>): Promise<{ ours: Load; theirs: Load }> {
  const before = await measure();
  const mine = await ours();
  const after = await measure();
  const mean = (f: (l: Load) => number): number => (f(before) + f(after)) / 2;
  return { ours: mine, theirs: { perSec: mean((l) => l.perSec), tasksPerSec: mean((l) => l.tasksPerSec), p50: mean((l) => l.p50), p99: mean((l) => l.p99) } };
}

/** Adds `n` ready tasks to `queue`, 1000 per request. */
export async function prefill(c: RemoteCoordinator, queue: string, n: number): Promise<void> {
  for (let i = 0; i < n; i += 1000) await c.addTasks(Array.from({ length: Math.min(1000, n - i) }, (_, k) => ({ queue, title: `job ${i + k}` })));
}

/**
 * `procs` processes take turns on one key through the daemon, `rounds` each
 * (fewer if `budgetMs` runs out first).
 * Returns the handoff gaps (ms, sorted): from the holder starting its release to
 * another process's acquire resolving.
 */
export async function handoffs(socket: string, procs: number, rounds: number, budgetMs: number): Promise<number[]> {
  const workers = await together(procs, 'daemon-handoff.ts', [socket, 'bench/handoff', String(rounds), String(budgetMs)]);
  return handoffGaps(workers);
}

export interface Memory {
  idleBytes: number;
  loadedBytes: number;
  settledBytes: number;
  leases: number;
  tasks: number;
}

/** A fresh daemon holding `leaseCount` leases (long TTL) and `taskCount` ready tasks: its resident set size. */
/** Measured on the built package (dist/), as `npx baton serve` runs it: no type stripping at run time. */
export async function residentMemory(dir: string, leaseCount: number, taskCount: number): Promise<Memory> {
  execFileSync(process.execPath, [join(here, '..', 'scripts', 'build.ts')], { stdio: 'ignore' });
  const daemon = await startBatonDaemon(dir, 'memory', join(here, '..', 'dist', 'cli', 'main.js'));
  try {
    const c = daemon.client();
    const idleBytes = (await c.status()).daemon!.rssBytes;
    let next = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < leaseCount) {
          const k = next++;
          await c.acquire(`mem/lease/${k}`, { owner: `holder-${k % 100}`, ttlMs: 3_600_000, timeoutMs: 0 });
        }
      }),
    );
    await prefill(c, 'memory', taskCount);
    const loaded = await c.status();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const settled = await c.status();
    return {
      idleBytes,
      loadedBytes: loaded.daemon!.rssBytes,
      settledBytes: settled.daemon!.rssBytes,
      leases: settled.leases.length,
      tasks: settled.tasks.ready,
    };
  } finally {
    await daemon.stop();
  }
}
