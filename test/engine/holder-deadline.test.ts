// A holder's own deadline: withLease aborts the work's signal when the TTL
// runs out by the holder's monotonic clock, counted from before it asked and
// less a margin, so the holder stops before the store's clock expires it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openCoordinator } from '../../src/index.ts';
import { holderDeadline } from '../../src/lease-scope.ts';

test('the deadline is when the holder asked plus the TTL less a margin (a tenth of the TTL at most 1 s); none without a TTL', () => {
  assert.equal(holderDeadline(1_000, 60_000), 60_000);
  assert.equal(holderDeadline(1_000, 500), 1_450);
  assert.equal(holderDeadline(1_000, 0), Infinity);
});

test("withLease's signal aborts at the holder's deadline, before the store would expire the lease", async () => {
  const c = await openCoordinator({ url: 'sqlite::memory:' });
  try {
    const asked = performance.now();
    const aborted = await c.withLease('k', { owner: 'me', ttlMs: 2_000 }, async (lease, hold) => {
      assert.ok(hold.deadline <= asked + 1_800 + 1 && hold.deadline >= asked + 1_700, `deadline ${hold.deadline - asked} ms after asking`);
      await new Promise<void>((resolve) => hold.signal.addEventListener('abort', () => resolve(), { once: true }));
      const at = performance.now();
      // By the store's clock the lease is still held when the holder lets go.
      assert.equal((await c.checkLease(lease)).token, lease.token);
      return at - asked;
    });
    assert.ok(aborted >= 1_795, `aborted ${aborted} ms after asking`);
  } finally {
    await c.close();
  }
});
