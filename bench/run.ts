// npm run bench: baton against its anchors, in one run on one machine,
// printed as ratios. Absolute numbers vary with the machine; ratios less so.
import { spawn } from 'node:child_process';
import { closeSync, fsyncSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { acquireLock } from '../src/index.ts';
import { benchNumber, handoffGaps, together } from './procs.ts';

const MS = benchNumber('BENCH_MS', 2000, 1);
// Untimed first, so both sides are measured with their code compiled (a worker does only a few hundred operations).
const WARM_MS = benchNumber('BENCH_WARM_MS', 500, 0);
// The machine's speed drifts by tens of percent within a minute: where a target
// compares runs made one after the other, each side runs TRIALS times, alternating,
// and the median of the ratios is judged.
const TRIALS = benchNumber('BENCH_TRIALS', 3, 1);
const work = mkdtempSync(join(tmpdir(), 'baton-bench-'));
const results: Array<{ name: string; ok: boolean; detail: string }> = [];

function check(name: string, ok: boolean, detail: string): void {
  results.push({ name, ok, detail });
  console.log(`  ${ok ? 'PASS' : 'FAIL'}  ${name}: ${detail}`);
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
const fmt = (n: number): string => (n >= 100 ? n.toFixed(0) : n.toFixed(2));

// --- 1. Locked read-modify-write of a JSON counter --------------------------------

async function rmw(impl: string, procs: number, fsync: boolean): Promise<{ perSec: number; lost: number }> {
  const file = join(work, `counter-${impl}-${procs}-${fsync}.json`);
  writeFileSync(file, JSON.stringify({ n: 0 }));
  const workers = await together(procs, 'rmw.ts', [impl, file, fsync ? 'fsync' : 'nofsync', String(MS), String(WARM_MS)]);
  const counts = await Promise.all(workers.map(async (w) => (await w.line('count')).split(' ').slice(1).map(Number) as [number, number]));
  const timed = counts.reduce((sum, [c]) => sum + c, 0);
  const all = counts.reduce((sum, [c, warm]) => sum + c + warm, 0);
  const final = (JSON.parse(readFileSync(file, 'utf8')) as { n: number }).n;
  return { perSec: (timed / MS) * 1000, lost: all - final };
}

function bareDurableReplaces(): number {
  // The disk's own limit: write, fsync, rename, fsync the directory, in one process.
  const file = join(work, 'bare.json');
  const until = performance.now() + MS;
  let n = 0;
  while (performance.now() < until) {
    const temp = `${file}.${n}.tmp`;
    const fd = openSync(temp, 'wx');
    writeSync(fd, JSON.stringify({ n }));
    fsyncSync(fd);
    closeSync(fd);
    renameSync(temp, file);
    const dir = openSync(work, 'r');
    fsyncSync(dir);
    closeSync(dir);
    n++;
  }
  return (n / MS) * 1000;
}

console.log(`baton bench: ${MS} ms per run, ${process.version}, work dir ${work}\n`);
// `npm run bench -- files`, `-- engine`, `-- daemon`, `-- ui`, `-- auth`, `-- kv`, `-- projects` or `-- postgres` runs one section only. The
// PostgreSQL section (3-4 minutes) runs only when asked for: the run without an argument leaves it out.
const only = process.argv[2];
if (only !== undefined && only !== 'files' && only !== 'engine' && only !== 'daemon' && only !== 'ui' && only !== 'auth' && only !== 'kv' && only !== 'projects' && only !== 'postgres') {
  throw new Error(`unknown bench section ${JSON.stringify(only)}: files, engine, daemon, ui, auth, kv, projects or postgres`);
}
if (only === undefined || only === 'files') {
console.log(`1. Locked read-modify-write of a JSON counter (ops/s over ${MS} ms after ${WARM_MS} ms of warm-up; baton / proper-lockfile + write-file-atomic)`);
console.log('   (write-file-atomic does not fsync the directory; baton does: the anchor does less work with fsync on)');
for (const fsync of [false, true]) {
  console.log(
    `   fsync ${fsync ? `on (both sides; baton against the bare durable replace loop: ${TRIALS} trials, each between two bare loops)` : `off (both sides; baton and proper-lockfile alternate over ${TRIALS} trials, the median ratio judged)`}`,
  );
  for (const procs of [1, 4, 8]) {
    const trials: Array<{ ours: number; theirs?: number; bare?: number }> = [];
    let lost = 0;
    let theirLost = 0;
    let bareBefore = fsync ? bareDurableReplaces() : 0;
    for (let i = 0; i < TRIALS; i++) {
      const ours = await rmw('baton', procs, fsync);
      lost += ours.lost;
      if (fsync) {
        const bareAfter = bareDurableReplaces();
        trials.push({ ours: ours.perSec, bare: (bareBefore + bareAfter) / 2 });
        bareBefore = bareAfter;
      } else {
        const theirs = await rmw('proper-lockfile', procs, fsync);
        theirLost += theirs.lost;
        trials.push({ ours: ours.perSec, theirs: theirs.perSec });
      }
    }
    // With fsync on the anchor that is judged is the bare loop; proper-lockfile runs once, for orientation.
    const once = fsync ? await rmw('proper-lockfile', procs, fsync) : undefined;
    theirLost += once?.lost ?? 0;
    const ours = median(trials.map((t) => t.ours));
    const theirs = once?.perSec ?? median(trials.map((t) => t.theirs!));
    const ratio = fsync ? ours / theirs : median(trials.map((t) => t.ours / t.theirs!));
    const vsBare = fsync ? median(trials.map((t) => t.ours / t.bare!)) : NaN;
    const shown = fsync
      ? `; of the bare loop: ${trials.map((t) => `${fmt(t.ours)}/${fmt(t.bare!)} = ${((t.ours / t.bare!) * 100).toFixed(0)}%`).join(', ')}; median ${(vsBare * 100).toFixed(0)}%`
      : `; trials: ${trials.map((t) => `${fmt(t.ours)}/${fmt(t.theirs!)} = ${(t.ours / t.theirs!).toFixed(2)}x`).join(', ')}`;
    console.log(`     ${procs} proc: baton ${fmt(ours)}/s (median; lost ${lost}), proper-lockfile ${fmt(theirs)}/s (lost ${theirLost}): ratio ${ratio.toFixed(2)}x${fsync ? '' : ' (median)'}${shown}`);
    check(`no lost updates, baton, ${procs} proc, fsync ${fsync ? 'on' : 'off'}`, lost === 0, `${lost} lost`);
    if (!fsync && procs === 8) check('fsync off, 8 processes: >= 10x proper-lockfile', ratio >= 10, `median of ${TRIALS} trials ${ratio.toFixed(2)}x`);
    if (fsync) check(`fsync on, ${procs} proc: >= 70% of the bare durable loop`, vsBare >= 0.7, `median of ${TRIALS} trials ${(vsBare * 100).toFixed(0)}%`);
  }
}

// --- 2. Latency ------------------------------------------------------------------

console.log('\n2. Lock latency (ms)');
// One-off: each pair is followed (untimed) by the end of the turn, so every
// release ends its record on disk. In a loop: pairs back to back, where baton
// retains its record from the second release of a streak (docs/file-locks.md).
async function uncontended(impl: string, n: number, loop: boolean): Promise<number[]> {
  const file = join(work, `lat-${impl}-${loop}`);
  writeFileSync(file, '');
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    if (impl === 'baton') {
      const r = await acquireLock(file);
      if (!r.success) throw new Error(r.message);
      await r.handle.release();
    } else {
      const release = await lockfile.lock(file, { realpath: false });
      await release();
    }
    out.push(performance.now() - t0);
    if (!loop) await new Promise((resolve) => setImmediate(resolve));
  }
  return out.sort((a, b) => a - b);
}
for (const loop of [false, true]) {
  const ourLat = await uncontended('baton', 2000, loop);
  const theirLat = await uncontended('proper-lockfile', 2000, loop);
  console.log(
    `   uncontended acquire+release, ${loop ? 'in a loop (baton retains its record)' : 'one-off'}: baton median ${fmt(quantile(ourLat, 0.5))}, p99 ${fmt(quantile(ourLat, 0.99))}; proper-lockfile median ${fmt(quantile(theirLat, 0.5))}, p99 ${fmt(quantile(theirLat, 0.99))}; median ratio ${(quantile(theirLat, 0.5) / quantile(ourLat, 0.5)).toFixed(2)}x faster`,
  );
}

async function handoff(impl: string, procs: number, rounds: number): Promise<number[]> {
  const file = join(work, `handoff-${impl}-${procs}`);
  writeFileSync(file, '');
  const workers = await together(procs, 'handoff.ts', [impl, file, String(rounds)]);
  return handoffGaps(workers);
}
for (const procs of [2, 4]) {
  const ours = await handoff('baton', procs, 300);
  const theirs = await handoff('proper-lockfile', procs, 300);
  console.log(
    `   handoff, ${procs} procs (release to the next holder, one that was already waiting): baton ${ours.length} handoffs, median ${fmt(quantile(ours, 0.5))}, p99 ${fmt(quantile(ours, 0.99))}; proper-lockfile ${theirs.length}, median ${fmt(quantile(theirs, 0.5))}, p99 ${fmt(quantile(theirs, 0.99))}`,
  );
  check(`handoff p99 <= 5 ms (${procs} procs, >= 200 handoffs)`, ours.length >= 200 && quantile(ours, 0.99) <= 5, `${fmt(quantile(ours, 0.99))} ms over ${ours.length} handoffs`);
}

// --- 3. Rate limiter -------------------------------------------------------------

console.log('\n3. Cross-process rate limiter: 8 processes, 5 s, 1000/s, burst 100');
{
  const file = join(work, 'limit');
  const rate = 1000;
  const burst = 100;
  const seconds = 5;
  const limiterWorker = new URL('../support/workers/limiter.ts', import.meta.url).pathname; // shared with the tests
  const procs = Array.from({ length: 8 }, () => {
    const child = spawn(process.execPath, [limiterWorker, file, String(rate), String(burst), String(seconds * 1000)], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    return { child, out: () => out };
  });
  while (!procs.every((p) => p.out().includes('ready'))) await new Promise((r) => setTimeout(r, 10));
  for (const p of procs) p.child.stdin.end('go\n');
  await Promise.all(procs.map((p) => new Promise((r) => p.child.on('close', r))));
  let first = Infinity;
  const grants: number[] = [];
  for (const p of procs) {
    const line = p.out().split('\n').find((l) => l.startsWith('grants'))!;
    const [, started, list] = line.split(' ');
    first = Math.min(first, Number(started));
    grants.push(...(JSON.parse(list!) as number[]));
  }
  const ceiling = rate * seconds + burst;
  const span = Math.max(...grants) - first;
  console.log(`   granted ${grants.length} in ${span} ms; ceiling rate x 5 s + burst = ${ceiling}: ${((grants.length / ceiling) * 100).toFixed(1)}% of it`);
  check('rate limiter never over rate x elapsed + burst', grants.length <= rate * (Math.max(span, seconds * 1000) / 1000) + burst, `${grants.length} granted`);
  check('rate limiter grants >= 95% of the ceiling', grants.length >= 0.95 * ceiling, `${((grants.length / ceiling) * 100).toFixed(1)}%`);
}

}

if (only === undefined || only === 'engine') {
  const { CLAIM_BATCH, TASK_PAGE_BYTES, batonOpsPerSec, batonTaskThroughput, oneKeyWithAndWithoutWakes, rawCommitsPerSec } = await import('./engine.ts');
  const { LOCAL_QUEUE_SIZE, graphileThroughput, startPostgres } = await import('./graphile.ts');
  // Long enough for steady state on both sides. graphile-worker warms up inside
  // the timed window (its jobs are waiting, so it cannot start earlier): run()
  // opens a new pool, and each new PostgreSQL connection and the code run cold at
  // first. Here it drained 20,000 jobs at 15-19k/s and 100,000 at 21-33k/s, so
  // 20,000 judged its warm-up more than its speed. 100,000 jobs also write about
  // 90 MB of WAL on baton's side, so its checkpoints (every 32 MB) are inside.
  const JOBS = benchNumber('BENCH_JOBS', 100_000, 1);
  console.log(`\n4. Task claim + complete throughput, ${JOBS} jobs, ${TRIALS} alternating trials (jobs/s; baton on one SQLite file / graphile-worker on PostgreSQL, same number of processes)`);
  console.log(`   baton workers claim ${CLAIM_BATCH} at a time and complete them in one transaction, on a database made with pageSize ${TASK_PAGE_BYTES} (as docs/engine.md advises for such batches); graphile-worker: localQueue ${LOCAL_QUEUE_SIZE}, concurrency 24, completeJobBatchDelay 0`);
  const pg = await startPostgres(work);
  try {
    for (const workers of [1, 2, 4, 8]) {
      // This machine's speed drifts by tens of percent within a minute: the
      // two sides alternate, and the median of the trials' ratios is judged.
      const trials: Array<{ ours: number; theirs: number; enqueue: [number, number]; start: number }> = [];
      for (let i = 0; i < TRIALS; i++) {
        const ours = await batonTaskThroughput(work, workers, JOBS);
        const theirs = await graphileThroughput(pg, { workers, jobs: JOBS });
        trials.push({ ours: ours.jobsPerSec, theirs: theirs.jobsPerSec, enqueue: [(JOBS / ours.enqueueMs) * 1000, (JOBS / theirs.enqueueMs) * 1000], start: theirs.startMs });
      }
      const ratios = trials.map((t) => t.ours / t.theirs);
      const ratio = median(ratios);
      const shown = trials.map((t, i) => `${fmt(t.ours)} vs ${fmt(t.theirs)} = ${ratios[i]!.toFixed(2)}x`).join('; ');
      console.log(`   ${workers} proc: ${shown}; median ${ratio.toFixed(2)}x   (enqueue, median: ${fmt(median(trials.map((t) => t.enqueue[0])))} vs ${fmt(median(trials.map((t) => t.enqueue[1])))} jobs/s; graphile-worker's run() start-up, inside its time: ${fmt(median(trials.map((t) => t.start)))} ms)`);
      check(`tasks >= 2x graphile-worker (${workers} procs)`, ratio >= 2, `median of ${TRIALS} trials ${ratio.toFixed(2)}x`);
    }
  } finally {
    await pg.stop();
  }
  const raw = rawCommitsPerSec(work, MS);
  console.log(`\n5. Lease acquire + release (pairs/s; for orientation, bare node:sqlite single-row commits: ${fmt(raw)}/s)`);
  const uncontended = await batonOpsPerSec(work, 'leaser', 1, MS, ['1']);
  const oneKey = await batonOpsPerSec(work, 'leaser', 8, MS, ['1']);
  const manyKeys = await batonOpsPerSec(work, 'leaser', 8, MS, ['100']);
  console.log(`   uncontended (1 proc): ${fmt(uncontended)}/s = ${((uncontended * 2) / raw * 100).toFixed(0)}% of the bare commit rate (2 commits each)`);
  console.log(`   8 procs on 1 key: ${fmt(oneKey)}/s;  8 procs on 100 keys: ${fmt(manyKeys)}/s`);
  // Waiters woken across processes (commit-signal.ts), against polling only as before, alternating.
  const woken = await oneKeyWithAndWithoutWakes(work, MS, TRIALS);
  console.log(`   8 procs on 1 key, ${TRIALS} alternating trials: with wakes ${woken.wakes.map(fmt).join(', ')}/s; polling only (BATON_SQLITE_WAKES=off) ${woken.polling.map(fmt).join(', ')}/s; median ratio ${woken.ratio.toFixed(2)}x`);
  check('8 procs on 1 key: wakes >= 5x polling only', woken.ratio >= 5, `median of ${TRIALS} trials ${woken.ratio.toFixed(2)}x`);
  console.log('\n6. Budget reserve + commit, 8 processes');
  const budget = await batonOpsPerSec(work, 'reserver', 8, MS);
  console.log(`   ${fmt(budget)} pairs/s`);
}

if (only === undefined || only === 'daemon') {
  const { around, handoffs, load, prefill, residentMemory, startBareServer, startBatonDaemon } = await import('./daemon.ts');
  const pct = (n: number): string => `${(n * 100).toFixed(0)}%`;
  const lat = (l: { p50: number; p99: number }): string => `p50 ${l.p50.toFixed(3)}, p99 ${l.p99.toFixed(3)} ms`;
  const daemon = await startBatonDaemon(work, 'daemon');
  const bare = await startBareServer(work);
  const socket = daemon.record.socket!;
  try {
    console.log('\n7. Daemon: lease acquire + release over the unix socket (requests/s; baton daemon / bare node:http server answering a constant JSON)');
    console.log('   one load process, the same generator and keep-alive http.Agent for both; each client acquires its own key, then releases it (2 requests);');
    console.log(`   the bare server runs right before and right after baton, and its numbers are the mean of the two; ${TRIALS} such trials, the median ratios are judged`);
    for (const clients of [1, 32]) {
      const opts = { concurrency: clients, procs: 1, ms: MS };
      const trials: Array<{ rate: number; tail: number }> = [];
      for (let i = 0; i < TRIALS; i++) {
        const { ours, theirs } = await around(
          () => load(bare.socket, 'lease', { ...opts, tag: `bare-${clients}-${i}` }),
          () => load(socket, 'lease', { ...opts, tag: `lease-${clients}-${i}` }),
        );
        trials.push({ rate: ours.perSec / theirs.perSec, tail: ours.p99 / theirs.p99 });
        console.log(`   ${clients} client${clients === 1 ? '' : 's'}, trial ${i + 1}: baton ${fmt(ours.perSec)}/s (${lat(ours)}), bare ${fmt(theirs.perSec)}/s (${lat(theirs)}): ${pct(ours.perSec / theirs.perSec)} of its rate, ${(ours.p99 / theirs.p99).toFixed(2)}x its p99`);
      }
      const rate = median(trials.map((t) => t.rate));
      const tail = median(trials.map((t) => t.tail));
      console.log(`   ${clients} client${clients === 1 ? '' : 's'}: median ${pct(rate)} of its rate, ${tail.toFixed(2)}x its p99`);
      if (clients === 32) check('daemon leases, 32 clients: >= 50% of the bare server\'s requests/s', rate >= 0.5, `median of ${TRIALS} trials ${pct(rate)}`);
      check(`daemon leases, ${clients} client${clients === 1 ? '' : 's'}: p99 <= 2x the bare server's`, tail <= 2, `median of ${TRIALS} trials ${tail.toFixed(2)}x`);
    }

    console.log('\n8. Daemon: task claim (n 1) + complete, 8 client processes, one task at a time (requests/s; baton daemon / the bare server, same generator)');
    const c = daemon.client();
    await prefill(c, 'one', benchNumber('BENCH_DAEMON_TASKS', 40_000, 1));
    const rates: number[] = [];
    for (let i = 0; i < TRIALS; i++) {
      const { ours, theirs } = await around(
        () => load(bare.socket, 'task', { concurrency: 1, procs: 8, ms: MS, tag: `bare-task-${i}` }),
        () => load(socket, 'task', { concurrency: 1, procs: 8, ms: MS, tag: `task-${i}`, queue: 'one' }),
      );
      rates.push(ours.perSec / theirs.perSec);
      console.log(`   trial ${i + 1}: baton ${fmt(ours.perSec)}/s (${fmt(ours.tasksPerSec)} tasks/s), bare ${fmt(theirs.perSec)}/s: ${pct(ours.perSec / theirs.perSec)}`);
    }
    const rate = median(rates);
    check('daemon tasks, 8 processes, n 1: >= 40% of the bare server\'s requests/s', rate >= 0.4, `median of ${TRIALS} trials ${pct(rate)}`);
    await prefill(c, 'batch', benchNumber('BENCH_DAEMON_BATCH_TASKS', 40_000, 1));
    const batch = await load(socket, 'tasks32', { concurrency: 1, procs: 8, ms: MS, tag: 'batch', queue: 'batch' });
    console.log(`   for orientation, claim n 32 + completeMany: ${fmt(batch.tasksPerSec)} tasks/s (${fmt(batch.perSec)} requests/s)`);

    console.log('\n9. Daemon: handoff of one contended lease, 4 processes through the SDK (release started to the next holder\'s acquire resolved, for holders that were already waiting; ms)');
    console.log('   for orientation, the floor: the same clients against an in-memory lease server (no store), right before and right after baton');
    const floor = await startBareServer(work, 'lease-floor-server.ts');
    const gaps = await (async () => {
      try {
        const before = await handoffs(floor.socket, 4, 100, 15_000);
        const ours = await handoffs(socket, 4, 100, 15_000);
        const after = await handoffs(floor.socket, 4, 100, 15_000);
        const line = (g: number[]): string => `median ${quantile(g, 0.5).toFixed(3)}, p99 ${quantile(g, 0.99).toFixed(3)}, max ${quantile(g, 1).toFixed(3)}`;
        console.log(`   floor: before ${line(before)}; after ${line(after)}`);
        return ours;
      } finally {
        await floor.stop();
      }
    })();
    const gap = (q: number): number => (gaps.length === 0 ? NaN : quantile(gaps, q));
    console.log(`   baton: ${gaps.length} handoffs in at most 15 s: median ${gap(0.5).toFixed(3)}, p99 ${gap(0.99).toFixed(3)}, max ${gap(1).toFixed(3)}`);
    check('daemon handoff p99 <= 2 ms over >= 200 handoffs', gaps.length >= 200 && gap(0.99) <= 2, `${gap(0.99).toFixed(3)} ms over ${gaps.length} handoffs`);
  } finally {
    await bare.stop();
    await daemon.stop();
  }

  console.log('\n10. Daemon resident memory with 100,000 tasks and 10,000 leases (a fresh daemon from the built package, dist/, as npx baton serve runs; rss from its status)');
  const mem = await residentMemory(work, 10_000, 100_000);
  const mb = (b: number): string => `${(b / 2 ** 20).toFixed(1)} MB`;
  const worst = Math.max(mem.loadedBytes, mem.settledBytes);
  console.log(`   idle ${mb(mem.idleBytes)}; with ${mem.tasks} ready tasks and ${mem.leases} leases: ${mb(mem.loadedBytes)}, 1 s later ${mb(mem.settledBytes)}`);
  check('daemon rss <= 150 MB with 100,000 tasks and 10,000 leases', worst <= 150 * 2 ** 20 && mem.leases === 10_000 && mem.tasks === 100_000, `${mb(worst)} (${((worst / (150 * 2 ** 20)) * 100).toFixed(0)}% of 150 MB)`);

  const { observabilitySection } = await import('./observability.ts');
  await observabilitySection({ work, trials: TRIALS, ms: MS, check });
}

if (only === undefined || only === 'ui') {
  const { uiSection } = await import('./ui.ts');
  await uiSection({ work, trials: TRIALS, ms: MS, check });
}

if (only === undefined || only === 'auth') {
  const { authSection } = await import('./auth.ts');
  await authSection({ work, trials: TRIALS, ms: MS, check });
}

if (only === undefined || only === 'kv') {
  const { kvSection } = await import('./kv.ts');
  await kvSection({ work, trials: TRIALS, ms: MS, check });
}

if (only === undefined || only === 'projects') {
  const { projectsSection } = await import('./projects.ts');
  await projectsSection({ work, trials: TRIALS, ms: MS, check });
}

if (only === 'postgres') {
  const { postgresSection } = await import('./postgres.ts');
  await postgresSection({ work, trials: TRIALS, ms: MS, check });
}

rmSync(work, { recursive: true, force: true });
const failed = results.filter((r) => !r.ok);
console.log(`\n${results.length - failed.length} of ${results.length} targets met${failed.length ? `; missed: ${failed.map((f) => f.name).join('; ')}` : ''}`);
