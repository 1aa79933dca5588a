// A claim of many tasks commits, then reads the tasks outside the write lock.
// A task taken from the claimer in between is left out of what claim returns.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openCoordinator } from '../../src/index.ts';
import { Engine } from '../../src/engine/engine.ts';
import { openSqliteStore } from '../../src/stores/sqlite/sqlite-store.ts';
import type { Store } from '../../src/stores/store.ts';

const dir = mkdtempSync(join(tmpdir(), 'baton-claim-read-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The store, with a hook run once: after its next write commits, before the read that follows. */
function withHook(store: Store): { store: Store; afterNextWrite(fn: () => Promise<void>): void } {
  let hook: (() => Promise<void>) | undefined;
  let armed: (() => Promise<void>) | undefined;
  const hooked = new Proxy(store, {
    get(target, name) {
      const value = Reflect.get(target, name, target) as unknown;
      if (name === 'write') {
        return async (...args: Parameters<Store['write']>) => {
          const result = await target.write(...args);
          if (hook !== undefined) {
            armed = hook;
            hook = undefined;
          }
          return result;
        };
      }
      if (name === 'read') {
        return async (...args: Parameters<Store['read']>) => {
          const run = armed;
          armed = undefined;
          if (run) await run();
          return target.read(...args);
        };
      }
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { store: hooked, afterNextWrite: (fn) => (hook = fn) };
}

test('a task cancelled between a claim of many and its read is left out; the others are claimed', async () => {
  const path = join(dir, 'q.db');
  const { store, afterNextWrite } = withHook(await openSqliteStore(path));
  const engine = new Engine(store);
  const other = await openCoordinator({ url: `sqlite:${path}` });
  try {
    const s = await engine.register({ name: 'claimer' });
    const tasks = await engine.addTasks(Array.from({ length: 40 }, (_, i) => ({ title: `t${i}` })));
    const victim = tasks[7]!;
    await engine.sweepIfDue(); // so that the claim's own write is the next one
    afterNextWrite(async () => {
      // Another process, right after the claim's commit: the task is claimed by then.
      assert.equal((await other.getTask(victim.id)).status, 'claimed');
      await other.cancel(victim.id, { reason: 'not needed' });
    });
    const claims = await engine.claim(s.id, { n: 40 });
    assert.equal(claims.length, 39);
    assert.ok(!claims.some((x) => x.taskId === victim.id), 'the cancelled task is not handed out');
    assert.equal((await engine.getTask(victim.id)).status, 'cancelled');
    const done = await engine.completeMany(claims);
    assert.equal(done.length, 39);
    assert.ok(done.every((t) => t.status === 'done'));
  } finally {
    await other.close();
    await engine.close();
  }
});

test('a task whose claim lapsed and was claimed again by the same session in that window is left out: its token is not the first claim\'s', async () => {
  const path = join(dir, 'reclaimed.db');
  const { store, afterNextWrite } = withHook(await openSqliteStore(path));
  const engine = new Engine(store);
  const other = await openCoordinator({ url: `sqlite:${path}` });
  try {
    const s = await engine.register({ name: 'claimer' });
    const tasks = await engine.addTasks(Array.from({ length: 40 }, (_, i) => ({ title: `t${i}` })));
    const victim = tasks[3]!;
    await engine.sweepIfDue();
    let second: number | undefined;
    afterNextWrite(async () => {
      await new Promise((resolve) => setTimeout(resolve, 60));
      await other.sweep(); // the 40 claims lapsed: all back to ready
      const [again] = await other.claimByIds(s.id, [victim.id]);
      second = again!.token;
    });
    const claims = await engine.claim(s.id, { n: 40, leaseMs: 20 });
    assert.deepEqual(claims, [], 'none of the first claims holds any more');
    const task = await engine.getTask(victim.id);
    assert.equal(task.status, 'claimed');
    assert.equal(task.claimedBy, s.id);
    assert.equal(task.attempts, 2);
    assert.ok(second !== undefined);
    await engine.complete({ taskId: victim.id, token: second });
  } finally {
    await other.close();
    await engine.close();
  }
});
