// Conformance cases of quotas (docs/quotas.md), run by conformance.ts on every backend and transport.
import assert from 'node:assert/strict';
import type { Coordinator, QuotaStatus } from '../../src/index.ts';
import type { WithCoordinator } from './conformance.ts';

type Refusal = Error & { code?: string; details?: Record<string, unknown> };

async function refused(promise: Promise<unknown>, code: string, ...mentions: string[]): Promise<Refusal> {
  let caught: Refusal | undefined;
  await assert.rejects(promise, (error: Refusal) => {
    caught = error;
    assert.equal(error.code, code, `expected ${code}, got ${error.code}: ${error.message}`);
    for (const m of mentions) assert.ok(error.message.includes(m), `message ${JSON.stringify(error.message)} should mention ${m}`);
    return true;
  });
  return caught!;
}

/** The error's details, less the HTTP status the daemon's client adds. */
function details(error: Refusal): Record<string, unknown> {
  const { status: _status, ...rest } = error.details ?? {};
  return rest;
}

function quotaOf(list: QuotaStatus[], quota: string): QuotaStatus {
  const found = list.find((q) => q.quota === quota);
  assert.ok(found, `listQuotas has ${quota}`);
  return found;
}

async function tasks(c: Coordinator, n: number, queue = 'q'): Promise<void> {
  await c.addTasks(Array.from({ length: n }, (_, i) => ({ title: `t${i}`, queue })));
}

