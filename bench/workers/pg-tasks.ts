// One baton worker process on PostgreSQL (bench/postgres.ts): library mode
// (openCoordinator on the url), or through a daemon with the SDK (baton/client).
// Usage: pg-tasks.ts <url | socket:<path>> <ms> <n> <loops>
// Two phases, one after the other, in every process at once:
//   single  claim n 1, then complete, one task at a time, for <ms>
//   batch   <loops> claim loops, each: claim <n>, then completeMany, until the queue is empty
// Warms up on a queue of its own, prints 'ready', starts on 'go' (stdin), then prints one line
// a phase: `single|batch <count> <startMs> <endMs> <stats json>` (times on the shared
// monotonic clock; stats: this process's CPU time in the phase, and in library mode the
// store's transactions and statements in it, and its NOTIFYs).
import { RemoteCoordinator } from '../../src/client/index.ts';
import type { Coordinator } from '../../src/coordinator.ts';
import { Engine, openCoordinator } from '../../src/index.ts';
import type { PostgresStore } from '../../src/stores/postgres/postgres-store.ts';
import { readyThenGo, sharedClockMs } from './go.ts';

const [target, msArg, nArg, loopsArg] = process.argv.slice(2) as [string, string, string, string];
const batch = Number(nArg);
let c: Coordinator;
let store: PostgresStore | undefined;
if (target.startsWith('socket:')) {
  c = new RemoteCoordinator({ socketPath: target.slice('socket:'.length) });
} else {
  const engine = await openCoordinator({ url: target });
  if (!(engine instanceof Engine)) throw new Error('expected the embedded engine');
  c = engine;
  store = engine.store as PostgresStore;
}
const session = await c.register({ name: `bench-${process.pid}`, ttlMs: 600_000 });

// Warm the code paths and the prepared statements on a queue of our own, both phases' calls.
// (Batches of 40 take the same statements as larger ones: claims of 32 or more are made in steps.)
const warmQueue = `warm-${process.pid}`;
const warmBatch = Math.min(batch, 40);
await c.addTasks(Array.from({ length: warmBatch * 2 + 10 }, (_, i) => ({ queue: warmQueue, title: `warm ${i}` })));
for (let i = 0; i < 10; i++) {
  const [claim] = await c.claim(session.id, { queue: warmQueue, n: 1 });
  await c.complete(claim!);
}
for (;;) {
  const claims = await c.claim(session.id, { queue: warmQueue, n: warmBatch });
  if (claims.length === 0) break;
  await c.completeMany(claims);
}

const cpuMs = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
const counters = (): Record<string, number> => ({ cpuMs: cpuMs(), ...(store === undefined ? {} : { ...store.stats, notifies: store.notifications.sent }) });
const since = (before: Record<string, number>): Record<string, number> => {
  const now = counters();
  return Object.fromEntries(Object.entries(now).map(([k, v]) => [k, v - (before[k] ?? 0)]));
};

await readyThenGo();
{
  const before = counters();
  const start = sharedClockMs();
  const until = start + Number(msArg);
  let done = 0;
  while (sharedClockMs() < until) {
    const [claim] = await c.claim(session.id, { n: 1 });
    if (claim === undefined) throw new Error('the queue ran dry: more jobs needed (BENCH_PG_JOBS)');
    await c.complete(claim);
    done++;
  }
  process.stdout.write(`single ${done} ${start} ${sharedClockMs()} ${JSON.stringify(since(before))}\n`);
}
{
  const before = counters();
  const start = sharedClockMs();
  let done = 0;
  let end = start;
  await Promise.all(
    Array.from({ length: Number(loopsArg) }, async () => {
      for (;;) {
        const claims = await c.claim(session.id, { n: batch });
        if (claims.length === 0) return;
        // The completions go back in one transaction, as graphile-worker batches its own.
        await c.completeMany(claims);
        done += claims.length;
        end = sharedClockMs();
      }
    }),
  );
  process.stdout.write(`batch ${done} ${start} ${end} ${JSON.stringify(since(before))}\n`);
}
await c.endSession(session.id);
await c.close();
