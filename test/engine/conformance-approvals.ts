// Conformance cases of approvals (docs/approvals.md), run by conformance.ts on every backend and transport.
import assert from 'node:assert/strict';
import type { BatonEvent, Coordinator } from '../../src/index.ts';
import { rejectsWith, type WithCoordinator } from './conformance.ts';

async function sessionOf(c: Coordinator, name: string): Promise<string> {
  return (await c.register({ name, autoHeartbeat: false, ttlMs: 60_000 })).id;
}

async function eventsOf(c: Coordinator, types: string[]): Promise<BatonEvent[]> {
  return c.events({ types, limit: 1000 });
}

export function approvalsConformance(withCoordinator: WithCoordinator): void {
  withCoordinator('approvals: a task that needs approval is never claimable until approved; the decision is an event with who and why', async (c) => {
    const worker = await sessionOf(c, 'w');
    const gated = await c.addTask({ title: 'migrate prod', needsApproval: true, priority: 5 });
    assert.equal(gated.status, 'awaiting_approval');
    assert.deepEqual(gated.approval, { state: 'pending', by: null, reason: null, at: null });
    const plain = await c.addTask({ title: 'lint' });
    assert.equal(plain.approval, null, 'a task that needs no approval says so');
    // The higher-priority gated task is passed over; the plain one is claimed.
    const first = await c.claim(worker, { n: 10 });
    assert.deepEqual(first.map((cl) => cl.taskId), [plain.id]);
    await rejectsWith(c.claimByIds(worker, [gated.id]), 'CONFLICT', 'awaiting_approval');
    assert.equal((await c.taskCounts()).awaiting_approval, 1);
    assert.deepEqual((await c.listTasks({ status: 'awaiting_approval' })).map((t) => t.id), [gated.id]);
    const [asked] = await eventsOf(c, ['task.approval_requested']);
    assert.deepEqual(asked?.data, { id: gated.id, queue: 'default', title: 'migrate prod' });

    const approved = await c.approveTask(gated.id, { by: 'alice', reason: 'backup taken' });
    assert.equal(approved.status, 'ready');
    assert.equal(approved.approval?.state, 'approved');
    assert.equal(approved.approval?.by, 'alice');
    assert.equal(approved.approval?.reason, 'backup taken');
    assert.ok(typeof approved.approval?.at === 'number' && approved.approval.at > 0);
    const stored = await c.getTask(gated.id);
    assert.deepEqual([stored.status, stored.approval, stored.version], [approved.status, approved.approval, approved.version], 'what approveTask returned is what is stored');
    const [event] = await eventsOf(c, ['task.approved']);
    assert.deepEqual(event?.data, { id: gated.id, by: 'alice', reason: 'backup taken' });
    assert.equal(event?.key, String(gated.id));
    assert.equal(event?.actor, 'alice');
    const [claim] = await c.claim(worker);
    assert.equal(claim?.taskId, gated.id, 'claimable once approved');
    assert.ok((await c.events({ types: ['task.claimed'] })).every((e) => e.key !== String(gated.id) || e.seq > event!.seq), 'claimed after the approval');
    // The approval stays on the task through its claim and completion.
    assert.equal((await c.complete(claim!)).approval?.by, 'alice');
  });

  withCoordinator('approvals: rejection ends the task (its dependents are blocked); deciding twice or deciding what awaits nothing is CONFLICT', async (c) => {
    const worker = await sessionOf(c, 'w');
    const risky = await c.addTask({ title: 'drop table', needsApproval: true });
    const after = await c.addTask({ title: 'verify', dependsOn: [risky.id] });
    assert.equal(after.status, 'ready');
    assert.equal(after.pendingDeps, 1, 'a dependent of a task awaiting approval waits for it');
    await rejectsWith(c.rejectTask(risky.id, { by: 'bob' } as never), 'INVALID_ARGUMENT', 'reason');
    await rejectsWith(c.rejectTask(risky.id, { by: 'bob', reason: '' }), 'INVALID_ARGUMENT', 'reason');
    await rejectsWith(c.approveTask(risky.id, {} as never), 'INVALID_ARGUMENT', 'by');
    await rejectsWith(c.approveTask(risky.id + 1000, { by: 'bob' }), 'NOT_FOUND', String(risky.id + 1000));

    const rejected = await c.rejectTask(risky.id, { by: 'bob', reason: 'no backup' });
    assert.equal(rejected.status, 'rejected');
    assert.deepEqual({ ...rejected.approval, at: 0 }, { state: 'rejected', by: 'bob', reason: 'no backup', at: 0 });
    assert.match(rejected.reason ?? '', /rejected by bob: no backup/);
    const [event] = await eventsOf(c, ['task.rejected']);
    assert.deepEqual(event?.data, { id: risky.id, by: 'bob', reason: 'no backup' });
    assert.equal((await c.getTask(after.id)).status, 'blocked', 'its dependent is blocked, as a cancel would');
    const late = await c.addTask({ title: 'late', dependsOn: [risky.id] });
    assert.equal(late.status, 'blocked');
    assert.match(late.reason ?? '', new RegExp(`dependency ${risky.id} is rejected`));
    assert.deepEqual(await c.claim(worker, { n: 10 }), [], 'nothing to claim');

    await rejectsWith(c.approveTask(risky.id, { by: 'carol' }), 'CONFLICT', 'already rejected by bob');
    await rejectsWith(c.rejectTask(risky.id, { by: 'carol', reason: 'again' }), 'CONFLICT', 'already rejected by bob');
    await rejectsWith(c.cancel(risky.id), 'CONFLICT', 'rejected');
    await rejectsWith(c.updateTask(risky.id, rejected.version, { title: 'x' }), 'CONFLICT', 'rejected');
    const ready = await c.addTask({ title: 'plain' });
    await rejectsWith(c.approveTask(ready.id, { by: 'carol' }), 'CONFLICT', 'does not await approval');
    const ok = await c.addTask({ title: 'ok', needsApproval: true });
    await c.approveTask(ok.id, { by: 'carol' });
    await rejectsWith(c.approveTask(ok.id, { by: 'dave' }), 'CONFLICT', 'already approved by carol');
    await rejectsWith(c.rejectTask(ok.id, { by: 'dave', reason: 'late' }), 'CONFLICT', 'already approved by carol');
    assert.equal((await eventsOf(c, ['task.approved', 'task.rejected'])).length, 2, 'one event per decision, none for a refusal');
    // Cancelled while awaiting: it can no longer be decided.
    const dropped = await c.addTask({ title: 'dropped', needsApproval: true });
    assert.equal((await c.cancel(dropped.id)).status, 'cancelled');
    await rejectsWith(c.approveTask(dropped.id, { by: 'carol' }), 'CONFLICT', 'cancelled');
    const counts = await c.taskCounts();
    assert.equal(counts.rejected, 1);
    assert.equal(counts.awaiting_approval, 0);
  });

  withCoordinator("approvals: a queue's policy gates every task added to it after, whatever needsApproval says", async (c) => {
    assert.deepEqual(await c.approvalPolicies(), []);
    const before = await c.addTask({ queue: 'deploy', title: 'before' });
    const policy = await c.setApprovalPolicy({ queue: 'deploy', required: true, by: 'lead' });
    assert.equal(policy.queue, 'deploy');
    assert.equal(policy.required, true);
    assert.ok(typeof policy.since === 'number');
    assert.deepEqual(await c.setApprovalPolicy({ queue: 'deploy', required: true }), policy, 'setting it again keeps it as it was');
    const [gated, optOut] = await c.addTasks([{ queue: 'deploy', title: 'release' }, { queue: 'deploy', title: 'opt out', needsApproval: false }]);
    assert.equal(gated?.status, 'awaiting_approval');
    assert.equal(optOut?.status, 'awaiting_approval', 'a task cannot opt out of its queue\'s policy');
    assert.equal((await c.addTask({ queue: 'other', title: 'elsewhere' })).status, 'ready');
    assert.equal((await c.getTask(before.id)).status, 'ready', 'tasks added before the policy are not touched');
    assert.deepEqual(await c.approvalPolicies(), [policy]);
    const worker = await sessionOf(c, 'w');
    assert.deepEqual((await c.claim(worker, { queue: 'deploy', n: 10 })).map((cl) => cl.taskId), [before.id]);

    assert.deepEqual(await c.setApprovalPolicy({ queue: 'deploy', required: false, by: 'lead' }), { queue: 'deploy', required: false, since: null });
    assert.deepEqual(await c.approvalPolicies(), []);
    assert.equal((await c.addTask({ queue: 'deploy', title: 'free again' })).status, 'ready');
    assert.equal((await c.getTask(gated!.id)).status, 'awaiting_approval', 'removing the policy decides nothing');
    const changes = await eventsOf(c, ['approval.policy']);
    assert.deepEqual(changes.map((e) => e.data), [{ queue: 'deploy', required: true, by: 'lead' }, { queue: 'deploy', required: false, by: 'lead' }], 'one event per change');
    await rejectsWith(c.setApprovalPolicy({ queue: 'deploy' } as never), 'INVALID_ARGUMENT', 'required');
    await rejectsWith(c.addTask({ title: 't', needsApproval: 'yes' } as never), 'INVALID_ARGUMENT', 'needsApproval');
  });

  withCoordinator('approvals: approval leaves a task waiting on pending dependencies, or blocked if one will never be done', async (c) => {
    const worker = await sessionOf(c, 'w');
    const dep = await c.addTask({ title: 'build' });
    const gated = await c.addTask({ title: 'deploy', needsApproval: true, dependsOn: [dep.id] });
    const approved = await c.approveTask(gated.id, { by: 'alice' });
    assert.equal(approved.status, 'ready');
    assert.equal(approved.pendingDeps, 1);
    assert.equal(approved.approval?.reason, null);
    const [build] = await c.claim(worker);
    assert.equal(build?.taskId, dep.id, 'the approved task waits for its dependency');
    await c.complete(build!);
    assert.equal((await c.claim(worker))[0]?.taskId, gated.id);

    const doomed = await c.addTask({ title: 'doomed' });
    const gated2 = await c.addTask({ title: 'after doomed', needsApproval: true, dependsOn: [doomed.id] });
    const downstream = await c.addTask({ title: 'downstream', dependsOn: [gated2.id] });
    await c.cancel(doomed.id);
    assert.equal((await c.getTask(gated2.id)).status, 'awaiting_approval', 'a cancelled dependency does not decide for the person');
    const blocked = await c.approveTask(gated2.id, { by: 'alice' });
    assert.equal(blocked.status, 'blocked');
    assert.match(blocked.reason ?? '', new RegExp(`dependency ${doomed.id} is cancelled`));
    assert.equal((await c.getTask(downstream.id)).status, 'blocked', 'and so is what depends on it');
  });
}