export function quotaConformance(withCoordinator: WithCoordinator): void {
  withCoordinator('quotas: claims-per-agent counts every session of the agent; claim(n) is trimmed to the room left, then refused', async (c) => {
    await tasks(c, 10);
    const set = await c.setQuota({ quota: 'claims-per-agent', limit: 3 });
    assert.deepEqual({ ...set, updatedAt: 0 }, { quota: 'claims-per-agent', agent: null, limit: 3, updatedAt: 0 });
    const s1 = await c.register({ name: 'w', autoHeartbeat: false });
    const s2 = await c.register({ name: 'w', autoHeartbeat: false });
    const other = await c.register({ name: 'v', autoHeartbeat: false });
    assert.equal((await c.claim(s1.id, { queue: 'q', n: 2 })).length, 2);
    const trimmed = await c.claim(s2.id, { queue: 'q', n: 5 });
    assert.equal(trimmed.length, 1, 'the second session of the agent gets only the room left');
    const error = await refused(c.claim(s2.id, { queue: 'q' }), 'QUOTA_EXCEEDED', 'claims-per-agent', '"w"', 'is 3', 'holds 3 claims');
    assert.deepEqual(details(error), { quota: 'claims-per-agent', limit: 3, used: 3, agent: 'w' });
    // Another agent has a quota of its own size.
    assert.equal((await c.claim(other.id, { queue: 'q', n: 3 })).length, 3);
    // Completing one frees room.
    await c.complete(trimmed[0]!);
    assert.equal((await c.claim(s1.id, { queue: 'q', n: 5 })).length, 1);
    const listed = quotaOf(await c.listQuotas(), 'claims-per-agent');
    assert.equal(listed.limit, 3);
    assert.deepEqual(listed.usage, [
      { agent: 'v', sessionId: null, used: 3, limit: 3 },
      { agent: 'w', sessionId: null, used: 3, limit: 3 },
    ]);
  });

  withCoordinator('quotas: claimByIds over claims-per-agent is refused whole; an agent\'s own limit overrides the project\'s', async (c) => {
    const added = await c.addTasks([{ title: 'a' }, { title: 'b' }, { title: 'c' }]);
    await c.setQuota({ quota: 'claims-per-agent', limit: 1 });
    await c.setQuota({ quota: 'claims-per-agent', agent: 'big', limit: 2 });
    const small = await c.register({ name: 'small', autoHeartbeat: false });
    const big = await c.register({ name: 'big', autoHeartbeat: false });
    await refused(c.claimByIds(small.id, [added[0]!.id, added[1]!.id]), 'QUOTA_EXCEEDED', 'claims-per-agent', '"small"', 'is 1', 'asked for 2 more', 'nothing was claimed');
    assert.deepEqual((await c.listTasks({ status: 'claimed' })).length, 0, 'nothing was half-claimed');
    assert.equal((await c.claimByIds(big.id, [added[0]!.id, added[1]!.id])).length, 2);
    await refused(c.claimByIds(big.id, [added[2]!.id]), 'QUOTA_EXCEEDED', '"big"', 'is 2');
    const listed = quotaOf(await c.listQuotas(), 'claims-per-agent');
    assert.deepEqual(listed.agents, [{ agent: 'big', limit: 2 }]);
    // Removing the agent's own limit leaves the project's (1): big, holding 2, is over it and may claim nothing more.
    const removed = await c.setQuota({ quota: 'claims-per-agent', agent: 'big', limit: null });
    assert.equal(removed.limit, null);
    await refused(c.claimByIds(big.id, [added[2]!.id]), 'QUOTA_EXCEEDED', 'is 1');
    await c.setQuota({ quota: 'claims-per-agent', limit: null });
    assert.equal((await c.claimByIds(big.id, [added[2]!.id])).length, 1, 'no quota: no limit');
    const types = (await c.events({ types: ['quota.'] })).map((e) => [e.type, e.data.agent, e.data.limit]);
    assert.deepEqual(types, [
      ['quota.set', null, 1],
      ['quota.set', 'big', 2],
      ['quota.removed', 'big', null],
      ['quota.removed', null, null],
    ]);
  });

  withCoordinator('quotas: leases-per-session bounds the leases bound to one session, not those without one', async (c) => {
    await c.setQuota({ quota: 'leases-per-session', limit: 2 });
    const s = await c.register({ name: 'holder', autoHeartbeat: false });
    const a = await c.acquire('a', { owner: 'holder', sessionId: s.id });
    await c.acquire('b', { owner: 'holder', sessionId: s.id });
    const error = await refused(c.acquire('c', { owner: 'holder', sessionId: s.id }), 'QUOTA_EXCEEDED', 'leases-per-session', s.id, '"holder"', 'is 2', 'holds 2 leases', '"c"');
    assert.deepEqual(details(error), { quota: 'leases-per-session', limit: 2, used: 2, agent: 'holder', sessionId: s.id });
    assert.equal((await c.getLease('c')).holders.length, 0, 'nothing was acquired');
    // Leases with no session are not counted.
    await c.acquire('free', { owner: 'holder' });
    await c.release(a);
    await c.acquire('c', { owner: 'holder', sessionId: s.id });
    const listed = quotaOf(await c.listQuotas(), 'leases-per-session');
    assert.deepEqual(listed.usage, [{ agent: 'holder', sessionId: s.id, used: 2, limit: 2 }]);
  });

  withCoordinator('quotas: a release does not hand a lease to a waiting session at its quota; the waiter is refused', async (c) => {
    await c.setQuota({ quota: 'leases-per-session', limit: 1 });
    const holder = await c.register({ name: 'holder', autoHeartbeat: false });
    const waiter = await c.register({ name: 'waiter', autoHeartbeat: false });
    const held = await c.acquire('k', { owner: 'holder', sessionId: holder.id });
    const waiting = c.acquire('k', { owner: 'waiter', sessionId: waiter.id, timeoutMs: 10_000 });
    waiting.catch(() => undefined);
    // Wait until the waiter is in line, then give it a lease elsewhere: it is at its quota when k is released.
    for (let i = 0; (await c.getLease('k')).waiters.length === 0; i++) {
      assert.ok(i < 500, 'the waiter queued');
      await new Promise((r) => setTimeout(r, 10));
    }
    await c.acquire('elsewhere', { owner: 'waiter', sessionId: waiter.id });
    await c.release(held);
    await refused(waiting, 'QUOTA_EXCEEDED', 'leases-per-session', waiter.id);
    assert.equal((await c.getLease('k')).holders.length, 0);
  });

  withCoordinator('quotas: addTasks over queued-tasks is refused whole; claimed tasks count until finished', async (c) => {
    await c.setQuota({ quota: 'queued-tasks', limit: 3 });
    await tasks(c, 2);
    const error = await refused(tasks(c, 2), 'QUOTA_EXCEEDED', 'queued-tasks', 'is 3', '2 unfinished tasks', 'none was added');
    assert.deepEqual(details(error), { quota: 'queued-tasks', limit: 3, used: 2 });
    assert.equal((await c.listTasks()).length, 2, 'none of the batch was added');
    await tasks(c, 1);
    const s = await c.register({ name: 'w', autoHeartbeat: false });
    const [claim] = await c.claim(s.id, { queue: 'q' });
    await refused(c.addTask({ title: 'more', queue: 'q' }), 'QUOTA_EXCEEDED', 'queued-tasks');
    await c.complete(claim!);
    await c.addTask({ title: 'more', queue: 'q' });
    assert.deepEqual(quotaOf(await c.listQuotas(), 'queued-tasks').usage, [{ agent: null, sessionId: null, used: 3, limit: 3 }]);
  });

  withCoordinator('quotas: bad arguments are refused with the value named; no quota set lists every quota unlimited', async (c) => {
    const all = await c.listQuotas();
    assert.deepEqual(all.map((q) => [q.quota, q.limit]), [['claims-per-agent', null], ['leases-per-session', null], ['queued-tasks', null]]);
    await refused(c.setQuota({ quota: 'claims' as never, limit: 1 }), 'INVALID_ARGUMENT', 'claims');
    await refused(c.setQuota({ quota: 'queued-tasks', agent: 'a', limit: 1 }), 'INVALID_ARGUMENT', 'queued-tasks');
    await refused(c.setQuota({ quota: 'claims-per-agent', limit: -1 }), 'INVALID_ARGUMENT', 'limit');
    assert.deepEqual(await c.events({ types: ['quota.'] }), []);
  });
}
