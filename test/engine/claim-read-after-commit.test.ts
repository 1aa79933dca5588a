// A claim of many tasks commits, then reads the tasks outside the write lock.
// A task taken from the claimer in between is left out of what claim returns.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openCoordinator, type Coordinator } from '../../src/index.ts';
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

/**
 * A claimer (an engine over the hooked store) with a session and 40 ready
 * tasks, and another coordinator on the same file: another process. The
 * next write is the claim's own (the sweep that is due is done first).
 */
async function claimerAndOther(file: string): Promise<{ engine: Engine; other: Coordinator; afterNextWrite(fn: () => Promise<void>): void; session: string; taskIds: number[]; close(): Promise<void> }> {
  const path = join(dir, file);
  const { store, afterNextWrite } = withHook(await openSqliteStore(path));
  const engine = new Engine(store);
  const other = await openCoordinator({ url: `sqlite:${path}` });
  const s = await engine.register({ name: 'claimer' });
  const tasks = await engine.addTasks(Array.from({ length: 40 }, (_, i) => ({ title: `t${i}` })));
  await engine.sweepIfDue();
  const close = async (): Promise<void> => {
    await other.close();
    await engine.close();
  };
  return { engine, other, afterNextWrite, session: s.id, taskIds: tasks.map((t) => t.id), close };
}

test('a task cancelled between a claim of many and its read is left out; the others are claimed', async () => {
  const { engine, other, afterNextWrite, session, taskIds, close } = await claimerAndOther('q.db');
  try {
    const victim = taskIds[7]!;
    afterNextWrite(async () => {
      // Another process, right after the claim's commit: the task is claimed by then.
      assert.equal((await other.getTask(victim)).status, 'claimed');
      await other.cancel(victim, { reason: 'not needed' });
    });
    const claims = await engine.claim(session, { n: 40 });
    assert.equal(claims.length, 39);
    assert.ok(!claims.some((x) => x.taskId === victim), 'the cancelled task is not handed out');
    assert.equal((await engine.getTask(victim)).status, 'cancelled');
    const done = await engine.completeMany(claims);
    assert.equal(done.length, 39);
    assert.ok(done.every((t) => t.status === 'done'));
  } finally {
    await close();
  }
});

test('a task whose claim lapsed and was claimed again by the same session in that window is left out: its token is not the first claim\'s', async () => {
  const { engine, other, afterNextWrite, session, taskIds, close } = await claimerAndOther('reclaimed.db');
  try {
    const victim = taskIds[3]!;
    let second: number | undefined;
    afterNextWrite(async () => {
      await new Promise((resolve) => setTimeout(resolve, 60));
      await other.sweep(); // the 40 claims lapsed: all back to ready
      const [again] = await other.claimByIds(session, [victim]);
      second = again!.token;
    });
    const claims = await engine.claim(session, { n: 40, leaseMs: 20 });
    assert.deepEqual(claims, [], 'none of the first claims holds any more');
    const task = await engine.getTask(victim);
    assert.equal(task.status, 'claimed');
    assert.equal(task.claimedBy, session);
    assert.equal(task.attempts, 2);
    assert.ok(second !== undefined);
    await engine.complete({ taskId: victim, token: second });
  } finally {
    await close();
  }
});
