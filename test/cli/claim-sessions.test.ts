// The session a `task claim` claims for: its own, ended when its last claim
// is settled (and never before: nothing is put back early); a named one,
// reused by later claims; or one given by id. Real baton processes against a
// temp database; the twin sessions are registered through the library.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openCoordinator } from '../../src/index.ts';
import { baton, tempDir, type Finished } from '../helpers/procs.ts';

interface Claimed {
  taskId: number;
  token: number;
  task: { claimedBy: string };
}
interface SessionJson {
  id: string;
  name: string;
  endedAt: number | null;
  endReason: string | null;
}

function ok(r: Finished): string {
  assert.equal(r.code, 0, `exit 0 expected: ${r.stderr}`);
  return r.stdout;
}

test("task claim's own session ends with its last claim, and not before", { timeout: 120_000 }, async (t) => {
  const db = join(tempDir(t, 'baton-claim-session-'), 'baton.db');
  const run = (...args: string[]) => baton([...args, '--db', db]);
  const live = async () => JSON.parse(ok(await run('agents', '--json'))) as SessionJson[];
  for (const title of ['a', 'b', 'c']) ok(await run('task', 'add', title));

  const claims = JSON.parse(ok(await run('task', 'claim', '--n', '3', '--json'))) as Claimed[];
  const session = claims[0]!.task.claimedBy;
  assert.ok(claims.every((c) => c.task.claimedBy === session), 'one session for the claim');
  assert.deepEqual((await live()).map((s) => [s.id, s.name]), [[session, 'cli']]);

  // Each of the three ways to settle a claim; the session lives while a claim remains.
  const [a, b, c] = claims as [Claimed, Claimed, Claimed];
  ok(await run('task', 'complete', String(a.taskId), '--token', String(a.token)));
  ok(await run('task', 'fail', String(b.taskId), '--token', String(b.token), '--error', 'flaky'));
  assert.deepEqual((await live()).map((s) => s.id), [session]);
  const left = JSON.parse(ok(await run('task', 'show', String(c.taskId), '--json'))) as { status: string; claimedBy: string };
  assert.deepEqual([left.status, left.claimedBy], ['claimed', session], 'the last claim was not put back');

  ok(await run('task', 'release', String(c.taskId), '--token', String(c.token)));
  assert.equal(ok(await run('agents')), 'no live sessions\n');
  const ended = (JSON.parse(ok(await run('agents', '--all', '--json'))) as SessionJson[]).find((s) => s.id === session)!;
  assert.equal(ended.endReason, 'its claims are settled');
  // Nothing was requeued by the end: the released task is ready, the failed one waits for its retry.
  const events = ok(await run('events', '--type', 'agent.ended', '--json')).trim().split('\n').map((l) => JSON.parse(l) as { data: { tasksRequeued: number } });
  assert.deepEqual(events.map((e) => e.data.tasksRequeued), [0]);
});

test('task claim --name reuses the live session of that name; --session is never ended by baton', { timeout: 120_000 }, async (t) => {
  const db = join(tempDir(t, 'baton-claim-session-'), 'baton.db');
  const run = (...args: string[]) => baton([...args, '--db', db]);
  for (const title of ['a', 'b', 'c']) ok(await run('task', 'add', title));

  const first = await run('task', 'claim', '--name', 'alice');
  const session = /^session: (\S+) \(alice\)$/m.exec(ok(first))?.[1];
  assert.ok(session !== undefined, first.stdout);
  const [second] = JSON.parse(ok(await run('task', 'claim', '--name', 'alice', '--json'))) as Claimed[];
  assert.equal(second!.task.claimedBy, session, 'the same session');
  const agents = JSON.parse(ok(await run('agents', '--json'))) as SessionJson[];
  assert.deepEqual(agents.map((s) => [s.id, s.name]), [[session, 'alice']], 'one agent, however many claims');

  // By id: the claim is the session's; settling it leaves the session to its owner.
  const [third] = JSON.parse(ok(await run('task', 'claim', '--session', session!, '--json'))) as Claimed[];
  assert.equal(third!.task.claimedBy, session);
  for (const c of [second!, third!]) ok(await run('task', 'complete', String(c.taskId), '--token', String(c.token)));
  assert.deepEqual((JSON.parse(ok(await run('agents', '--json'))) as SessionJson[]).map((s) => s.id), [session]);

  // A name registered for a claim that found nothing is not left behind.
  assert.match(ok(await run('task', 'claim', '--name', 'carol')), /^nothing to claim/);
  assert.deepEqual((JSON.parse(ok(await run('agents', '--json'))) as SessionJson[]).map((s) => s.name), ['alice']);

  const wrongName = await run('task', 'claim', '--session', session!, '--name', 'bob');
  assert.equal(wrongName.code, 2);
  assert.equal(wrongName.stderr, `baton: session ${session} is named "alice", not "bob" [INVALID_ARGUMENT]\n`);
});

test('task claim --name refuses a name two live sessions share, naming them', async (t) => {
  const db = join(tempDir(t, 'baton-claim-session-'), 'baton.db');
  const c = await openCoordinator({ url: `sqlite:${db}` });
  t.after(() => c.close());
  // This test process is their pid: they stay live while it runs.
  const one = await c.register({ name: 'twin', autoHeartbeat: false, ttlMs: 600_000 });
  const two = await c.register({ name: 'twin', autoHeartbeat: false, ttlMs: 600_000 });
  const r = await baton(['task', 'claim', '--name', 'twin', '--db', db]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^baton: 2 live sessions are named "twin" \((\S+), (\S+)\); give --session <id> \[INVALID_ARGUMENT\]\n$/);
  assert.ok(r.stderr.includes(one.id) && r.stderr.includes(two.id));
});
