// A connection cut in the middle of a transaction (pg_terminate_backend, a
// restart, a failover) fails that attempt, never the process: the store runs
// the transaction again on a new connection, and nothing of the cut one holds.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { openCoordinator } from '../../src/index.ts';
import { openPostgresStore } from '../../src/stores/postgres/postgres-store.ts';
import { lockId } from '../../src/stores/postgres/statements.ts';
import { adminQuery, postgresPerFile } from '../../support/postgres.ts';

const postgres = postgresPerFile('baton-pg-loss-');

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('a backend terminated while its transaction waits for a lock: the acquire runs again and succeeds; the process lives', async () => {
  const url = await postgres.databases.fresh();
  const c = await openCoordinator({ url });
  // Another session holds the lock every acquire of "k" takes, so baton's transaction waits inside the database.
  const blocker = new pg.Client({ connectionString: url });
  await blocker.connect();
  await blocker.query('BEGIN');
  await blocker.query('SELECT pg_advisory_xact_lock($1::bigint)', [lockId('lease:k')]);
  try {
    const acquiring = c.acquire('k', { owner: 'me' });
    const db = new URL(url).pathname.slice(1);
    let cut = 0;
    for (let i = 0; i < 100 && cut === 0; i++) {
      await sleep(20);
      const r = await adminQuery(postgres.server, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = 'baton' AND wait_event_type = 'Lock'`, [db]);
      cut = r.rowCount ?? 0;
    }
    assert.equal(cut, 1, "baton's waiting transaction was found and cut");
    await sleep(100);
    await blocker.query('COMMIT');
    const lease = await acquiring;
    assert.equal(lease.token, 1, 'the cut attempt left no token behind');
    assert.equal((await c.getLease('k')).holders.length, 1);
    await c.release(lease);
  } finally {
    await blocker.end();
    await c.close();
  }
});

test('a backend terminated while the transaction is between statements: no unhandled error; the write runs again', async () => {
  const url = await postgres.databases.fresh();
  const store = await openPostgresStore(url, { poolSize: 1 });
  const db = new URL(url).pathname.slice(1);
  let attempts = 0;
  try {
    const value = await store.write(async (tx) => {
      attempts++;
      await tx.run('metaSet', { key: 'k', value: String(attempts) });
      if (attempts === 1) {
        // Cut while this transaction is idle in the database, waiting for us.
        const r = await adminQuery(postgres.server, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = 'baton' AND state = 'idle in transaction'`, [db]);
        assert.equal(r.rowCount, 1);
        await sleep(200); // the socket's end arrives while no query is active
      }
      return (await tx.get<{ value: string }>('metaGet', { key: 'k' }))!.value;
    });
    assert.equal(attempts, 2);
    assert.equal(value, '2', 'the second attempt, and only it, holds');
  } finally {
    await store.close();
  }
});
