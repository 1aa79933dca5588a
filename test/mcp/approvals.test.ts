// request_approval and approval_status through the official MCP SDK client:
// an agent asks a person before risky work; the task it adds cannot be
// claimed (not even by id) until approved; the tool waits for the decision
// (bounded) or answers at once, and tells the agent what to do next.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RemoteCoordinator } from '../../src/client/index.ts';
import { sleep } from '../helpers/procs.ts';
import { mcpAgent, mcpProject, ok } from '../helpers/mcp.ts';

/** Waits until a task titled `title` awaits approval; its id. */
async function awaiting(admin: RemoteCoordinator, title: string): Promise<number> {
  for (let i = 0; i < 600; i++) {
    const found = (await admin.listTasks({ status: 'awaiting_approval' })).find((t) => t.title === title);
    if (found !== undefined) return found.id;
    await sleep(50);
  }
  throw new Error(`no task ${JSON.stringify(title)} awaits approval`);
}

test('request_approval: returns at once or waits for the decision; the task is not claimable until approved; a rejection carries its reason', { timeout: 120_000 }, async (t) => {
  const project = await mcpProject(t, 'baton-mcp-approvals-');
  const agent = await mcpAgent(t, project, 'migrator');
  const { admin } = project;

  // At once: pending, and the task cannot be claimed even by id.
  const asked = ok(await agent.call('request_approval', { title: 'migrate users table', details: 'adds a NOT NULL column; backup first' }));
  assert.equal(asked.state, 'pending');
  assert.match(String(asked.next), /do not start the work; call approval_status/);
  const id = Number(asked.task_id);
  const task = await admin.getTask(id);
  assert.equal(task.status, 'awaiting_approval');
  assert.deepEqual(task.payload, { requestedBy: 'migrator', details: 'adds a NOT NULL column; backup first' });
  assert.equal((await agent.call('task_claim', { task_id: id })).code, 'CONFLICT');
  assert.equal(ok(await agent.call('task_claim', {})).task, null, 'nothing claimable');
  assert.equal(ok(await agent.call('approval_status', { task_id: id })).state, 'pending');

  // Waiting: the call returns once a person approves, with who and why.
  const waiting = agent.call('approval_status', { task_id: id, wait_seconds: 50 });
  await admin.approveTask(id, { by: 'alice', reason: 'backup verified' });
  const approved = ok(await waiting);
  assert.equal(approved.state, 'approved');
  assert.equal(approved.decided_by, 'alice');
  assert.equal(approved.reason, 'backup verified');
  assert.match(String(approved.next), new RegExp(`task_claim task_id ${id}`));
  assert.equal((ok(await agent.call('task_claim', { task_id: id })).task as { id: number }).id, id, 'claimable once approved');

  // request_approval itself waiting, rejected meanwhile.
  const second = agent.call('request_approval', { title: 'drop legacy table', queue: 'ops', wait_seconds: 50 });
  const secondId = await awaiting(admin, 'drop legacy table');
  await admin.rejectTask(secondId, { by: 'bob', reason: 'still read by reports' });
  const rejected = ok(await second);
  assert.equal(rejected.task_id, secondId);
  assert.equal(rejected.state, 'rejected');
  assert.equal(rejected.decided_by, 'bob');
  assert.equal(rejected.reason, 'still read by reports');
  assert.match(String(rejected.next), /do not do this work/);

  // A wait with no decision ends when its time is up, still pending.
  const third = ok(await agent.call('request_approval', { title: 'rotate keys', wait_seconds: 0.3 }));
  assert.equal(third.state, 'pending');
  for (const bad of [{ title: '' }, { title: 'x', wait_seconds: 601 }, { title: 'x', wait_seconds: -1 }]) {
    assert.equal((await agent.call('request_approval', bad)).code, 'INVALID_ARGUMENT', JSON.stringify(bad));
  }
  assert.equal((await agent.call('approval_status', { task_id: 999_999 })).code, 'NOT_FOUND');
});
