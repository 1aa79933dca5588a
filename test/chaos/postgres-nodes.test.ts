// Multi-node chaos on a real PostgreSQL: three daemons (`baton serve --store
// postgres://... --node-ttl 3`) over one database, nine client processes spread
// over them taking exclusive leases on a few keys, claiming and completing
// tasks, and reserving and committing tokens against a budget with a limit.
// Meanwhile: kill -9 of random clients (each replaced), pg_terminate_backend of
// a daemon's listener, kill -9 of one daemon (while one of its clients holds
// the key 'sticky' and a claim, and a client of another daemon waits for
// 'sticky'; the daemon then starts again), and a restart of PostgreSQL itself.
//
// Afterwards, from the holders' own logs (support/workers/pg-chaos-worker.ts)
// and the database:
// - no two holders of one key at any moment: a hold runs from acquire's return
//   to the release call (or the holder's kill, or the end of its lease by the
//   engine's rules: its TTL, or its session ended by its node lapsing);
// - fencing tokens strictly increase per key, in the order the protected
//   resource saw them, and no token is handed out twice;
// - every task is done, completed exactly once, by the completion that was
//   acknowledged; no task appears that nobody added;
// - no reservation is granted past the budget's limit and its used tokens never
//   pass it (src/engine/budgets.ts), replaying the event log in commit order;
// - every acknowledged write is there (tasks added, completions, usage), and
//   nothing more than was attempted;
// - the dead daemon's sessions end, its lease and its claim come back, within
//   its node TTL plus one sweep (and some slack for a loaded machine).
//
// PG_CHAOS_SEED=<n> replays the schedule's random choices; PG_CHAOS_MS sets the
// chaos phase's length; PG_CHAOS_KEEP=1 keeps the logs; PG_CHAOS_DAEMON_ENTRY=<file>
// runs the daemons from another entry (one that stubs out a mechanism, say
// StoreTx.lock, to see this test catch it).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import pg from 'pg';
import { RemoteCoordinator } from '../../src/client/index.ts';
import { startDaemon, type RunningDaemon } from '../../support/daemon.ts';
import { root } from '../../support/paths.ts';
import { Databases, startPostgres, type PgServer } from '../../support/postgres.ts';
import { sleep, startNode, type Running } from '../helpers/procs.ts';

/**
 * 3 s: on this shared 2-core machine a live daemon's heartbeat (every third of
 * the TTL) lags up to about 3 s under the test's own load, and one that lags past
 * the TTL lapses, ending its clients' sessions as if it had died.
 */
const NODE_TTL_MS = 3_000;
const SWEEP_MS = 500; // the engine's default sweep interval
/** On top of the node TTL and a sweep: a sweep's jitter, a NOTIFY, and a loaded 2-core machine. */
const RECOVERY_SLACK_MS = 4_000;
const KEYS = 3;
const WORKERS = 9;
const SEED_TASKS = 60;
/**
 * The budget starts small, and the test raises it once reservations have run
 * into its limit for a while: however fast or slow this machine runs, they meet
 * the limit again and again, with reservations of several nodes competing for
 * the room left.
 */
const BUDGET_START = 5_000;
const BUDGET_STEP = 10_000;
/** Raised when less than this is left (most estimates, 500 to 3000, are refused then), at most this often. */
const BUDGET_RAISE_BELOW = 1_500;
const BUDGET_RAISE_MS = 4_000;
const CHAOS_MS = Number(process.env.PG_CHAOS_MS ?? 30_000);
const SEED = Number(process.env.PG_CHAOS_SEED ?? Math.floor(Math.random() * 2 ** 31));

const script = join(root, 'support/workers/pg-chaos-worker.ts');
const mono = (): number => Number(process.hrtime.bigint()) / 1e6;

