// The engine's benchmarks: task claim + complete throughput on one SQLite file
// against graphile-worker on PostgreSQL, lease and budget operation rates.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { openCoordinator } from '../src/index.ts';
import { LOCAL_QUEUE_SIZE } from './graphile.ts';
import { benchNumber } from './procs.ts';

const here = new URL('.', import.meta.url).pathname;
const now = (): number => Number(process.hrtime.bigint()) / 1e6;

/** Tasks a baton worker claims at once: as many as graphile-worker fetches at once. */
export const CLAIM_BATCH = benchNumber('BENCH_CLAIM_BATCH', LOCAL_QUEUE_SIZE, 1);
/**
 * The queue's database is made with the page size docs/engine.md advises for
 * claims of hundreds of tasks (the default, 1 KiB, is for single operations).
 */
export const TASK_PAGE_BYTES = benchNumber('BENCH_TASK_PAGE_BYTES', 4096, 512);
if ((TASK_PAGE_BYTES & (TASK_PAGE_BYTES - 1)) !== 0 || TASK_PAGE_BYTES > 65536) {
  console.error(`baton bench: BENCH_TASK_PAGE_BYTES must be a power of two from 512 to 65536, got ${TASK_PAGE_BYTES}`);
  process.exit(2);
}

interface Worker {
  result: Promise<string>;
  ready: Promise<void>;
  go(): void;
}

function start(args: string[], env?: NodeJS.ProcessEnv): Worker {
  const child = spawn(process.execPath, [join(here, 'workers', 'engine.ts'), ...args], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  let out = '';
  let readyResolve!: () => void;
  const ready = new Promise<void>((r) => (readyResolve = r));
  const result = new Promise<string>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (out.includes('ready\n')) readyResolve();
    });
    child.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('result '));
      if (code === 0 && line) resolve(line);
      else reject(new Error(`bench worker ${args[0]} exited with ${code}`));
    });
  });
  return { result, ready, go: () => child.stdin.end('go\n') };
}

async function together(n: number, args: string[], env?: NodeJS.ProcessEnv): Promise<{ go: number; results: Array<{ count: number; end: number }> }> {
  const workers = Array.from({ length: n }, () => start(args, env));
  await Promise.all(workers.map((w) => w.ready));
  const go = now();
  for (const w of workers) w.go();
  const lines = await Promise.all(workers.map((w) => w.result));
  return { go, results: lines.map((l) => ({ count: Number(l.split(' ')[1]), end: Number(l.split(' ')[2]) })) };
}

/** Enqueues `jobs` tasks (timed apart), then `workers` processes claim and complete them all. */
export async function batonTaskThroughput(dir: string, workers: number, jobs: number): Promise<{ jobsPerSec: number; enqueueMs: number }> {
  const db = join(dir, `tasks-${workers}-${Date.now()}.db`);
  const c = await openCoordinator({ url: `sqlite:${db}`, pageSize: TASK_PAGE_BYTES });
  const t0 = performance.now();
  for (let i = 0; i < jobs; i += 1000) await c.addTasks(Array.from({ length: Math.min(1000, jobs - i) }, (_, k) => ({ title: `job ${i + k}` })));
  const enqueueMs = performance.now() - t0;
  await c.close();
  const { go, results } = await together(workers, ['claimer', db, String(CLAIM_BATCH)]);
  const done = results.reduce((s, r) => s + r.count, 0);
  if (done !== jobs) throw new Error(`baton: ${done} of ${jobs} tasks completed`);
  const ms = Math.max(...results.map((r) => r.end)) - go;
  return { jobsPerSec: (jobs / ms) * 1000, enqueueMs };
}

/** Operations per second summed over `workers` processes running `mode` for `ms` (with `env` added to theirs). */
export async function batonOpsPerSec(dir: string, mode: 'leaser' | 'reserver', workers: number, ms: number, extra: string[] = [], env?: NodeJS.ProcessEnv): Promise<number> {
  const db = join(dir, `${mode}-${workers}-${Date.now()}.db`);
  if (mode === 'reserver') {
    const c = await openCoordinator({ url: `sqlite:${db}` });
    await c.setBudget({ limit: 1e15 });
    await c.close();
  }
  const { go, results } = await together(workers, [mode, db, String(ms), ...extra], env);
  const total = results.reduce((s, r) => s + r.count, 0);
  return (total / (Math.max(...results.map((r) => r.end)) - go)) * 1000;
}

/**
 * 8 processes taking turns on one key (lease acquire + release pairs/s): with
 * waiters woken across processes, and with wakes off (BATON_SQLITE_WAKES=off:
 * polling only, as before they existed), alternating over `trials` (the
 * machine's speed drifts); `ratio` is the median of the trials' ratios.
 */
export async function oneKeyWithAndWithoutWakes(dir: string, ms: number, trials: number): Promise<{ wakes: number[]; polling: number[]; ratio: number }> {
  const wakes: number[] = [];
  const polling: number[] = [];
  for (let i = 0; i < trials; i++) {
    wakes.push(await batonOpsPerSec(dir, 'leaser', 8, ms, ['1']));
    polling.push(await batonOpsPerSec(dir, 'leaser', 8, ms, ['1'], { BATON_SQLITE_WAKES: 'off' }));
  }
  const ratios = wakes.map((w, i) => w / polling[i]!).sort((a, b) => a - b);
  return { wakes, polling, ratio: ratios[Math.floor(ratios.length / 2)]! };
}

/** For orientation: bare node:sqlite single-row commits per second (WAL, synchronous=NORMAL), one process. */
export function rawCommitsPerSec(dir: string, ms: number): number {
  const db = new DatabaseSync(join(dir, `raw-${Date.now()}.db`));
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
  const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
  const until = now() + ms;
  let n = 0;
  const t0 = now();
  while (now() < until) {
    db.exec('BEGIN IMMEDIATE');
    insert.run('x');
    db.exec('COMMIT');
    n++;
  }
  const rate = (n / (now() - t0)) * 1000;
  db.close();
  return rate;
}
