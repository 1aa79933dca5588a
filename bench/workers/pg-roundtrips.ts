// Round trips per operation of baton on PostgreSQL (bench/postgres.ts), one process.
// Usage: pg-roundtrips.ts <url> <reps>
// Counts what node-postgres actually sends: every Client.query call is wrapped.
//   statements  queries sent on the store's pool (BEGIN, SET LOCAL, the clock, each lock,
//               each engine statement, COMMIT/ROLLBACK), without the NOTIFY after a commit
//   round trips groups of those statements sent back to back: a query sent before any reply
//               arrived on its connection since the query before it travels with that one
//               (the pipelined BEGIN + SET LOCAL + clock; a lock and the statement after it);
//               one that had to wait for a reply starts a new round trip
//   notifies    the NOTIFY announcing a commit (notifier.ts): its own round trip on another
//               pooled connection, after the commit and off the caller's path
// Each operation is counted alone (counters read before and after it); prints
// `result <json>`: per operation, the median and mean of each count, and its median latency.
import pg from 'pg';
import { Engine, openCoordinator } from '../../src/index.ts';
import type { PostgresStore } from '../../src/stores/postgres/postgres-store.ts';

const [url, repsArg] = process.argv.slice(2) as [string, string];
const reps = Number(repsArg);
const batches = Math.max(3, Math.ceil(reps / 10));

const counts = { statements: 0, roundTrips: 0, notifies: 0, other: 0 };
type Query = (this: pg.Client, ...args: unknown[]) => unknown;
const original = pg.Client.prototype.query as unknown as Query;
/** Per connection: whether a reply arrived since its last query was sent. */
const replied = new WeakMap<pg.Client, { since: boolean }>();
/** While set: the statements of the operation being traced, grouped by round trip. */
let trace: string[][] | undefined;
(pg.Client.prototype as unknown as { query: Query }).query = function (this: pg.Client, ...args: unknown[]): unknown {
  const config = args[0] as { name?: string } | string | undefined;
  const name = typeof config === 'object' && config !== null ? config.name : undefined;
  const pipelined = (this as unknown as { pipeline?: boolean }).pipeline === true;
  let state = replied.get(this);
  if (state === undefined) {
    const s = { since: true };
    state = s;
    replied.set(this, s);
    (this as unknown as { connection: { stream: NodeJS.EventEmitter } }).connection.stream.on('data', () => (s.since = true));
  }
  if (!pipelined) counts.other++; // the listener's own connection (LISTEN, its heartbeat)
  else if (name === 'baton_notify') counts.notifies++;
  else {
    counts.statements++;
    if (state.since) counts.roundTrips++;
    if (trace !== undefined) {
      const text = typeof config === 'string' ? config : (config as { text?: string } | undefined)?.text ?? '';
      const label = name !== undefined ? name.replace(/^baton_/, '') : text.split(' ').slice(0, text.startsWith('SET') ? 2 : 1).join(' ');
      if (state.since || trace.length === 0) trace.push([]);
      trace[trace.length - 1]!.push(label);
    }
  }
  state.since = false;
  return original.apply(this, args);
};

// No sweep timer in the way (the engine's background sweeps are timed, not per operation);
// claims still look whether a sweep is due, at most every 50 ms: those reads show in the means.
const c = await openCoordinator({ url, sweepIntervalMs: 3_600_000 });
if (!(c instanceof Engine)) throw new Error('expected the embedded engine');
const store = c.store as PostgresStore;
const session = await c.register({ name: 'roundtrips', ttlMs: 600_000, autoHeartbeat: false });
await c.setBudget({ limit: 1e15 });
await c.addTasks(Array.from({ length: reps * 2 + 20 }, (_, i) => ({ queue: 'one', title: `t${i}` })));
await c.addTasks(Array.from({ length: 2 * 100 * batches + 100 }, (_, i) => ({ queue: 'batch', title: `b${i}` })));