/** mulberry32: the schedule's randomness, replayable from the seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = rng(SEED);
const between = (lo: number, hi: number): number => lo + Math.floor(random() * (hi - lo + 1));
const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)]!;

/** SQL on a connection of its own, that gives up instead of hanging (a server mid-restart). */
async function sql<R = Record<string, unknown>>(url: string, text: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000, query_timeout: 15_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query(text, values)).rows as R[];
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A step of the schedule that must finish within `ms`: a hang fails the test, saying which step. */
async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not done within ${ms} ms`)), ms)));
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

interface Worker {
  name: string;
  mode: 'loop' | 'sticky' | 'waiter';
  daemon: number;
  proc: Running;
  /** CLOCK_MONOTONIC ms when it said it was ready, and just before its kill -9. */
  readyAt?: number;
  killedAt?: number;
}

const dir = mkdtempSync(join(tmpdir(), 'baton-pg-chaos-'));
let server: PgServer | undefined;
const daemons: RunningDaemon[] = [];
const workers: Worker[] = [];
after(async () => {
  for (const w of workers) w.proc.child.kill('SIGKILL');
  for (const d of daemons) await d.kill().catch(() => undefined);
  await server?.stop();
  if (process.env.PG_CHAOS_KEEP === undefined) rmSync(dir, { recursive: true, force: true });
});

// --- what the logs say -------------------------------------------------------

interface Hold {
  key: string;
  token: number;
  holder: string;
  start: number;
  end: number;
  /** Why the hold ended where it did. */
  how: 'released' | 'killed' | 'lease expired' | 'session ended (node lapsed)' | 'never freed';
  /**
   * The engine had ended the lease before acquire returned: the grant reached
   * its holder late (a response replayed from the idempotency record after its
   * daemon's kill and restart, or one that took longer than the node TTL). It
   * was never a hold; what guards against it is the fencing token.
   */
  late: boolean;
}

interface WorkerLog {
  name: string;
  lines: string[][];
}

function readLog(name: string): WorkerLog {
  const file = join(dir, `${name}.log`);
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  return { name, lines: text.split('\n').filter(Boolean).map((l) => l.split(' ')) };
}

/** How sessions ended (the store's clock: Date.now() on this machine), by id. */
type SessionEnds = Map<string, { endedAt: number; reason: string }>;

/**
 * The holds a worker's log shows. A hold is the holder's own view: from
 * acquire's return to its release call, or to its kill. A lease can also end
 * without its holder knowing, by the engine's rules: its TTL ran out, or its
 * session ended because its daemon's node lapsed (a dead daemon, or the
 * database away longer than the node TTL). Its hold ends there then; expected
 * rarely (TTLs are far longer than holds), and counted.
 */
function holdsOf(w: Worker, log: WorkerLog, sessions: SessionEnds): Hold[] {
  type Open = { key: string; token: number; start: number; cut: number; cutHow: Hold['how'] };
  const holds: Hold[] = [];
  const open = new Map<string, Open>();
  const close = (h: Open, end: number, how: Hold['how']): void => {
    // A session's end is stamped with its transaction's start, which can precede a grant that transaction then revoked.
    holds.push({ key: h.key, token: h.token, holder: w.name, start: h.start, late: h.cut <= h.start, ...(end > h.cut ? { end: Math.max(h.start, h.cut), how: h.cutHow } : { end, how }) });
  };
  for (const [kind, key, token, at, wall, expiresAt, sessionId] of log.lines) {
    if (kind === 'hold') {
      const start = Number(at);
      // Times of the store's clock on this monotonic clock: the hold line has both clocks' readings.
      const toMono = (ms: number): number => start + (ms - Number(wall));
      const h: Open = { key: key!, token: Number(token), start, cut: Infinity, cutHow: 'never freed' };
      if (expiresAt !== 'null') Object.assign(h, { cut: toMono(Number(expiresAt)), cutHow: 'lease expired' });
      const ended = sessions.get(sessionId!);
      if (ended !== undefined && /node lapsed/.test(ended.reason) && toMono(ended.endedAt) < h.cut) Object.assign(h, { cut: toMono(ended.endedAt), cutHow: 'session ended (node lapsed)' });
      open.set(`${key} ${token}`, h);
    } else if (kind === 'free') {
      const h = open.get(`${key} ${token}`);
      assert.ok(h, `${w.name}: free ${key} ${token} without its hold`);
      open.delete(`${key} ${token}`);
      close(h, Number(at), 'released');
    }
  }
  for (const h of open.values()) close(h, w.killedAt ?? Infinity, w.killedAt === undefined ? 'never freed' : 'killed');
  return holds;
}

const fmt = (h: Hold): string => `${h.holder} token ${h.token} [${h.start.toFixed(1)}, ${h.end.toFixed(1)}] (${h.how})`;

// --- the run -----------------------------------------------------------------

test('multi-node chaos on PostgreSQL: kill -9 of clients and of a daemon, a cut listener, a PostgreSQL restart', { timeout: 600_000 }, async (t) => {
  const began = mono();
  t.diagnostic(`seed ${SEED} (PG_CHAOS_SEED=${SEED} replays the schedule); logs in ${dir}${process.env.PG_CHAOS_KEEP === undefined ? ' (removed after; PG_CHAOS_KEEP=1 keeps them)' : ''}`);
  server = await startPostgres(dir);
  const databases = new Databases(server);
  const url = await databases.fresh();
  const dbName = new URL(url).pathname.slice(1);
  const stateDir = (i: number): string => join(dir, `state-${i}`);
  const serveArgs = ['--store', url, '--node-ttl', String(NODE_TTL_MS / 1000)];
  const entry = process.env.PG_CHAOS_DAEMON_ENTRY === undefined ? {} : { entry: process.env.PG_CHAOS_DAEMON_ENTRY };
  const serve = (i: number): Promise<RunningDaemon> => within(60_000, `starting daemon ${i}`, startDaemon(stateDir(i), { cwd: dir, args: serveArgs, ...entry }));
  daemons.push(...(await Promise.all([0, 1, 2].map(serve))));
  const up = [true, true, true];
  /** Every daemon that should be up is: one that died says why (its stderr). */
  const daemonsAlive = (when: string): void => {
    const dead = daemons.flatMap((d, i) => (up[i] && (d.child.exitCode !== null || d.child.signalCode !== null) ? [`daemon ${i} (pid ${d.child.pid}) exited ${d.child.exitCode ?? d.child.signalCode}: ${d.stderr().slice(0, 1500)}`] : []));
    assert.deepEqual(dead, [], `a daemon died ${when}`);
  };
  const victim = between(0, 2); // the daemon that will be killed
  const other = (victim + 1) % 3; // the waiter's daemon, and ours
  const victimPid = daemons[victim]!.child.pid!;
  t.diagnostic(`daemons up after ${Math.round(mono() - began)} ms; daemon ${victim} (pid ${victimPid}) will be killed`);

  const admin = new RemoteCoordinator({ socketPath: daemons[other]!.record.socket! });
  t.after(() => admin.close());
  await admin.setBudget({ model: 'budgeted', limit: BUDGET_START, period: 'none' });
  const seeded = await admin.addTasks(Array.from({ length: SEED_TASKS }, (_, i) => ({ title: `seed-${i}`, maxAttempts: 1000 })));

  let n = 0;
  const spawn = (mode: Worker['mode'], daemon: number): Worker => {
    const name = `${mode === 'loop' ? 'w' : mode}${n++}`;
    const proc = startNode(script, [mode, daemons[daemon]!.record.socket!, name, dir, String(KEYS)], { stdin: true });
    const w: Worker = { name, mode, daemon, proc };
    if (mode === 'loop') proc.line('ready', 600_000).then(() => (w.readyAt = mono()), () => undefined);
    workers.push(w);
    return w;
  };
  const sticky = spawn('sticky', victim);
  const stickyHeld = JSON.parse((await sticky.proc.line('held ', 120_000)).slice(5)) as { token: number; sessionId: string; taskId: number | null };
  const waiter = spawn('waiter', other);
  await waiter.proc.line('waiting', 120_000);
  const live: Worker[] = Array.from({ length: WORKERS }, (_, i) => spawn('loop', i % 3));
  await Promise.all(live.map((w) => w.proc.line('ready', 120_000)));
  const chaosBegan = mono();
  t.diagnostic(`${WORKERS} workers running after ${Math.round(chaosBegan - began)} ms`);

  // kill -9 of random clients at work, each replaced by a new one on its daemon
  let chaosOver = false;
  let clientKills = 0;
  const killing = (async () => {
    while (!chaosOver) {
      await sleep(between(700, 1800));
      // A worker at work: ready for a while (a process still starting up proves nothing when killed).
      const atWork = live.filter((w) => w.readyAt !== undefined && mono() - w.readyAt > 1_000);
      if (chaosOver || atWork.length === 0) continue;
      const w = pick(atWork);
      w.killedAt = mono();
      w.proc.child.kill('SIGKILL');
      await w.proc.done;
      clientKills++;
      // On the same daemon, even while it is down: its clients retry until it is back.
      live[live.indexOf(w)] = spawn('loop', w.daemon);
    }
  })();

  let budgetRaises = 0;
  const raising = (async () => {
    while (!chaosOver) {
      await sleep(BUDGET_RAISE_MS);
      if (chaosOver) break;
      // Through a daemon that stays up; a failure (PostgreSQL restarting) is tried again at the next step.
      try {
        const [now] = await admin.budgetStatus({ model: 'budgeted' });
        if (now !== undefined && now.remaining < BUDGET_RAISE_BELOW) {
          await admin.setBudget({ model: 'budgeted', limit: now.limit + BUDGET_STEP, period: 'none' });
          budgetRaises++;
        }
      } catch {
        // the next step
      }
    }
  })();

  // How late each live node's heartbeat gets (the database's clock), apart from while PostgreSQL restarts: one
  // that lags past the node TTL lapses, and its clients' sessions end though their daemon is alive.
  const heartbeatLag = new Map<number, number>();
  let pgRestarting = false;
  const watching = (async () => {
    while (!chaosOver) {
      const rows = pgRestarting ? [] : await sql<{ pid: number; lag: number }>(url, 'SELECT pid, (floor(extract(epoch FROM clock_timestamp()) * 1000) - heartbeat_at)::int AS lag FROM baton.nodes WHERE ended_at IS NULL').catch(() => []);
      for (const r of rows) if (!pgRestarting && daemons.some((d, i) => up[i] && d.child.pid === r.pid)) heartbeatLag.set(r.pid, Math.max(heartbeatLag.get(r.pid) ?? 0, r.lag));
      await sleep(200);
    }
  })();

  // A failed assertion ends the test but not these loops: they stop before the processes are cleaned up.
  t.after(async () => {
    chaosOver = true;
    await Promise.allSettled([killing, raising, watching]);
  });

  const listeners = async (): Promise<number[]> =>
    (await sql<{ pid: number }>(server!.connectionString, `SELECT pid FROM pg_stat_activity WHERE application_name = 'baton-listener' AND datname = $1`, [dbName])).map((r) => r.pid);
  /** Polls until at least `want` listeners are connected, none of them one in `gone`; how long it took. */
  const listenersBack = async (want: number, gone: number[], withinMs: number): Promise<number> => {
    const from = mono();
    for (;;) {
      const pids = await listeners().catch(() => []);
      if (pids.length >= want && pids.every((p) => !gone.includes(p))) return mono() - from;
      assert.ok(mono() - from < withinMs, `listeners not back within ${withinMs} ms: ${pids.length} of ${want} connected`);
      await sleep(100);
    }
  };

  // 1. cut one daemon's listener
  await sleep(between(2_000, 4_000));
  // A daemon listens once a client of it first waits (every acquire does): by now all three have.
  await listenersBack(3, [], 60_000);
  const before = await listeners();
  const cut = pick(before);
  await sql(server.connectionString, 'SELECT pg_terminate_backend($1)', [cut]);
  const listenerBackMs = await listenersBack(3, [cut], 20_000);
  daemonsAlive('after its listener was cut');
  t.diagnostic(`listener ${cut} terminated: a new one listened ${Math.round(listenerBackMs)} ms later`);

  // 2. kill -9 of a daemon, while its client holds 'sticky' and a claim and a client of another daemon waits for 'sticky'
  await sleep(between(1_000, 3_000));
  const daemonKilledWall = Date.now();
  const daemonKilledAt = mono();
  up[victim] = false;
  await within(30_000, `killing daemon ${victim}`, daemons[victim]!.kill());
  const granted = (await waiter.proc.line('granted ', 60_000)).split(' ');
  const recoveryMs = Number(granted[2]) - daemonKilledAt;
  const waiterToken = Number(granted[1]);
  const waiterLapses = waiter.proc.lines().filter((l) => l.startsWith('session-ended'));
  t.diagnostic(`daemon ${victim} killed: 'sticky' granted on daemon ${other} ${Math.round(recoveryMs)} ms later (node TTL ${NODE_TTL_MS} ms + sweep ${SWEEP_MS} ms)${waiterLapses.length === 0 ? '' : `; the waiter's own session ended meanwhile: ${waiterLapses.join('; ')}`}`);
  assert.equal((await waiter.proc.done).code, 0, `the waiter failed: ${(await waiter.proc.done).stderr}`);
  // The same daemon again (same state directory and socket): its old clients find their sessions ended and register again.
  daemons[victim] = await serve(victim);
  up[victim] = true;
  sticky.proc.child.stdin!.write('check\n');
  const stickyCheck = await sticky.proc.line('check ', 60_000);
  t.diagnostic(`daemon ${victim} restarted; its old sticky holder asks about its lease: ${stickyCheck}`);

  // 3. restart PostgreSQL
  await sleep(between(1_000, 3_000));
  // The restarted daemon listens once one of its clients first waits: count those listening now.
  const listeningBefore = (await listeners()).length;
  pgRestarting = true;
  const pgRestartAt = mono();
  await within(60_000, 'restarting PostgreSQL', server.restart());
  const pgRestartMs = mono() - pgRestartAt;
  await sleep(1_000);
  daemonsAlive('when PostgreSQL restarted');
  const listenersAfterRestartMs = await listenersBack(listeningBefore, [], 30_000);
  // Heartbeats missed while the database was away are caught up by now: 3 of them at the longest.
  await sleep(NODE_TTL_MS);
  pgRestarting = false;
  t.diagnostic(`PostgreSQL restarted in ${Math.round(pgRestartMs)} ms; the ${listeningBefore} listeners back ${Math.round(listenersAfterRestartMs)} ms later`);

  await sleep(Math.max(0, chaosBegan + CHAOS_MS - mono()));
  chaosOver = true;
  await within(60_000, 'the last client kill', killing);
  await within(60_000, 'the last raise of the budget', raising);
  await within(60_000, 'the last look at the heartbeats', watching);
  t.diagnostic(`largest heartbeat lag of a live node outside the PostgreSQL restart, by daemon pid (node TTL ${NODE_TTL_MS} ms): ${JSON.stringify(Object.fromEntries(heartbeatLag))}`);
  daemonsAlive('during the chaos');

  // Drain: no more tasks added; the workers finish the queue (claims of the dead come back), then stop.
  for (const w of live) w.proc.child.stdin!.write('drain\n');
  const drainFrom = mono();
  let counts: Record<string, number> = {};
  for (;;) {
    counts = Object.fromEntries((await sql<{ status: string; n: number }>(url, 'SELECT status, count(*)::int AS n FROM baton.tasks GROUP BY status')).map((r) => [r.status, r.n]));
    if ((counts.ready ?? 0) + (counts.claimed ?? 0) === 0) break;
    if (mono() - drainFrom > 90_000) daemonsAlive('while the queue drained');
    assert.ok(mono() - drainFrom < 90_000, `the queue did not drain within 90 s: ${JSON.stringify(counts)}`);
    await sleep(250);
  }
  t.diagnostic(`queue drained ${Math.round(mono() - drainFrom)} ms after the chaos: ${JSON.stringify(counts)}`);
  for (const w of live) w.proc.child.stdin!.write('stop\n');
  for (const w of live) {
    const finished = await within(60_000, `stopping ${w.name}`, w.proc.done);
    assert.equal(finished.code, 0, `${w.name} exited ${finished.code}: ${finished.stderr}`);
  }
  sticky.killedAt = mono();
  sticky.proc.child.kill('SIGKILL');
  await sticky.proc.done;

  // --- the invariants ----------------------------------------------------------
  const logs = new Map(workers.map((w) => [w.name, readLog(w.name)]));
  const all = workers.flatMap((w) => logs.get(w.name)!.lines.map((l) => ({ w, l })));
  const count = (kind: string): number => all.filter(({ l }) => l[0] === kind).length;
  const errors = new Map<string, number>();
  for (const { l } of all) if (l[0] === 'err') errors.set(`${l[1]} ${l[2]}`, (errors.get(`${l[1]} ${l[2]}`) ?? 0) + 1);
  t.diagnostic(`${workers.length} client processes, ${clientKills} killed; ${count('hold')} holds, ${count('done')} completions, ${count('committed')} commits, ${count('refused')} reservations refused; errors: ${JSON.stringify(Object.fromEntries(errors))}`);
  const fatal = all.filter(({ l }) => l[0] === 'fatal').map(({ w, l }) => `${w.name}: ${l.join(' ')}`);
  assert.deepEqual(fatal, [], 'a worker failed outright');

  // 1. No two holders of one key at any moment.
  const sessionEnds: SessionEnds = new Map(
    (await sql<{ id: string; ended_at: string; end_reason: string }>(url, 'SELECT id, ended_at::bigint AS ended_at, end_reason FROM baton.sessions WHERE ended_at IS NOT NULL')).map((r) => [r.id, { endedAt: Number(r.ended_at), reason: r.end_reason }]),
  );
  const holds = workers.flatMap((w) => holdsOf(w, logs.get(w.name)!, sessionEnds));
  const byKey = new Map<string, Hold[]>();
  for (const h of holds) byKey.set(h.key, [...(byKey.get(h.key) ?? []), h]);
  const overlaps: string[] = [];
  const tokenOrder: string[] = [];
  for (const [key, list] of byKey) {
    list.sort((a, b) => a.start - b.start);
    let last: Hold | undefined;
    for (const h of list.filter((x) => !x.late)) {
      if (last !== undefined && h.start < last.end) overlaps.push(`${key}: ${fmt(last)} and ${fmt(h)} overlap by ${(Math.min(last.end, h.end) - h.start).toFixed(1)} ms`);
      if (last !== undefined && h.token <= last.token) tokenOrder.push(`${key}: ${fmt(h)} after ${fmt(last)}`);
      if (last === undefined || h.end > last.end) last = h;
    }
  }
  const outlived = holds.filter((h) => h.how === 'lease expired' || h.how === 'session ended (node lapsed)');
  t.diagnostic(`holds that outlived their lease (its TTL, or its session ended by a node lapse): ${outlived.length}${outlived.length === 0 ? '' : `: ${outlived.slice(0, 5).map(fmt).join('; ')}`}`);
  const lateGrants = holds.filter((h) => h.late);
  t.diagnostic(`grants that reached their holder after the engine had ended the lease (not holds; the fenced resource must turn a stale one away): ${lateGrants.length}${lateGrants.length === 0 ? '' : `: ${lateGrants.slice(0, 5).map(fmt).join('; ')}`}`);
  const unfreed = holds.filter((h) => h.how === 'never freed').map(fmt);
  assert.deepEqual(unfreed, [], 'a hold of a worker that was not killed was never freed');
  assert.deepEqual(overlaps.slice(0, 20), [], `${overlaps.length} times two holders held one key at once (monotonic ms)`);
  assert.deepEqual(tokenOrder.slice(0, 20), [], 'a later holder had a smaller token');

  // 2. Fencing tokens: each handed out once per key, and strictly increasing as the protected resource saw them.
  const seenTokens = new Map<string, string>();
  const twice: string[] = [];
  for (const h of holds) {
    const id = `${h.key} ${h.token}`;
    if (seenTokens.has(id)) twice.push(`${id}: ${seenTokens.get(id)} and ${h.holder}`);
    seenTokens.set(id, h.holder);
  }
  assert.deepEqual(twice, [], 'a token was handed out twice');
  // The resource is fenced, as a resource a lease guards should be: it takes a write only with a
  // token above every one it took before. It may turn one away only from a
  // grant that reached its holder after the engine had ended the lease.
  const lateIds = new Set(lateGrants.map((h) => `${h.key} ${h.token}`));
  for (const key of [...byKey.keys()]) {
    const seen = readFileSync(join(dir, `resource-${key}.jsonl`), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { token: number; by: string });
    const back: string[] = [];
    let newest: { token: number; by: string } | undefined;
    for (const [i, s] of seen.entries()) {
      if (newest === undefined || s.token > newest.token) newest = s;
      else if (!lateIds.has(`${key} ${s.token}`)) back.push(`#${i}: token ${s.token} from ${s.by} after ${newest.token} from ${newest.by}`);
    }
    assert.deepEqual(back, [], `the protected resource of ${key} saw its tokens go backwards`);
    const unknown = seen.filter((s) => seenTokens.get(`${key} ${s.token}`) !== s.by);
    assert.deepEqual(unknown, [], `the resource of ${key} saw writes no hold accounts for`);
  }
  const perKey = Object.fromEntries([...byKey].map(([k, l]) => [k, l.length]));
  assert.ok(count('hold') >= 30, `only ${count('hold')} holds: the run did too little to prove anything (${JSON.stringify(perKey)})`);

  // 3. Tasks: every one done, exactly once, by the completion that was acknowledged; every acknowledged add there.
  const rows = await sql<{ id: number; title: string; status: string; result: string | null; claim_token: number }>(url, 'SELECT id::int AS id, title, status, result, claim_token::int AS claim_token FROM baton.tasks ORDER BY id');
  const byId = new Map(rows.map((r) => [r.id, r]));
  const notDone = rows.filter((r) => r.status !== 'done');
  assert.deepEqual(notDone, [], 'tasks left not done');
  const tried = new Set(all.filter(({ l }) => l[0] === 'try-add').map(({ l }) => l[1]!));
  const acked = [...seeded.map((s) => ({ id: s.id, title: s.title, by: 'the test' })), ...all.filter(({ l }) => l[0] === 'added').map(({ w, l }) => ({ id: Number(l[1]), title: l[2]!, by: w.name }))];
  const missing = acked.filter((a) => byId.get(a.id)?.title !== a.title);
  assert.deepEqual(missing, [], 'an acknowledged task is missing');
  const seedTitles = new Set(seeded.map((s) => s.title));
  const phantom = rows.filter((r) => !seedTitles.has(r.title) && !tried.has(r.title));
  assert.deepEqual(phantom, [], 'tasks nobody added');
  const doneBy = new Map<number, string>();
  const doneTwice: string[] = [];
  const wrongResult: string[] = [];
  for (const { w, l } of all.filter(({ l }) => l[0] === 'done')) {
    const id = Number(l[1]);
    const token = Number(l[2]);
    if (doneBy.has(id)) doneTwice.push(`task ${id}: acknowledged to ${doneBy.get(id)} and to ${w.name}`);
    doneBy.set(id, w.name);
    const row = byId.get(id);
    const result = row?.result == null ? undefined : (JSON.parse(row.result) as { by: string; token: number });
    if (result?.by !== w.name || result.token !== token || row?.claim_token !== token) wrongResult.push(`task ${id}: acknowledged to ${w.name} (token ${token}), recorded ${row?.result} (claim token ${row?.claim_token})`);
  }
  assert.deepEqual(doneTwice, [], 'a task was completed twice');
  assert.deepEqual(wrongResult, [], 'an acknowledged completion is not the one recorded');
  const attempts = new Set(all.filter(({ l }) => l[0] === 'try-done').map(({ w, l }) => `${l[1]} ${l[2]} ${w.name}`));
  const fromNowhere = rows.filter((r) => {
    const result = JSON.parse(r.result ?? 'null') as { by: string; token: number } | null;
    return result === null || !attempts.has(`${r.id} ${result.token} ${result.by}`);
  });
  assert.deepEqual(fromNowhere.slice(0, 10), [], 'a task was completed by no completion any worker attempted');
  const [eventsKept] = await sql<{ first: number; n: number }>(url, 'SELECT min(seq)::int AS first, count(*)::int AS n FROM baton.events');
  assert.equal(eventsKept?.first, 1, 'the event log was pruned: the event checks below need all of it');
  const completedEvents = await sql<{ key: string; n: number }>(url, `SELECT key, count(*)::int AS n FROM baton.events WHERE type = 'task.completed' GROUP BY key`);
  assert.equal(completedEvents.length, rows.length, 'a task.completed event per task');
  assert.deepEqual(completedEvents.filter((e) => e.n !== 1), [], 'a task completed more than once (task.completed events)');

  // 4. The budget: what the engine guarantees (src/engine/budgets.ts) is that no reservation is granted past
  // the limit (used + live reservations + the new estimate), so commits within their estimates never take
  // used past it. Checked at every grant and every commit, replaying the event log in commit order (seq).
  const [status] = await admin.budgetStatus({ model: 'budgeted' });
  assert.ok(status, 'the budget is there');
  t.diagnostic(`budget: used ${status.used} + reserved ${status.reserved} of ${status.limit} (raised ${budgetRaises} times); ${count('reserved')} reservations granted, ${count('refused')} refused, ${count('committed')} committed, ${count('cancelled')} cancelled`);
  assert.ok(status.used + status.reserved <= status.limit && !status.exceeded, `the budget is over its limit: ${JSON.stringify(status)}`);
  const exceeded = await sql(url, `SELECT seq, type, data FROM baton.events WHERE type IN ('tokens.exceeded', 'tokens.overshoot')`);
  assert.deepEqual(exceeded, [], 'the budget was exceeded, or a commit overshot its estimate');
  assert.deepEqual(all.filter(({ l }) => l[0] === 'committed' && l[3] !== 'within').map(({ l }) => l.join(' ')), [], 'a commit overshot');
  const budgetEvents = await sql<{ seq: number; at: string; type: string; key: string; data: string }>(
    url,
    `SELECT seq::int AS seq, at::bigint AS at, type, key, data FROM baton.events WHERE type IN ('budget.set', 'tokens.reserved', 'tokens.released', 'tokens.updated') ORDER BY seq`,
  );
  let limit = 0;
  let used = 0;
  const outstanding = new Map<string, { estimate: number; expiresAt: number }>();
  const pastLimit: string[] = [];
  for (const e of budgetEvents) {
    const data = JSON.parse(e.data) as { limit?: number; model?: string | null; estimate?: number; expiresAt?: number; promptTokens?: number; completionTokens?: number; reservationId?: string };
    const at = Number(e.at);
    for (const [id, r] of outstanding) if (r.expiresAt <= at) outstanding.delete(id); // expired: swept, or no longer counted
    const reserved = [...outstanding.values()].reduce((sum, r) => sum + r.estimate, 0);
    if (e.type === 'budget.set' && e.key === 'model:budgeted') limit = data.limit!;
    else if (e.type === 'tokens.reserved' && data.model === 'budgeted') {
      if (used + reserved + data.estimate! > limit) pastLimit.push(`seq ${e.seq}: reservation ${e.key} of ${data.estimate} granted with used ${used} + reserved ${reserved} of limit ${limit}`);
      outstanding.set(e.key, { estimate: data.estimate!, expiresAt: data.expiresAt! });
    } else if (e.type === 'tokens.released') outstanding.delete(e.key);
    else if (e.type === 'tokens.updated' && data.model === 'budgeted') {
      if (data.reservationId !== undefined) outstanding.delete(data.reservationId);
      used += data.promptTokens! + data.completionTokens!;
      if (used > limit) pastLimit.push(`seq ${e.seq}: a commit took used to ${used}, past limit ${limit}`);
    }
  }
  assert.deepEqual(pastLimit.slice(0, 20), [], `${pastLimit.length} times the budget's limit was passed (replaying the event log)`);
  assert.equal(used, status.used, "the event log's usage adds up to the budget's");
  assert.ok(count('refused') > 0, `no reservation was refused: the run never reached the limit (${status.used} of ${status.limit})`);
  assert.ok(count('committed') > 0, 'no reservation was committed');

  // 5. Every acknowledged usage is recorded, and nothing more than was attempted.
  const usage = await sql<{ agent: string; model: string; n: number }>(url, 'SELECT agent, model, sum(prompt_tokens + completion_tokens)::int AS n FROM baton.token_usage GROUP BY agent, model');
  const usageWrong: string[] = [];
  for (const w of workers) {
    const lines = logs.get(w.name)!.lines;
    const sum = (kind: string, at: number): number => lines.filter((l) => l[0] === kind).reduce((s, l) => s + Number(l[at]), 0);
    const committedIds = new Set(lines.filter((l) => l[0] === 'committed').map((l) => l[1]));
    const ackedBudgeted = sum('committed', 2);
    const triedBudgeted = lines.filter((l) => l[0] === 'try-commit' && !committedIds.has(l[1])).reduce((s, l) => s + Number(l[2]), 0);
    const ackedFree = sum('reported', 1);
    const triedFree = sum('try-report', 1) - ackedFree;
    const recorded = (model: string): number => usage.find((u) => u.agent === w.name && u.model === model)?.n ?? 0;
    if (recorded('budgeted') < ackedBudgeted || recorded('budgeted') > ackedBudgeted + triedBudgeted) usageWrong.push(`${w.name} budgeted: recorded ${recorded('budgeted')}, acknowledged ${ackedBudgeted}, unknown ${triedBudgeted}`);
    if (recorded('free') < ackedFree || recorded('free') > ackedFree + triedFree) usageWrong.push(`${w.name} free: recorded ${recorded('free')}, acknowledged ${ackedFree}, unknown ${triedFree}`);
  }
  assert.deepEqual(usageWrong, [], 'usage recorded differs from what was acknowledged');
  const budgetedTotal = usage.filter((u) => u.model === 'budgeted').reduce((s, u) => s + u.n, 0);
  assert.equal(status.used, budgetedTotal, "the budget's used tokens are the usage recorded under it");

  // 6. The dead daemon: its sessions ended, its lease and claim came back, within its node TTL plus a sweep.
  const bound = NODE_TTL_MS + SWEEP_MS + RECOVERY_SLACK_MS;
  assert.ok(waiterToken > stickyHeld.token, `the waiter's token ${waiterToken} is not past the dead holder's ${stickyHeld.token}`);
  assert.ok(recoveryMs > 0, `'sticky' came back ${Math.round(-recoveryMs)} ms before its daemon's kill: its node lapsed while it was alive (heartbeat lags: ${JSON.stringify(Object.fromEntries(heartbeatLag))})`);
  assert.ok(recoveryMs <= bound, `'sticky' came back ${Math.round(recoveryMs)} ms after its daemon's kill (bound ${bound} ms)`);
  assert.doesNotMatch(stickyCheck, /^check held/, "the dead daemon's client still holds 'sticky'");
  const [node] = await sql<{ id: string; hb: string }>(url, 'SELECT id, heartbeat_at::bigint AS hb FROM baton.nodes WHERE pid = $1', [victimPid]);
  assert.ok(node, `no node row of daemon ${victim} (pid ${victimPid})`);
  // Its sessions still live at the kill: the sticky holder's and those of its other clients (ended by its node lapsing, or
  // by a sweep that found the client's process gone: a client killed just before).
  const ended = await sql<{ id: string; name: string; ended_at: string | null; end_reason: string | null }>(
    url,
    'SELECT id, name, ended_at::bigint AS ended_at, end_reason FROM baton.sessions WHERE (node_id = $1 OR id = $2) AND (ended_at IS NULL OR ended_at >= $3)',
    [node.id, stickyHeld.sessionId, daemonKilledWall],
  );
  t.diagnostic(`daemon ${victim}'s last heartbeat ${daemonKilledWall - Number(node.hb)} ms before its kill; its sessions ended ${ended.map((s) => `${Number(s.ended_at) - daemonKilledWall} ms (${s.end_reason})`).join(', ')} after it`);
  const late = ended.filter((s) => s.ended_at === null || Number(s.ended_at) - daemonKilledWall > bound);
  assert.deepEqual(late, [], `sessions of the dead daemon not ended within ${bound} ms of its kill`);
  assert.match(ended.find((s) => s.id === stickyHeld.sessionId)?.end_reason ?? '', /node lapsed/, "the sticky holder's session ended by its node lapsing");
  if (stickyHeld.taskId !== null) {
    const [requeued] = await sql<{ at: string }>(url, `SELECT at::bigint AS at FROM baton.events WHERE type = 'task.requeued' AND key = $1 ORDER BY seq LIMIT 1`, [String(stickyHeld.taskId)]);
    assert.ok(requeued, `the dead daemon's claim on task ${stickyHeld.taskId} never came back`);
    const claimBackMs = Number(requeued.at) - daemonKilledWall;
    t.diagnostic(`its claim on task ${stickyHeld.taskId} came back ${claimBackMs} ms after the kill`);
    assert.ok(claimBackMs <= bound, `the dead daemon's claim came back ${claimBackMs} ms after the kill (bound ${bound} ms)`);
  }
  const [lapsedElsewhere] = await sql<{ n: number }>(url, `SELECT count(*)::int AS n FROM baton.sessions WHERE end_reason LIKE '%node lapsed%' AND node_id IS DISTINCT FROM $1 AND id <> $2`, [node.id, stickyHeld.sessionId]);
  t.diagnostic(`sessions of live daemons ended as 'node lapsed' (their daemon's heartbeat lagged past the node TTL: load, or the PostgreSQL restart): ${lapsedElsewhere?.n}`);
  t.diagnostic(`total ${Math.round(mono() - began)} ms`);
});
