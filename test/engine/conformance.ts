// The conformance suite: what every store must do, through the public
// Coordinator interface. Run once per store (SQLite file, SQLite :memory:,
// later PostgreSQL) by the *.test.ts files next to this one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Coordinator, Task } from '../../src/index.ts';
import { artifactConformance } from './conformance-artifacts.ts';
import { approvalsConformance } from './conformance-approvals.ts';
import { kvConformance } from './conformance-kv.ts';
import { quotaConformance } from './conformance-quotas.ts';
import { messagesConformance } from './conformance-messages.ts';
import { releaseConformance } from './conformance-release.ts';

export type Opener = () => Promise<Coordinator>;
/** Runs a case on a fresh Coordinator of the backend under test, closed afterwards. */
export type WithCoordinator = (title: string, fn: (c: Coordinator) => Promise<void>) => void;

export async function rejectsWith(promise: Promise<unknown>, code: string, mention?: string | RegExp): Promise<void> {
  await assert.rejects(promise, (error: Error & { code?: string }) => {
    assert.equal(error.code, code, `expected ${code}, got ${error.code}: ${error.message}`);
    if (mention !== undefined) {
      const found = typeof mention === 'string' ? error.message.includes(mention) : mention.test(error.message);
      assert.ok(found, `message ${JSON.stringify(error.message)} should mention ${String(mention)}`);
    }
    return true;
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function conformance(name: string, open: Opener): void {
  const withCoordinator: WithCoordinator = (title, fn) =>
    test(`${name}: ${title}`, async () => {
      const c = await open();
      try {
        await fn(c);
      } finally {
        await c.close();
      }
    });

  withCoordinator('an exclusive lease excludes; release by the holder token only; tokens increase', async (c) => {
    const a = await c.acquire('repo', { owner: 'a' });
    assert.equal(a.key, 'repo');
    assert.equal(a.mode, 'exclusive');
    assert.ok(a.expiresAt! > Date.now());
    await rejectsWith(c.acquire('repo', { owner: 'b', timeoutMs: 0 }), 'LOCKED', '"a"');
    await rejectsWith(c.release({ key: 'repo', token: a.token + 1 }), 'STALE_TOKEN', String(a.token + 1));
    await c.release(a);
    await rejectsWith(c.release(a), 'STALE_TOKEN');
    const b = await c.acquire('repo', { owner: 'b' });
    assert.ok(b.token > a.token, 'fencing tokens strictly increase');
    await rejectsWith(c.checkLease(a), 'STALE_TOKEN');
    assert.equal((await c.checkLease(b)).owner, 'b');
  });

  withCoordinator('shared leases coexist; an exclusive waits for all of them', async (c) => {
    const r1 = await c.acquire('db', { owner: 'r1', mode: 'shared' });
    const r2 = await c.acquire('db', { owner: 'r2', mode: 'shared' });
    await rejectsWith(c.acquire('db', { owner: 'w', timeoutMs: 0 }), 'LOCKED');
    const info = await c.getLease('db');
    assert.deepEqual(info.holders.map((h) => h.owner).sort(), ['r1', 'r2']);
    const writer = c.acquire('db', { owner: 'w', timeoutMs: 5000 });
    for (let i = 0; i < 200 && (await c.getLease('db')).waiters.length === 0; i++) await sleep(10);
    // A reader arriving after the writer queues behind it: the writer is not starved.
    await rejectsWith(c.acquire('db', { owner: 'r3', mode: 'shared', timeoutMs: 0 }), 'LOCKED', 'queued behind');
    await c.release(r1);
    await c.release(r2);
    const w = await writer;
    assert.equal(w.owner, 'w');
    await c.release(w);
  });

  withCoordinator('waiters are served in arrival order', async (c) => {
    const first = await c.acquire('k', { owner: 'first' });
    const order: string[] = [];
    const waiters: Promise<void>[] = [];
    // Arrival as the store sees it: each waiter is in line before the next one asks (a fixed delay between
    // the asks is not enough on a loaded machine, where one request can overtake another on its way).
    for (const [i, owner] of ['w1', 'w2', 'w3'].entries()) {
      waiters.push(
        (async () => {
          const lease = await c.acquire('k', { owner, timeoutMs: 10_000 });
          order.push(owner);
          await sleep(5);
          await c.release(lease);
        })(),
      );
      for (let tries = 0; tries < 500 && (await c.getLease('k')).waiters.length < i + 1; tries++) await sleep(10);
    }
    await c.release(first);
    await Promise.all(waiters);
    assert.deepEqual(order, ['w1', 'w2', 'w3']);
  });

  withCoordinator('a release hands the lease to the first in line in the same commit; shared waiters together', async (c) => {
    const a = await c.acquire('hand', { owner: 'a' });
    const w1 = c.acquire('hand', { owner: 'w1', timeoutMs: 10_000 });
    await waitUntilQueued(c, 'hand', 1);
    const s1 = c.acquire('hand', { owner: 's1', mode: 'shared', timeoutMs: 10_000 });
    await waitUntilQueued(c, 'hand', 2);
    const s2 = c.acquire('hand', { owner: 's2', mode: 'shared', timeoutMs: 10_000 });
    await waitUntilQueued(c, 'hand', 3);
    await c.release(a);
    // Made out to w1 by the release itself, before w1 has run a transaction of its own.
    assert.deepEqual((await c.getLease('hand')).holders.map((h) => h.owner), ['w1']);
    const first = await w1;
    assert.equal(first.owner, 'w1');
    assert.ok(first.token > a.token);
    await c.release(first);
    assert.deepEqual((await c.getLease('hand')).holders.map((h) => h.owner).sort(), ['s1', 's2']);
    const shared = await Promise.all([s1, s2]);
    assert.deepEqual(shared.map((l) => l.mode), ['shared', 'shared']);
    for (const l of shared) await c.release(l);
    assert.deepEqual((await c.getLease('hand')).holders, []);
    const acquired = (await c.events({ types: ['lease.acquired'] })).filter((e) => e.key === 'hand').map((e) => e.actor);
    assert.deepEqual(acquired.slice(0, 2), ['a', 'w1']);
  });

  withCoordinator('a lease lapses after its TTL; the next holder gets a higher token; the late holder is refused', async (c) => {
    const a = await c.acquire('ttl', { owner: 'a', ttlMs: 80 });
    const b = await c.acquire('ttl', { owner: 'b', timeoutMs: 2000 });
    // By the store's own clock (a loaded machine may take most of a's TTL to answer a).
    assert.ok(b.acquiredAt >= a.expiresAt!, `b waited for the TTL: granted at ${b.acquiredAt}, a expired at ${a.expiresAt}`);
    assert.ok(b.token > a.token);
    await rejectsWith(c.renew(a), 'STALE_TOKEN');
    const renewed = await c.renew(b, { ttlMs: 120_000 });
    assert.ok(renewed.expiresAt! > b.expiresAt!);
    assert.ok((await c.events({ types: ['lease.expired'] })).some((e) => e.key === 'ttl'));
  });

  withCoordinator('timeouts, abort and force release', async (c) => {
    const a = await c.acquire('x', { owner: 'a' });
    const t0 = performance.now();
    await rejectsWith(c.acquire('x', { owner: 'b', timeoutMs: 100 }), 'LOCK_TIMEOUT', '"x"');
    assert.ok(performance.now() - t0 >= 90);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    await rejectsWith(c.acquire('x', { owner: 'b', timeoutMs: 5000, signal: ac.signal }), 'ABORTED');
    // Through a daemon the abort travels as a hang-up, so the queue empties a moment later.
    for (let i = 0; i < 100 && (await c.getLease('x')).waiters.length > 0; i++) await sleep(10);
    assert.equal((await c.getLease('x')).waiters.length, 0, 'a waiter that gave up leaves the queue');
    assert.equal(await c.forceRelease('x', { reason: 'stuck' }), 1);
    await rejectsWith(c.release(a), 'STALE_TOKEN');
    const ev = (await c.events({ types: ['lease.released'] })).at(-1)!;
    assert.equal(ev.data.forced, true);
  });

  withCoordinator('path reservations conflict when their path sets overlap', async (c) => {
    const auth = await c.acquire('path:src/auth/**', { owner: 'a' });
    await rejectsWith(c.acquire('path:src/auth/login.ts', { owner: 'b', timeoutMs: 0 }), 'LOCKED', 'src/auth/**');
    await rejectsWith(c.acquire('path:src', { owner: 'b', timeoutMs: 0 }), 'LOCKED');
    const other = await c.acquire('path:src/api/*.ts', { owner: 'b', timeoutMs: 0 });
    await rejectsWith(c.acquire('path:src/api/x.ts', { owner: 'c', timeoutMs: 0 }), 'LOCKED');
    const docs = await c.acquire('path:./docs/', { owner: 'c', timeoutMs: 0 });
    assert.equal(docs.key, 'path:docs', 'path keys are normalized');
    const sharedA = await c.acquire('path:lib/**', { owner: 'a', mode: 'shared' });
    const sharedB = await c.acquire('path:lib/x.ts', { owner: 'b', mode: 'shared', timeoutMs: 0 });
    await rejectsWith(c.acquire('path:lib/y.ts', { owner: 'c', timeoutMs: 0 }), 'LOCKED');
    assert.equal((await c.listLeases({ prefix: 'path:' })).length, 5);
    for (const l of [auth, other, docs, sharedA, sharedB]) await c.release(l);
    await rejectsWith(c.acquire('path:../etc', { owner: 'x' }), 'INVALID_ARGUMENT', '..');
  });

  withCoordinator('sessions: ending one releases its leases and puts its claims back at once', async (c) => {
    const s = await c.register({ name: 'agent-1', kind: 'claude', labels: { team: 'x' } });
    assert.equal(s.name, 'agent-1');
    assert.equal(s.pid, process.pid);
    const lease = await c.acquire('repo', { owner: 'agent-1', sessionId: s.id, ttlMs: 0 });
    assert.equal(lease.expiresAt, null);
    const [task] = await c.addTasks([{ title: 'fix bug', maxAttempts: 5 }]);
    const [claim] = await c.claim(s.id);
    assert.equal(claim!.task.id, task!.id);
    assert.equal((await c.listSessions()).length, 1);
    await c.endSession(s.id, { reason: 'done for today' });
    assert.equal((await c.getLease('repo')).holders.length, 0);
    const back = await c.getTask(task!.id);
    assert.equal(back.status, 'ready');
    assert.equal(back.attempts, 1, 'the interrupted attempt counts');
    await rejectsWith(c.complete(claim!), 'STALE_TOKEN');
    await rejectsWith(c.claim(s.id), 'SESSION_ENDED', 'done for today');
    await rejectsWith(c.heartbeat(s.id), 'SESSION_ENDED');
    assert.equal((await c.listSessions()).length, 0);
    const types = (await c.events()).map((e) => e.type);
    assert.ok(types.includes('agent.ended') && types.includes('task.requeued'));
  });

  withCoordinator('a session whose heartbeat lapses ends at the next sweep', async (c) => {
    const s = await c.register({ name: 'quiet', ttlMs: 100, autoHeartbeat: false });
    await c.acquire('held', { owner: 'quiet', sessionId: s.id });
    await sleep(150);
    const swept = await c.sweep();
    // This sweep ended it, or the store's own periodic sweep did a moment before (on a loaded machine it can).
    assert.ok(swept.sessionsEnded <= 1, `sessionsEnded ${swept.sessionsEnded}`);
    assert.equal((await c.getSession(s.id)).endReason, 'heartbeat lapsed');
    assert.equal((await c.getLease('held')).holders.length, 0);
  });

  withCoordinator('a session of a process that is gone (same host) ends at the next sweep', async (c) => {
    const { spawnSync } = await import('node:child_process');
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    const s = await c.register({ name: 'gone', pid: Number(dead), autoHeartbeat: false });
    await c.sweep();
    assert.equal((await c.getSession(s.id)).endReason, 'process exited');
  });

  withCoordinator('tasks: priority first, FIFO within a priority; exactly one holder; late calls refused', async (c) => {
    const s = await c.register({ name: 'w' });
    await c.addTasks([{ title: 'low-1' }, { title: 'high', priority: 10 }, { title: 'low-2' }, { title: 'later', runAt: Date.now() + 60_000 }]);
    const claims = await c.claim(s.id, { n: 10 });
    assert.deepEqual(claims.map((x) => x.task.title), ['high', 'low-1', 'low-2']);
    assert.ok(claims.every((x) => x.task.status === 'claimed' && x.task.attempts === 1));
    assert.deepEqual(await c.claim(s.id, { n: 10 }), [], 'nothing else is claimable');
    const done = await c.complete({ taskId: claims[0]!.task.id, token: claims[0]!.token }, { sha: 'abc' });
    assert.equal(done.status, 'done');
    assert.deepEqual(done.result, { sha: 'abc' });
    await rejectsWith(c.complete({ taskId: claims[0]!.task.id, token: claims[0]!.token }), 'STALE_TOKEN');
    const released = await c.releaseClaim({ taskId: claims[1]!.task.id, token: claims[1]!.token });
    assert.equal(released.status, 'ready');
    const [again] = await c.claim(s.id);
    assert.equal(again!.task.title, 'low-1');
    assert.ok(again!.token > claims[1]!.token, 'a new claim gets a new, higher token');
    await rejectsWith(c.complete({ taskId: claims[1]!.task.id, token: claims[1]!.token }), 'STALE_TOKEN');
    // completeMany: one transaction, all or nothing.
    await rejectsWith(c.completeMany([again!, claims[1]!]), 'STALE_TOKEN');
    assert.equal((await c.getTask(again!.taskId)).status, 'claimed', 'nothing of a refused batch was completed');
    const batch = await c.completeMany([{ ...again!, result: 1 }, claims[2]!]);
    assert.deepEqual(batch.map((t) => [t.title, t.status]), [['low-1', 'done'], ['low-2', 'done']]);
  });

  withCoordinator('completeMany: the same claim twice refuses the batch; two dependencies done in one batch free their dependent; events in order', async (c) => {
    const s = await c.register({ name: 'w' });
    const [a, b] = await c.addTasks([{ title: 'a' }, { title: 'b' }]);
    const both = await c.addTask({ title: 'after a and b', dependsOn: [a!.id, b!.id] });
    const claims = await c.claim(s.id, { n: 10 });
    assert.deepEqual(claims.map((x) => x.task.title), ['a', 'b'], 'the dependent waits');
    await rejectsWith(c.completeMany([claims[0]!, claims[1]!, claims[0]!]), 'STALE_TOKEN', `task ${a!.id} (it is done)`);
    assert.deepEqual((await c.listTasks({ status: 'claimed' })).map((t) => t.title), ['a', 'b'], 'nothing of the refused batch was completed');
    const after = (await c.events({ limit: 100_000 })).at(-1)!.seq;
    const done = await c.completeMany([{ ...claims[1]!, result: { n: 2 } }, { ...claims[0]!, result: 'one' }]);
    assert.deepEqual(done.map((t) => [t.id, t.status, t.result, t.claimedBy]), [[b!.id, 'done', { n: 2 }, null], [a!.id, 'done', 'one', null]]);
    const completed = await c.events({ after, types: ['task.completed'] });
    assert.deepEqual(completed.map((e) => [e.key, e.actor, e.data.token]), [[String(b!.id), s.id, claims[1]!.token], [String(a!.id), s.id, claims[0]!.token]]);
    const [next] = await c.claim(s.id);
    assert.equal(next?.taskId, both.id, 'both dependencies done in one batch: the dependent is claimable');
  });

  withCoordinator('claims of many tasks: claim order, tokens the completions accept, an idempotent replay, completeMany of many', async (c) => {
    const s = await c.register({ name: 'batch' });
    // More than the store claims in one statement: a batch is picked, claimed, then read.
    const added = await c.addTasks(Array.from({ length: 120 }, (_, i) => ({ title: `t${i}`, payload: { i }, priority: i % 3 })));
    const retried = added[5]!;
    const [first] = await c.claimByIds(s.id, [retried.id]);
    await c.releaseClaim(first!);
    const claims = await c.claim(s.id, { n: 100, idempotencyKey: 'big-claim' });
    assert.equal(claims.length, 100);
    const order = [...added].sort((a, b) => b.priority - a.priority || a.id - b.id).slice(0, 100).map((t) => t.id);
    assert.deepEqual(claims.map((x) => x.taskId), order, 'highest priority first, FIFO within one');
    for (const x of claims) {
      assert.equal(x.task.id, x.taskId);
      assert.equal(x.task.status, 'claimed');
      assert.equal(x.task.claimedBy, s.id);
      assert.deepEqual(x.task.payload, { i: Number(x.task.title.slice(1)) });
    }
    const again = claims.find((x) => x.taskId === retried.id)!;
    assert.ok(again.token > first!.token, 'a task claimed before gets a higher token');
    assert.equal(again.task.attempts, 2);
    const replay = await c.claim(s.id, { n: 100, idempotencyKey: 'big-claim' });
    assert.deepEqual(replay.map((x) => [x.taskId, x.token]), claims.map((x) => [x.taskId, x.token]), 'a replay returns the same claims');
    assert.equal((await c.claim(s.id, { n: 100 })).length, 20, 'the replay claimed nothing more');
    await rejectsWith(c.completeMany([...claims.slice(0, 50), { taskId: claims[60]!.taskId, token: claims[60]!.token + 1 }]), 'STALE_TOKEN', `task ${claims[60]!.taskId}`);
    assert.equal((await c.getTask(claims[0]!.taskId)).status, 'claimed', 'nothing of a refused batch was completed');
    const reversed = [...claims].reverse().map((x) => ({ ...x, result: { done: x.taskId } }));
    const done = await c.completeMany(reversed);
    assert.deepEqual(done.map((t) => t.id), reversed.map((x) => x.taskId), 'in the order given');
    assert.ok(done.every((t) => t.status === 'done' && (t.result as { done: number }).done === t.id && t.claimedBy === null));
    await rejectsWith(c.completeMany(claims.slice(0, 40)), 'STALE_TOKEN');
  });

  withCoordinator('completeMany: a missing task or an expired claim refuses the whole batch with its own error', async (c) => {
    const s = await c.register({ name: 'w' });
    await c.addTasks([{ title: 'a' }, { title: 'b' }, { title: 'c' }]);
    const [a, b] = await c.claim(s.id, { n: 2, leaseMs: 60_000 });
    await rejectsWith(c.completeMany([a!, { taskId: 999_999, token: 1 }, b!]), 'NOT_FOUND', 'no task 999999');
    const [late] = await c.claim(s.id, { leaseMs: 50 });
    await sleep(80);
    // LEASE_EXPIRED while the lapsed claim is still on its task; STALE_TOKEN once a sweep took it back (a daemon
    // sweeps on its own as well, and on a loaded machine it may get there first). Either refuses the whole batch.
    const refused = await c.completeMany([a!, b!, late!]).then(() => undefined, (error: Error & { code?: string }) => error);
    assert.ok(refused?.code === 'LEASE_EXPIRED' || refused?.code === 'STALE_TOKEN', `the batch is refused for its late claim: ${String(refused?.code)} ${refused?.message ?? 'it was accepted'}`);
    assert.match(refused.message, new RegExp(`task ${late!.taskId}\\b`));
    const lateNow = (await c.getTask(late!.taskId)).status;
    assert.ok(refused.code === 'LEASE_EXPIRED' ? lateNow === 'claimed' || lateNow === 'ready' : lateNow === 'ready', `the late claim lapsed (still on its task until a sweep) or was swept back: ${lateNow}`);
    assert.deepEqual((await c.listTasks({ status: 'claimed' })).map((t) => t.title).filter((t) => t !== 'c'), ['a', 'b'], 'nothing of the refused batches was completed');
    assert.equal((await c.events({ types: ['task.completed'] })).length, 0, 'and no completion was announced');
    const done = await c.completeMany([b!, a!]);
    assert.deepEqual(done.map((t) => [t.title, t.status]), [['b', 'done'], ['a', 'done']]);
  });

  withCoordinator('tasks: an expired claim is swept back and the late holder refused', async (c) => {
    const s = await c.register({ name: 'w' });
    await c.addTask({ title: 't' });
    const [claim] = await c.claim(s.id, { leaseMs: 50 });
    await sleep(80);
    // LEASE_EXPIRED while the lapsed claim is still on the task; STALE_TOKEN once a sweep took it back
    // (a daemon sweeps on its own as well, and on a loaded machine it may get there before this call).
    const late = await c.complete(claim!).then(() => undefined, (error: Error & { code?: string }) => error);
    assert.ok(late?.code === 'LEASE_EXPIRED' || late?.code === 'STALE_TOKEN', `the late holder is refused: ${String(late?.code)} ${late?.message ?? 'it was accepted'}`);
    const swept = (await c.sweep()).claimsExpired;
    if (late.code === 'STALE_TOKEN') assert.equal(swept, 0, 'swept already');
    else assert.ok(swept <= 1, `one claim to sweep back, got ${swept}`);
    const [next] = await c.claim(s.id, { leaseMs: 5000 });
    assert.equal(next!.task.attempts, 2);
    await rejectsWith(c.complete(claim!), 'STALE_TOKEN');
    const renewed = await c.renewClaim(next!, { leaseMs: 10_000 });
    assert.ok(renewed.expiresAt > next!.expiresAt);
  });

  withCoordinator('tasks: fail retries with backoff until maxAttempts, then dead; dependents blocked with the reason', async (c) => {
    const s = await c.register({ name: 'w' });
    const parent = await c.addTask({ title: 'build', maxAttempts: 2 });
    const child = await c.addTask({ title: 'deploy', dependsOn: [parent.id] });
    const grandchild = await c.addTask({ title: 'announce', dependsOn: [child.id] });
    let [claim] = await c.claim(s.id);
    assert.equal(claim!.task.id, parent.id, 'a task with unfinished dependencies is not claimable');
    // A wide margin: on a loaded machine a request can take tens of milliseconds.
    const failed = await c.fail(claim!, 'compiler crashed', { retryInMs: 400 });
    assert.equal(failed.status, 'ready');
    // By the store's clock: the retry is due retryInMs after the failure was recorded (however long the answer took to come back).
    assert.ok(failed.runAt - failed.updatedAt >= 400, `runAt ${failed.runAt}, recorded at ${failed.updatedAt}`);
    // Not before its runAt, by the store's clock: on a loaded machine this claim may only arrive after it.
    const early = await c.claim(s.id);
    for (const e of early) assert.ok(e.task.updatedAt >= failed.runAt, `claimed at ${e.task.updatedAt}, before its runAt ${failed.runAt}`);
    if (early.length > 0) claim = early[0];
    else {
      await sleep(Math.max(0, failed.runAt - Date.now()) + 20);
      [claim] = await c.claim(s.id);
    }
    const dead = await c.fail(claim!, 'compiler crashed again');
    assert.equal(dead.status, 'dead');
    assert.equal(dead.lastError, 'compiler crashed again');
    const blocked = await c.getTask(child.id);
    assert.equal(blocked.status, 'blocked');
    assert.match(blocked.reason!, new RegExp(`dependency ${parent.id} is dead`));
    assert.equal((await c.getTask(grandchild.id)).status, 'blocked');
  });

  withCoordinator('tasks: dependencies release their dependents when done; claimByIds is all or nothing', async (c) => {
    const s = await c.register({ name: 'w' });
    const a = await c.addTask({ title: 'a' });
    const b = await c.addTask({ title: 'b', dependsOn: [a.id] });
    assert.deepEqual(b.dependsOn, [a.id]);
    await rejectsWith(c.claimByIds(s.id, [a.id, b.id]), 'CONFLICT', `task ${b.id}`);
    assert.equal((await c.getTask(a.id)).status, 'ready', 'nothing was claimed');
    const [ca] = await c.claimByIds(s.id, [a.id]);
    await c.complete(ca!);
    const [cb] = await c.claim(s.id);
    assert.equal(cb!.task.id, b.id);
    await rejectsWith(c.addTask({ title: 'x', dependsOn: [9999] }), 'NOT_FOUND', '9999');
  });

  withCoordinator('tasks: update, reorder and remove check the version', async (c) => {
    const s = await c.register({ name: 'w' });
    const [t1, t2, t3] = await c.addTasks([{ title: 'one' }, { title: 'two' }, { title: 'three' }]);
    const updated = await c.updateTask(t1!.id, t1!.version, { title: 'one!', payload: { n: 1 } });
    assert.equal(updated.version, t1!.version + 1);
    await rejectsWith(c.updateTask(t1!.id, t1!.version, { title: 'stale' }), 'CONFLICT', `version ${t1!.version}`);
    await c.reorderTask(t3!.id, t3!.version, { before: t1!.id });
    const order = (await c.listTasks({ status: 'ready' })).map((t) => t.title);
    assert.deepEqual(order, ['three', 'one!', 'two']);
    const top = await c.getTask(t2!.id);
    await c.reorderTask(t2!.id, top.version, { priority: 5 });
    assert.equal((await c.claim(s.id))[0]!.task.title, 'two');
    const one = await c.getTask(t1!.id);
    await rejectsWith(c.removeTask(t1!.id, one.version + 7), 'CONFLICT');
    await c.removeTask(t1!.id, one.version);
    await rejectsWith(c.getTask(t1!.id), 'NOT_FOUND', String(t1!.id));
    const cancelled = await c.cancel(t3!.id, { reason: 'not needed' });
    assert.equal(cancelled.status, 'cancelled');
  });

  withCoordinator('budgets: reservations count against the limit; warning once; status by agent and model; reset', async (c) => {
    await c.setBudget({ limit: 1000, warnPercent: 50 });
    await c.setBudget({ agent: 'a1', limit: 300, period: 'daily' });
    const r = await c.reserve({ agent: 'a1', model: 'opus', estimate: 250 });
    await rejectsWith(c.reserve({ agent: 'a1', estimate: 100 }), 'BUDGET_EXCEEDED', 'agent:a1');
    const result = await c.commitReservation(r.id, { promptTokens: 100, completionTokens: 50 });
    assert.equal(result.status!.scope, 'agent:a1');
    assert.equal(result.status!.used, 150);
    await c.report({ agent: 'a2', model: 'sonnet', promptTokens: 300, completionTokens: 100 });
    await c.report({ agent: 'a2', model: 'sonnet', promptTokens: 10, completionTokens: 0 });
    const warnings = await c.events({ types: ['tokens.warning'] });
    assert.equal(warnings.length, 1, 'crossing the threshold warns once');
    const [total] = await c.budgetStatus({});
    assert.equal(total!.used, 560);
    assert.equal(total!.warning, true);
    const usage = await c.usage();
    assert.deepEqual(usage.byAgent.map((u) => [u.agent, u.total]), [['a1', 150], ['a2', 410]]);
    assert.deepEqual(usage.byModel.map((u) => [u.model, u.total]), [['opus', 150], ['sonnet', 410]]);
    const over = await c.report({ agent: 'a2', model: 'sonnet', promptTokens: 500, completionTokens: 0 });
    assert.equal(over.status!.exceeded, true);
    await c.resetBudget({});
    assert.equal((await c.budgetStatus({}))[0]!.used, 0);
    const held = await c.reserve({ agent: 'a3', estimate: 900 });
    await c.cancelReservation(held.id);
    await rejectsWith(c.commitReservation(held.id, { promptTokens: 1, completionTokens: 1 }), 'NOT_FOUND');
  });

  withCoordinator('rate limits: burst then refusals with retryAfterMs; waiters are served in order', async (c) => {
    // Slow enough that three takes fit in one token's refill time on any store, however loaded the machine.
    await c.setRateLimit('api', { rate: 2, burst: 2 });
    assert.equal((await c.take('api')).granted, true);
    assert.equal((await c.take('api')).granted, true);
    const refused = await c.take('api');
    assert.equal(refused.granted, false);
    assert.ok(!refused.granted && refused.retryAfterMs > 0 && refused.retryAfterMs <= 500);
    const order: number[] = [];
    await Promise.all([0, 1, 2].map(async (i) => {
      await sleep(i * 15); // apart enough for any store: over a network the order is of arrival at the database
      const r = await c.take('api', { wait: true });
      assert.equal(r.granted, true);
      order.push(i);
    }));
    assert.deepEqual(order, [0, 1, 2]);
    await rejectsWith(c.take('api', { cost: 3 }), 'INVALID_ARGUMENT', 'burst');
    await rejectsWith(c.take('nope'), 'NOT_FOUND', 'nope');
  });

  withCoordinator('heartbeat, taskCounts, removeBudget and rateLimitStatus answer as documented', async (c) => {
    const s = await c.register({ name: 'beater', ttlMs: 60_000 });
    await sleep(5);
    const beat = await c.heartbeat(s.id);
    assert.equal(beat.id, s.id);
    assert.ok(beat.heartbeatAt > s.heartbeatAt, 'a heartbeat moves heartbeatAt');
    await rejectsWith(c.heartbeat('no-such-session'), 'NOT_FOUND', 'no-such-session');

    await c.addTasks([{ queue: 'q1', title: 'a' }, { queue: 'q1', title: 'b' }, { queue: 'q2', title: 'c' }]);
    await c.claim(s.id, { queue: 'q1' });
    const all = await c.taskCounts();
    assert.equal(all.ready, 2);
    assert.equal(all.claimed, 1);
    assert.equal(all.done, 0);
    assert.deepEqual(await c.taskCounts({ queue: 'q2' }), { ...all, ready: 1, claimed: 0 });

    await c.setBudget({ agent: 'gone', limit: 10 });
    assert.equal((await c.budgetStatus({ agent: 'gone' }))[0]!.limit, 10);
    await c.removeBudget({ agent: 'gone' });
    assert.deepEqual(await c.budgetStatus({ agent: 'gone' }), []);

    await c.setRateLimit('status/a', { rate: 0.5, burst: 3 });
    await c.setRateLimit('status/b', { rate: 1, burst: 1 });
    await c.take('status/a');
    const [a] = await c.rateLimitStatus('status/a');
    assert.equal(a!.key, 'status/a');
    assert.ok(a!.available >= 1.99 && a!.available < 2.1, `available ${a!.available} after one take from a burst of 3`);
    assert.deepEqual((await c.rateLimitStatus()).map((r) => r.key).filter((k) => k.startsWith('status/')), ['status/a', 'status/b']);
  });

  withCoordinator('idempotency: a retry returns the first result and acts once; another request under the key is refused', async (c) => {
    const first = await c.addTask({ title: 'once' }, { idempotencyKey: 'req-1' });
    const retry = await c.addTask({ title: 'once' }, { idempotencyKey: 'req-1' });
    assert.equal(retry.id, first.id);
    assert.equal((await c.listTasks()).length, 1);
    await rejectsWith(c.addTask({ title: 'other' }, { idempotencyKey: 'req-1' }), 'IDEMPOTENCY_MISMATCH', 'req-1');
    const lease = await c.acquire('k', { owner: 'a', idempotencyKey: 'acq-1' });
    const again = await c.acquire('k', { owner: 'a', idempotencyKey: 'acq-1', timeoutMs: 0 });
    assert.equal(again.token, lease.token);
  });

  withCoordinator('events: readable from a seq, filtered by type, subscribable', async (c) => {
    const seen: string[] = [];
    const sub = c.subscribe((e) => seen.push(e.type), { types: ['task.'] });
    await sleep(30);
    const t = await c.addTask({ title: 'e' });
    await c.cancel(t.id);
    const deadline = Date.now() + 2000;
    while (seen.length < 2 && Date.now() < deadline) await sleep(10);
    sub.close();
    assert.deepEqual(seen, ['task.added', 'task.cancelled']);
    const all = await c.events();
    assert.ok(all.every((e, i) => i === 0 || e.seq > all[i - 1]!.seq));
    const after = await c.events({ after: all[0]!.seq });
    // The same log from the second event on (a store's own background work may have appended more since).
    assert.deepEqual(after.slice(0, all.length - 1), all.slice(1));
  });

  withCoordinator('bad input is refused with INVALID_ARGUMENT naming the value, and changes nothing', async (c) => {
    await rejectsWith(c.acquire('', { owner: 'a' }), 'INVALID_ARGUMENT', 'key');
    await rejectsWith(c.acquire('k', { owner: 'a', mode: 'both' as never }), 'INVALID_ARGUMENT', '"both"');
    await rejectsWith(c.acquire('k', { owner: 'a', ttlMs: -5 }), 'INVALID_ARGUMENT', '-5');
    await rejectsWith(c.acquire('k', { owner: 'a', ttlMs: 0 }), 'INVALID_ARGUMENT', 'session');
    await rejectsWith(c.addTask({ title: 'x', priority: 1.5 }), 'INVALID_ARGUMENT', '1.5');
    await rejectsWith(c.addTasks([{ title: 'ok' }, { title: '' }]), 'INVALID_ARGUMENT', /task 1|specs\[1\]/);
    await rejectsWith(c.setBudget({ limit: -1 }), 'INVALID_ARGUMENT', '-1');
    await rejectsWith(c.setRateLimit('r', { rate: 0, burst: 1 }), 'INVALID_ARGUMENT', 'rate');
    await rejectsWith(c.claim('no-such-session'), 'NOT_FOUND', 'no-such-session');
    assert.equal((await c.listTasks()).length, 0);
    assert.equal((await c.listLeases()).length, 0);
  });

  withCoordinator('tasks: pendingDeps counts the dependencies not done yet, on every read; a ready task waits until it is 0', async (c) => {
    const s = await c.register({ name: 'w' });
    const [a, b, done] = (await c.addTasks([{ title: 'a' }, { title: 'b' }, { title: 'done first' }])) as [Task, Task, Task];
    const [first] = await c.claimByIds(s.id, [done.id]);
    await c.complete(first!);
    const after = await c.addTask({ title: 'after all three', dependsOn: [a.id, b.id, done.id] });
    assert.deepEqual([after.status, after.pendingDeps], ['ready', 2], 'a dependency already done does not count');
    assert.equal(a.pendingDeps, 0);
    const claims = await c.claim(s.id, { n: 10 });
    assert.deepEqual(claims.map((x) => [x.task.title, x.task.pendingDeps]), [['a', 0], ['b', 0]], 'the waiting task is not claimed');
    await c.complete(claims[0]!);
    assert.equal((await c.getTask(after.id)).pendingDeps, 1);
    assert.deepEqual((await c.listTasks({ status: 'ready' })).map((t) => [t.title, t.pendingDeps]), [['after all three', 1]]);
    assert.deepEqual(await c.claim(s.id), [], 'still waiting for b');
    await c.completeMany([claims[1]!]);
    const [last] = await c.claim(s.id);
    assert.deepEqual([last!.task.id, last!.task.pendingDeps], [after.id, 0]);
    // A dependency that dies blocks the task; the count still says what was never done.
    const never = await c.addTask({ title: 'never', maxAttempts: 1 });
    const blocked = await c.addTask({ title: 'blocked', dependsOn: [never.id] });
    const [dying] = await c.claimByIds(s.id, [never.id]);
    await c.fail(dying!, 'broken');
    assert.deepEqual([(await c.getTask(blocked.id)).status, (await c.getTask(blocked.id)).pendingDeps], ['blocked', 1]);
  });

  withCoordinator('tasks: cancel and removal block dependents transitively; a task added on a blocked one is blocked, with the reason', async (c) => {
    const s = await c.register({ name: 'w' });
    const a = await c.addTask({ title: 'a' });
    const b = await c.addTask({ title: 'b', dependsOn: [a.id] });
    const cc = await c.addTask({ title: 'c', dependsOn: [b.id] });
    await c.cancel(a.id, { reason: 'not needed' });
    const statusOf = async (id: number) => {
      const t = await c.getTask(id);
      return [t.status, t.reason];
    };
    assert.deepEqual(await statusOf(b.id), ['blocked', `dependency ${a.id} is cancelled`]);
    assert.deepEqual(await statusOf(cc.id), ['blocked', `dependency ${b.id} is blocked`]);
    // Added after the block: blocked at once, and so is what depends on it.
    const d = await c.addTask({ title: 'd', dependsOn: [b.id] });
    assert.deepEqual([d.status, d.reason], ['blocked', `dependency ${b.id} is blocked`]);
    const e = await c.addTask({ title: 'e', dependsOn: [d.id] });
    assert.deepEqual([e.status, e.reason], ['blocked', `dependency ${d.id} is blocked`]);
    await rejectsWith(c.claimByIds(s.id, [d.id]), 'CONFLICT', 'blocked');
    // Removing a dependency that is not done blocks its dependents the same way.
    const x = await c.addTask({ title: 'x' });
    const y = await c.addTask({ title: 'y', dependsOn: [x.id] });
    const z = await c.addTask({ title: 'z', dependsOn: [y.id] });
    await c.removeTask(x.id, x.version);
    assert.deepEqual(await statusOf(y.id), ['blocked', `dependency ${x.id} was removed`]);
    assert.deepEqual(await statusOf(z.id), ['blocked', `dependency ${y.id} is blocked`]);
    assert.deepEqual(await c.claim(s.id, { n: 10 }), [], 'nothing left is claimable');
    assert.deepEqual((await c.events({ types: ['task.blocked'] })).map((ev) => Number(ev.key)), [b.id, cc.id, y.id, z.id]);
  });

  withCoordinator('tasks: reorder after another task; a task is never placed before or after itself; unknown patch fields are refused', async (c) => {
    const s = await c.register({ name: 'w' });
    const [t1, t2, t3, t4] = (await c.addTasks([{ title: 'one' }, { title: 'two' }, { title: 'three' }, { title: 'four' }])) as [Task, Task, Task, Task];
    const titles = async () => (await c.listTasks({ status: 'ready' })).map((t) => t.title);
    const version = async (t: Task) => (await c.getTask(t.id)).version;
    await c.reorderTask(t1.id, t1.version, { after: t3.id });
    assert.deepEqual(await titles(), ['two', 'three', 'one', 'four']);
    await c.reorderTask(t4.id, await version(t4), { after: t2.id });
    assert.deepEqual(await titles(), ['two', 'four', 'three', 'one']);
    await c.reorderTask(t2.id, await version(t2), { after: t1.id });
    assert.deepEqual(await titles(), ['four', 'three', 'one', 'two']);
    assert.equal((await c.claim(s.id))[0]!.task.title, 'four', 'claims follow the new order');

    const before = await c.getTask(t3.id);
    await rejectsWith(c.reorderTask(t3.id, before.version, { before: t3.id }), 'INVALID_ARGUMENT', `task ${t3.id} cannot be placed before itself`);
    await rejectsWith(c.reorderTask(t3.id, before.version, { after: t3.id }), 'INVALID_ARGUMENT', 'after itself');
    await rejectsWith(c.updateTask(t3.id, before.version, { status: 'done' } as never), 'INVALID_ARGUMENT', '"status"');
    await rejectsWith(c.updateTask(t3.id, before.version, { titel: 'typo' } as never), 'INVALID_ARGUMENT', '"titel"');
    const after = await c.getTask(t3.id);
    assert.deepEqual([after.version, after.title, after.status, after.position], [before.version, 'three', 'ready', before.position], 'nothing changed');
    assert.equal((await c.events({ types: ['task.updated'] })).length, 0);
  });

  withCoordinator('tasks: fail without retryInMs backs off exponentially with jitter (attempt n: 1 s x 2^(n-1), from half of it to all of it)', async (c) => {
    const s = await c.register({ name: 'w' });
    const task = await c.addTask({ title: 'flaky', maxAttempts: 6 });
    const highs: number[] = [];
    for (let attempt = 1; attempt <= 5; attempt++) {
      const [claim] = await c.claim(s.id);
      assert.equal(claim!.task.attempts, attempt);
      const t0 = Date.now();
      const failed = await c.fail(claim!, `failure ${attempt}`);
      const t1 = Date.now();
      assert.equal(failed.status, 'ready');
      // The store stamped the failure between t0 and t1, so the delay lies in [runAt - t1, runAt - t0].
      const full = 1000 * 2 ** (attempt - 1);
      assert.ok(failed.runAt - t0 >= full / 2, `attempt ${attempt}: waits ${failed.runAt - t0} ms at most, less than ${full / 2}`);
      assert.ok(failed.runAt - t1 <= full, `attempt ${attempt}: waits ${failed.runAt - t1} ms at least, more than ${full}`);
      highs.push(failed.runAt - t0);
      assert.deepEqual(await c.claim(s.id), [], 'not claimable before its runAt');
      // Brought forward instead of waited for: the backoff is in seconds.
      await c.updateTask(task.id, failed.version, { runAt: 0 });
    }
    // Without jitter every delay would be the full one.
    assert.ok(highs.some((h, i) => h < 1000 * 2 ** i - 2), `no jitter: delays at most ${highs.join(', ')} ms`);
  });

  withCoordinator('budgets: a per-model budget and an agent+model budget are enforced, each on its own scope', async (c) => {
    await c.setBudget({ model: 'opus', limit: 1000 });
    await c.setBudget({ agent: 'a1', model: 'opus', limit: 300 });
    const r1 = await c.reserve({ agent: 'a1', model: 'opus', estimate: 250 });
    await rejectsWith(c.reserve({ agent: 'a1', model: 'opus', estimate: 100 }), 'BUDGET_EXCEEDED', 'agent:a1|model:opus');
    // Another model of a1, or another agent on opus, is outside the agent+model budget.
    await c.cancelReservation((await c.reserve({ agent: 'a1', model: 'sonnet', estimate: 5000 })).id);
    const r2 = await c.reserve({ agent: 'a2', model: 'opus', estimate: 600 });
    await rejectsWith(c.reserve({ agent: 'a3', model: 'opus', estimate: 200 }), 'BUDGET_EXCEEDED', '"model:opus"');
    const committed = await c.commitReservation(r1.id, { promptTokens: 200, completionTokens: 50 });
    assert.deepEqual(committed.budgets.map((b) => b.scope).sort(), ['agent:a1|model:opus', 'model:opus']);
    assert.equal(committed.status!.scope, 'agent:a1|model:opus', 'the tightest budget');
    assert.equal(committed.status!.remaining, 50);
    await c.cancelReservation(r2.id);
    const over = await c.report({ agent: 'a2', model: 'opus', promptTokens: 800, completionTokens: 0 });
    assert.deepEqual([over.status!.scope, over.status!.used, over.status!.exceeded], ['model:opus', 1050, true]);
    assert.deepEqual((await c.events({ types: ['tokens.exceeded'] })).map((e) => e.key), ['model:opus']);
    assert.equal((await c.budgetStatus({ agent: 'a1', model: 'opus' }))[0]!.used, 250, "a2's spend is not a1's");
    await rejectsWith(c.reserve({ agent: 'a2', model: 'opus', estimate: 1 }), 'BUDGET_EXCEEDED', 'model:opus');
  });

  withCoordinator('budgets: resetting a budget that does not exist is NOT_FOUND, naming the scope, and resets nothing', async (c) => {
    await c.setBudget({ agent: 'a1', limit: 100 });
    await c.report({ agent: 'a1', model: 'm', promptTokens: 40, completionTokens: 0 });
    await rejectsWith(c.resetBudget({ agent: 'nope' }), 'NOT_FOUND', '"agent:nope"');
    await rejectsWith(c.resetBudget({ agent: 'a1', model: 'm' }), 'NOT_FOUND', '"agent:a1|model:m"');
    await rejectsWith(c.resetBudget({}), 'NOT_FOUND', '"*"');
    assert.equal((await c.budgetStatus({ agent: 'a1' }))[0]!.used, 40);
    assert.deepEqual(await c.events({ types: ['tokens.reset'] }), []);
    await c.resetBudget({ agent: 'a1' });
    assert.equal((await c.budgetStatus({ agent: 'a1' }))[0]!.used, 0);
    await c.resetBudget(); // every budget: nothing to name, so never NOT_FOUND
    assert.deepEqual((await c.events({ types: ['tokens.reset'] })).map((e) => e.key), ['agent:a1', null]);
  });

  withCoordinator('budgets: a commit above its reservation is recorded and said: overshoot in the result, a tokens.overshoot event, tokens.exceeded past the limit', async (c) => {
    await c.setBudget({ limit: 50_000 });
    const within = await c.reserve({ agent: 'a1', model: 'opus', estimate: 20_000 });
    const above = await c.reserve({ agent: 'a2', model: 'opus', estimate: 30_000 });
    await rejectsWith(c.reserve({ agent: 'a3', estimate: 1 }), 'BUDGET_EXCEEDED', 'used 0 + reserved 50000 of 50000');
    const fine = await c.commitReservation(within.id, { promptTokens: 15_000, completionTokens: 4_000 });
    assert.equal(fine.overshoot, null, 'a commit within its estimate overshoots nothing');
    const over = await c.commitReservation(above.id, { promptTokens: 30_000, completionTokens: 11_000 });
    assert.deepEqual(over.overshoot, { reservationId: above.id, estimate: 30_000, actual: 41_000, by: 11_000 });
    assert.equal(over.status!.used, 60_000, 'the usage happened: all of it is recorded');
    assert.equal(over.status!.exceeded, true);
    assert.equal(over.status!.remaining, -10_000);
    const [overshootEvent] = await c.events({ types: ['tokens.overshoot'] });
    assert.equal(overshootEvent?.key, above.id);
    assert.equal(overshootEvent?.actor, 'a2');
    assert.deepEqual(overshootEvent?.data, { reservationId: above.id, agent: 'a2', model: 'opus', estimate: 30_000, actual: 41_000, by: 11_000 });
    const exceeded = await c.events({ types: ['tokens.exceeded'] });
    assert.deepEqual(exceeded.map((e) => [e.key, e.data.used, e.data.limit]), [['*', 60_000, 50_000]]);
    assert.ok(exceeded[0]!.seq > overshootEvent!.seq, 'the overshoot comes first: it is why the limit was passed');
    const updates = await c.events({ types: ['tokens.updated'] });
    assert.deepEqual(updates.map((e) => e.data.reservationId), [within.id, above.id], 'each commit names the reservation it settles');
    assert.equal((await c.report({ agent: 'a1', model: 'opus', promptTokens: 1, completionTokens: 0 })).overshoot, null, 'a report has no reservation to overshoot');
    await rejectsWith(c.reserve({ agent: 'a1', estimate: 1 }), 'BUDGET_EXCEEDED', 'used 60001');
  });

  withCoordinator('reasons must be strings and event queries well formed: INVALID_ARGUMENT naming the value, nothing changed', async (c) => {
    const t = await c.addTask({ title: 't' });
    await rejectsWith(c.cancel(t.id, { reason: 5 as never }), 'INVALID_ARGUMENT', /reason.*5/);
    assert.equal((await c.getTask(t.id)).status, 'ready');
    await c.acquire('k', { owner: 'a' });
    await rejectsWith(c.forceRelease('k', { reason: { why: 'stuck' } as never }), 'INVALID_ARGUMENT', 'reason');
    assert.equal((await c.listLeases()).length, 1);
    const s = await c.register({ name: 'w', autoHeartbeat: false });
    await rejectsWith(c.endSession(s.id, { reason: 42 as never }), 'INVALID_ARGUMENT', /reason.*42/);
    assert.equal((await c.getSession(s.id)).endedAt, null);
    assert.equal((await c.cancel(t.id, { reason: 'duplicate' })).reason, 'duplicate');
    // An empty reason (a CLI's --reason "") is no reason: the default.
    assert.equal((await c.cancel((await c.addTask({ title: 'u' })).id, { reason: '' })).reason, 'cancelled');

    await rejectsWith(c.events({ types: 'task.' as never }), 'INVALID_ARGUMENT', '"task."');
    await rejectsWith(c.events({ types: [5] as never }), 'INVALID_ARGUMENT', 'types[0]');
    await rejectsWith(c.events({ after: -1 }), 'INVALID_ARGUMENT', '-1');
    await rejectsWith(c.events({ limit: 0 }), 'INVALID_ARGUMENT', 'limit');
    await rejectsWith(c.events({ typos: ['task.'] } as never), 'INVALID_ARGUMENT', '"typos"');
    // A subscription with a bad query is refused at once, here and through the daemon alike.
    for (const [query, mention] of [[{ types: 'task.' }, '"task."'], [{ after: -2 }, '-2']] as const) {
      assert.throws(() => c.subscribe(() => undefined, query as never), (e: Error & { code?: string }) => e.code === 'INVALID_ARGUMENT' && e.message.includes(mention));
    }
  });

  messagesConformance(withCoordinator);
  releaseConformance(withCoordinator);
  kvConformance(withCoordinator);
  approvalsConformance(withCoordinator);
  quotaConformance(withCoordinator);
  artifactConformance(withCoordinator);
}

/** Waits until `n` waiters are queued on `key`. */
async function waitUntilQueued(c: Coordinator, key: string, n: number): Promise<void> {
  const until = performance.now() + 5000;
  while ((await c.getLease(key)).waiters.length < n) {
    if (performance.now() > until) throw new Error(`fewer than ${n} waiters queued on ${key}`);
    await sleep(5);
  }
}