interface Sample {
  statements: number;
  roundTrips: number;
  notifies: number;
  writes: number;
  reads: number;
  ms: number;
  /** The statements it sent (names as the store prepares them), grouped by round trip. */
  trace: string[][];
}
const samples = new Map<string, Sample[]>();
const yieldOnce = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function measure<T>(op: string, fn: () => Promise<T>): Promise<T> {
  await yieldOnce(); // the NOTIFY of the operation before is sent by now
  const before = { ...counts, writes: store.stats.writes, reads: store.stats.reads };
  trace = [];
  const t0 = performance.now();
  const value = await fn();
  const ms = performance.now() - t0;
  const calls = trace;
  trace = undefined;
  await yieldOnce();
  const list = samples.get(op) ?? [];
  list.push({
    statements: counts.statements - before.statements,
    roundTrips: counts.roundTrips - before.roundTrips,
    notifies: counts.notifies - before.notifies,
    writes: store.stats.writes - before.writes,
    reads: store.stats.reads - before.reads,
    ms,
    trace: calls,
  });
  samples.set(op, list);
  return value;
}

for (let round = 0; round < 2; round++) {
  // Round 0 warms up (prepared statements, first-use paths); round 1 is counted.
  if (round === 1) samples.clear();
  for (let i = 0; i < reps; i++) {
    const lease = await measure('acquire', () => c.acquire(`rt/k${i % 20}`, { owner: 'rt', timeoutMs: 5_000 }));
    await measure('release', () => c.release(lease));
  }
  for (let i = 0; i < reps; i++) {
    const [claim] = await measure('claim (n 1)', () => c.claim(session.id, { queue: 'one', n: 1 }));
    if (claim === undefined) throw new Error('queue one ran dry');
    await measure('complete', () => c.complete(claim));
  }
  for (let i = 0; i < batches; i++) {
    const claims = await measure('claim (n 100)', () => c.claim(session.id, { queue: 'batch', n: 100 }));
    if (claims.length !== 100) throw new Error('queue batch ran dry');
    await measure('completeMany (100)', () => c.completeMany(claims));
  }
  for (let i = 0; i < reps; i++) {
    const r = await measure('reserve', () => c.reserve({ agent: 'rt', model: 'm', estimate: 10 }));
    await measure('commitReservation', () => c.commitReservation(r.id, { promptTokens: 5, completionTokens: 3 }));
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const result = [...samples].map(([op, list]) => ({
  op,
  n: list.length,
  statements: [median(list.map((s) => s.statements)), mean(list.map((s) => s.statements))],
  roundTrips: [median(list.map((s) => s.roundTrips)), mean(list.map((s) => s.roundTrips))],
  notifies: mean(list.map((s) => s.notifies)),
  writes: mean(list.map((s) => s.writes)),
  reads: mean(list.map((s) => s.reads)),
  ms: median(list.map((s) => s.ms)),
  // A typical call's statements: one with the median number of round trips.
  trace: (list.find((s) => s.roundTrips === median(list.map((t) => t.roundTrips))) ?? list[0]!).trace,
}));

// For orientation, on one plain connection: an empty round trip, and a one-row durable commit (the WAL flush).
const plain = new pg.Client({ connectionString: url });
await plain.connect();
await plain.query('CREATE TABLE IF NOT EXISTS public.rt_commit (n int)');
const time = async (text: string): Promise<number> => {
  const list: number[] = [];
  for (let i = 0; i < 300; i++) {
    const t0 = performance.now();
    await plain.query({ name: text.slice(0, 20), text });
    list.push(performance.now() - t0);
  }
  return median(list.slice(50));
};
const emptyMs = await time('SELECT 1');
const commitMs = await time('INSERT INTO public.rt_commit VALUES (1)');
await plain.end();
process.stdout.write(`result ${JSON.stringify({ ops: result, emptyMs, commitMs })}\n`);
await c.endSession(session.id);
await c.close();
