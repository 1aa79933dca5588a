// Approvals against racing claimers (docs/approvals.md): 8 real processes claim
// from one queue in a loop while this process approves some of its tasks and
// rejects the rest. No task is claimed before its approval (every task.claimed
// event of a task comes after its task.approved event in the log), claims made
// while every task awaits approval find nothing, and a rejected task is never
// claimed. On a SQLite file and on PostgreSQL.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { join } from 'node:path';
import { openCoordinator } from '../../src/index.ts';
import { postgresPerFile } from '../../support/postgres.ts';
import { sleep, startTogether, tempDir, worker } from '../helpers/procs.ts';

const CLAIMERS = 8;
const TASKS = 12;
const REJECTED = 4;
const QUEUE = 'gate';

async function race(t: TestContext, url: string): Promise<void> {
  const c = await openCoordinator({ url });
  t.after(() => c.close());
  await c.setApprovalPolicy({ queue: QUEUE, required: true, by: 'lead' });
  const tasks = await c.addTasks(Array.from({ length: TASKS }, (_, i) => ({ queue: QUEUE, title: `risky ${i}`, priority: i % 3 })));
  assert.ok(tasks.every((task) => task.status === 'awaiting_approval'));
  const procs = await startTogether(CLAIMERS, worker('approval-claimer'), [url, QUEUE]);
  t.after(() => procs.forEach((p) => p.child.kill()));

  // Every claimer has claimed 25 times with every task awaiting approval, and got nothing.
  await Promise.all(procs.map((p) => p.line('attempts 25', 60_000)));
  assert.deepEqual(procs.flatMap((p) => p.lines().filter((l) => l.startsWith('got '))), [], 'nothing is claimed while every task awaits approval');

  // Decide in a shuffled order, while they keep claiming.
  const order = tasks.map((task) => task.id).sort(() => Math.random() - 0.5);
  const rejected = new Set(order.slice(0, REJECTED));
  for (const id of order) {
    if (rejected.has(id)) await c.rejectTask(id, { by: 'alice', reason: 'too risky' });
    else await c.approveTask(id, { by: 'alice', reason: 'go' });
    await sleep(Math.random() * 20);
  }
  const approvedCount = TASKS - REJECTED;
  const deadline = performance.now() + 60_000;
  while ((await c.taskCounts({ queue: QUEUE })).done < approvedCount) {
    assert.ok(performance.now() < deadline, 'the approved tasks were all done within 60 s');
    await sleep(50);
  }
  for (const p of procs) p.child.stdin!.write('stop\n');
  const results = await Promise.all(procs.map((p) => p.done));
  for (const r of results) assert.equal(r.code, 0, r.stderr);

  const approvedAt = new Map((await c.events({ types: ['task.approved'], limit: 1000 })).map((e) => [Number(e.key), e.seq]));
  const claimedEvents = (await c.events({ types: ['task.claimed'], limit: 10_000 })).filter((e) => tasks.some((task) => String(task.id) === e.key));
  assert.equal(approvedAt.size, approvedCount);
  for (const e of claimedEvents) {
    const approval = approvedAt.get(Number(e.key));
    assert.ok(approval !== undefined, `task ${e.key} was claimed (seq ${e.seq}) but never approved`);
    assert.ok(e.seq > approval, `task ${e.key} was claimed at seq ${e.seq}, before its approval at seq ${approval}`);
  }
  const got = procs.flatMap((p) => p.lines().filter((l) => l.startsWith('got ')).map((l) => Number(l.slice(4))));
  assert.deepEqual([...got].sort((a, b) => a - b), [...approvedAt.keys()].sort((a, b) => a - b), 'each approved task claimed once, no rejected one');
  assert.equal(claimedEvents.length, approvedCount);
  for (const id of rejected) assert.equal((await c.getTask(id)).status, 'rejected');
  const attempts = procs.reduce((sum, p) => sum + Number(p.lines().find((l) => l.startsWith('done '))!.slice(5)), 0);
  t.diagnostic(`${CLAIMERS} claimers made ${attempts} claims; ${approvedCount} approved tasks claimed once each, each after its approval; ${REJECTED} rejected, never claimed`);
}

test('approvals on a SQLite file: 8 processes claiming in a loop never claim a task before its approval, nor a rejected one', { timeout: 180_000 }, async (t) => {
  await race(t, `sqlite:${join(tempDir(t), 'baton.db')}`);
});

const postgres = postgresPerFile('baton-pg-approval-race-');

test('approvals on PostgreSQL: 8 processes claiming in a loop never claim a task before its approval, nor a rejected one', { timeout: 240_000 }, async (t) => {
  await race(t, await postgres.databases.fresh());
});
