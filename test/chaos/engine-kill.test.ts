// kill -9 of random workers claiming from one SQLite file: their sessions end
// when their processes are gone, their claims come back promptly, and every
// task is still completed exactly once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openCoordinator } from '../../src/index.ts';
import { sleep, startNode, tempDir, worker, type Running } from '../helpers/procs.ts';

test('kill -9 of random claimers: claims come back promptly and every task completes exactly once', { timeout: 180_000 }, async (t) => {
  const db = join(tempDir(t), 'baton.db');
  const c = await openCoordinator({ url: `sqlite:${db}` });
  const N = 6000;
  const KILLS = 20;
  await c.addTasks(Array.from({ length: N }, (_, i) => ({ title: `t${i}`, maxAttempts: 1000 })));
  const spawn = (): Running => startNode(worker('engine'), ['claimer', db, '1', '150', '20']);
  const all: Running[] = [];
  let live: Running[] = [];
  for (let i = 0; i < 8; i++) live.push(spawn());
  all.push(...live);
  const kills: Array<{ session: string; at: number }> = [];
  for (let k = 0; k < KILLS; k++) {
    await sleep(100 + Math.random() * 200);
    const victim = live[Math.floor(Math.random() * live.length)]!;
    const session = (await victim.line('session ')).split(' ')[1]!;
    // Kill it at work: after its first completion, at a random point of a later claim.
    await victim.line('done ', 30_000);
    await sleep(Math.random() * 20);
    const at = Date.now();
    victim.child.kill('SIGKILL');
    await victim.done;
    kills.push({ session, at });
    const replacement = spawn();
    all.push(replacement);
    live = live.map((p) => (p === victim ? replacement : p));
  }
  // Enough tasks that every kill lands on a worker at work, not one that ran out of tasks.
  const leftAtLastKill = (await c.taskCounts()).ready;
  assert.ok(leftAtLastKill > 0, 'the queue ran dry before the last kill: more tasks are needed');
  for (const p of live) assert.equal((await p.done).code, 0, (await p.done).stderr);

  const done = all.flatMap((p) => p.lines().filter((l) => l.startsWith('done ')).map((l) => Number(l.split(' ')[1])));
  assert.equal(new Set(done).size, done.length, 'a task reported completed twice');
  const completed = await c.events({ types: ['task.completed'], limit: 10 * N });
  const perTask = new Map<string, number>();
  for (const e of completed) perTask.set(e.key!, (perTask.get(e.key!) ?? 0) + 1);
  assert.equal(perTask.size, N, 'every task completed');
  assert.ok([...perTask.values()].every((n) => n === 1), 'every task completed exactly once');
  assert.equal((await c.listTasks({ status: 'done', limit: N })).length, N);

  // How soon each killed worker's session ended (and its claim went back).
  const ended = await c.events({ types: ['agent.ended'], limit: 10 * N });
  const delays = kills.map((k) => {
    const e = ended.find((ev) => ev.key === k.session);
    assert.ok(e, `session ${k.session} of a killed worker never ended`);
    assert.equal(e.data.reason, 'process exited');
    return e.at - k.at;
  });
  const requeued = (await c.events({ types: ['task.requeued'], limit: 10 * N })).length;
  delays.sort((a, b) => a - b);
  t.diagnostic(`${KILLS} kills among 8 workers (${leftAtLastKill} of ${N} tasks left at the last); ${requeued} claims requeued; session ended after the kill: median ${delays[delays.length >> 1]} ms, max ${delays.at(-1)} ms`);
  assert.ok(delays.at(-1)! <= 2_000, `a dead worker's session ended only after ${delays.at(-1)} ms`);
  await c.close();
});
