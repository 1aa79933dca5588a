// One process of the lease benchmark on PostgreSQL (bench/postgres.ts): acquire + release on a
// random key of <keys>, for <ms>, once for each side given, the sides one after the other.
// Usage: pg-leases.ts <ms> <keys> <side>=<url>...   sides:
//   pg, sqlite  baton's acquire + release (openCoordinator on the url: postgres://, sqlite:)
//   advisory    session-level pg_advisory_lock(key) + pg_advisory_unlock(key) on one connection:
//               the floor for a lock on this database (2 round trips, nothing written, no WAL flush)
//   durable     a lock row taken and given back by two autocommit UPDATEs of the table
//               bench_lease_floor (the parent makes it): the floor for a lock that survives a crash
//               (2 round trips, 2 WAL flushes)
// Warms every side up, prints 'ready', starts on 'go' (stdin). Side i runs from go + i x (ms + 500)
// for ms in every process alike (one clock for all: CLOCK_MONOTONIC), then prints
// `<side> <pairs> <startMs> <endMs>`.
import pg from 'pg';
import { openCoordinator } from '../../src/index.ts';
import { readyThenGo, sharedClockMs } from './go.ts';

const [msArg, keysArg, ...sideArgs] = process.argv.slice(2) as [string, string, ...string[]];
const ms = Number(msArg);
const keys = Number(keysArg);
/** Between two sides: every process has finished the one before (an acquire in flight at its end). */
const GAP_MS = 500;
const pick = (): number => Math.floor(Math.random() * keys);

interface Side {
  name: string;
  pair(key: number): Promise<void>;
  close(): Promise<void>;
}

async function open(name: string, url: string): Promise<Side> {
  if (name === 'pg' || name === 'sqlite') {
    const c = await openCoordinator({ url });
    return {
      name,
      pair: async (key) => {
        const lease = await c.acquire(`k${key}`, { owner: 'bench', timeoutMs: 60_000 });
        await c.release(lease);
      },
      close: () => c.close(),
    };
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const close = (): Promise<void> => client.end();
  if (name === 'advisory') {
    return {
      name,
      pair: async (key) => {
        await client.query({ name: 'lock', text: 'SELECT pg_advisory_lock($1::bigint)', values: [key] });
        await client.query({ name: 'unlock', text: 'SELECT pg_advisory_unlock($1::bigint)', values: [key] });
      },
      close,
    };
  }
  if (name === 'durable') {
    const me = process.pid;
    return {
      name,
      pair: async (key) => {
        // Held by another process (an UPDATE that waited on its row lock, then matched nothing): try again.
        while ((await client.query({ name: 'take', text: 'UPDATE bench_lease_floor SET holder = $2, token = token + 1 WHERE k = $1 AND holder = 0', values: [key, me] })).rowCount !== 1);
        await client.query({ name: 'give', text: 'UPDATE bench_lease_floor SET holder = 0 WHERE k = $1 AND holder = $2', values: [key, me] });
      },
      close,
    };
  }
  throw new Error(`unknown side ${name}`);
}

const sides: Side[] = [];
for (const arg of sideArgs) {
  const at = arg.indexOf('=');
  sides.push(await open(arg.slice(0, at), arg.slice(at + 1)));
}
// Warm up alone (compiled code, prepared statements on every pooled connection), on a key nobody
// else uses (baton: fewer, as all processes warm up at once and its commits queue behind one another).
for (const side of sides) for (let i = 0; i < (side.name === 'pg' ? 30 : 200); i++) await side.pair(keys + 1 + (process.pid % 1000));
await readyThenGo();
const go = sharedClockMs();
for (const [i, side] of sides.entries()) {
  const start = go + i * (ms + GAP_MS);
  const wait = start - sharedClockMs();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  const first = sharedClockMs();
  const until = start + ms;
  let n = 0;
  while (sharedClockMs() < until) {
    await side.pair(pick());
    n++;
  }
  process.stdout.write(`${side.name} ${n} ${first} ${sharedClockMs()}\n`);
}
for (const side of sides) await side.close();
