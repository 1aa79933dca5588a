// baton/testing, used as a user's unit tests would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { JsonFile } from '../../src/index.ts';
import { ScriptedLockService, runConcurrent, verifyNoLostUpdates } from '../../src/testing/index.ts';
import { tempDir } from '../helpers/procs.ts';

test('runConcurrent collects results and errors in order', async () => {
  const outcomes = await runConcurrent([async () => 1, async () => Promise.reject(new Error('no')), () => 3]);
  assert.equal(outcomes[0]!.result, 1);
  assert.equal(outcomes[1]!.error?.message, 'no');
  assert.equal(outcomes[2]!.result, 3);
});

test('verifyNoLostUpdates catches an unlocked read-modify-write and passes a locked one', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'n.json');
  writeFileSync(file, '0');
  const increments = Array.from({ length: 20 }, () => (n: number) => n + 1);
  // Unprotected: every read happens before any write, so updates are lost.
  const unlocked = await verifyNoLostUpdates(
    0,
    increments,
    async () => JSON.parse(readFileSync(file, 'utf8')) as number,
    async (n) => {
      await new Promise((r) => setTimeout(r, 1));
      writeFileSync(file, JSON.stringify(n));
    },
  );
  assert.equal(unlocked.success, false);
  assert.ok(unlocked.actual < 20);

  const doc = new JsonFile<number>(join(dir, 'locked.json'), { defaultValue: 0 });
  const locked = await verifyNoLostUpdates(0, increments, () => doc.read(), undefined, { update: (fn) => doc.update(fn) });
  assert.deepEqual({ success: locked.success, actual: locked.actual }, { success: true, actual: 20 });
});

test('ScriptedLockService excludes for real and plays scripted outcomes', async () => {
  const locks = new ScriptedLockService();
  const first = await locks.acquire('/repo/queue.json');
  assert.ok(first.success);
  const contended = await locks.acquire('/repo/queue.json', { timeout: 0 });
  assert.equal(contended.success, false);
  if (!contended.success) assert.equal(contended.reason, 'locked');
  const waiting = locks.acquire('/repo/queue.json', { timeout: 1_000 });
  await first.handle.release();
  assert.ok((await waiting).success);

  locks.reset();
  locks.script('/repo/a', 'timeout', 'error');
  const t1 = await locks.acquire('/repo/a');
  const t2 = await locks.acquire('/repo/a');
  const t3 = await locks.acquire('/repo/a');
  assert.deepEqual([t1.success || t1.reason, t2.success || t2.reason, t3.success], ['timeout', 'error', true]);
  await assert.rejects(locks.withLock('/repo/b', () => 1, { timeout: -1 }), /timeout must be/);

  locks.setLockBehavior('/repo/c', 'error');
  await assert.rejects(locks.withLock('/repo/c', () => 1), (e: { code: string }) => e.code === 'IO_ERROR');
  locks.simulateContention('/repo/d');
  assert.equal(await locks.isLocked('/repo/d'), true);
  assert.equal((await locks.acquire('/repo/d', { timeout: 10 })).success, false);
  locks.clearContention('/repo/d');
  assert.equal(await locks.withLock('/repo/d', () => 'ok'), 'ok');
  assert.ok(locks.calls.some((c) => c.op === 'release'));
});

test('ScriptedLockService: a test can make a holder lose its lock, and waiters can be aborted', async () => {
  const locks = new ScriptedLockService();
  const held = await locks.acquire('/repo/state.json');
  assert.ok(held.success);
  const lost = new Promise<unknown>((resolve) => held.handle.signal.addEventListener('abort', () => resolve(held.handle.signal.reason)));
  const waiter = locks.acquire('/repo/state.json', { timeout: 5_000 });
  assert.equal(locks.loseLock('/repo/state.json', 'stalled past its TTL'), 1);
  const reason = (await lost) as { code: string; message: string };
  assert.equal(reason.code, 'LOCK_LOST');
  assert.match(reason.message, /stalled past its TTL/);
  assert.equal(held.handle.isHeld(), false);
  const next = await waiter;
  assert.ok(next.success, 'a waiter takes the lock once its holder lost it');
  await held.handle.release(); // a no-op: it must not free the new holder's lock
  assert.equal(await locks.isLocked('/repo/state.json'), true);
  assert.equal(locks.loseLock('/repo/free.json'), 0);

  const controller = new AbortController();
  const aborted = locks.acquire('/repo/state.json', { timeout: 5_000, signal: controller.signal });
  setTimeout(() => controller.abort(), 10);
  const result = await aborted;
  assert.equal(result.success, false);
  if (!result.success) assert.equal(result.code, 'ABORTED');
  await next.handle.release();
  assert.equal(await locks.isLocked('/repo/state.json'), false);
  assert.deepEqual(locks.calls.filter((c) => c.op === 'lose').map((c) => c.path), ['/repo/state.json', '/repo/free.json']);
});
