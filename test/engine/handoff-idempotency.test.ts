// A lease handed to a waiter that gives up before it collects it goes to the
// next in line. The handoff had recorded that lease as the answer to the
// waiter's request (its idempotency key), and a client whose connection
// dropped retries under the same key: the retry must wait afresh, not be told
// it holds a lease that is by now someone else's. The PostgreSQL chaos test
// caught it as a holder with a smaller token after a larger one.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isBatonError, openCoordinator, type Coordinator } from '../../src/index.ts';
import { Databases, startPostgres } from '../../support/postgres.ts';

async function handedThenGivenUp(c: Coordinator): Promise<void> {
  const first = await c.acquire('k', { owner: 'a', ttlMs: 60_000 });
  const gaveUp = new AbortController();
  const waiting = c.acquire('k', { owner: 'b', ttlMs: 60_000, timeoutMs: 10_000, idempotencyKey: 'b-1', signal: gaveUp.signal }).then(
    (lease) => ({ lease }),
    (error: unknown) => ({ error }),
  );
  // Let b get in line, then c behind it.
  for (let i = 0; i < 50 && (await c.getLease('k')).waiters.length < 1; i++) await new Promise((r) => setTimeout(r, 10));
  const next = c.acquire('k', { owner: 'c', ttlMs: 60_000, timeoutMs: 10_000 });
  for (let i = 0; i < 50 && (await c.getLease('k')).waiters.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal((await c.getLease('k')).waiters.length, 2);

  // The release hands the lease to b in its transaction; b gives up before it collects it.
  const released = c.release(first);
  gaveUp.abort();
  await released;
  const outcome = await waiting;
  if ('lease' in outcome) {
    // b collected it before its abort was seen: nothing was taken back, so nothing to check here.
    await c.release(outcome.lease);
    await c.release(await next);
    return handedThenGivenUp(c);
  }
  assert.ok(isBatonError(outcome.error, 'ABORTED'), String(outcome.error));
  const cLease = await next;
  assert.equal(cLease.owner, 'c', 'the lease went on to the next in line');
  assert.ok(cLease.token > first.token);

  // b's client, its connection gone, retries the same request under the same key.
  const retried = await c.acquire('k', { owner: 'b', ttlMs: 60_000, timeoutMs: 0, idempotencyKey: 'b-1' }).then(
    (lease) => `granted token ${lease.token} (c holds ${cLease.token})`,
    (error: unknown) => (isBatonError(error) ? error.code : String(error)),
  );
  assert.equal(retried, 'LOCKED', 'the retry is refused while c holds the key, not answered with the lease taken back');
  await c.release(cLease);
  const later = await c.acquire('k', { owner: 'b', ttlMs: 60_000, timeoutMs: 0, idempotencyKey: 'b-1' });
  assert.ok(later.token > cLease.token, 'once free, the retry takes a new lease with a newer token');
}

test('a waiter handed a lease gives up before collecting it: a retry under its idempotency key waits afresh', async () => {
  const c = await openCoordinator({ url: 'sqlite::memory:' });
  try {
    await handedThenGivenUp(c);
  } finally {
    await c.close();
  }
});

test('the same on PostgreSQL', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'baton-pg-handoff-'));
  const server = await startPostgres(dir);
  try {
    const c = await openCoordinator({ url: await new Databases(server).fresh() });
    try {
      await handedThenGivenUp(c);
    } finally {
      await c.close();
    }
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
