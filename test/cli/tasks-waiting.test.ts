// A task that waits (dependencies not done, or a runAt to come) is shown as
// waiting, with what for, by task list and task show; --status waiting and
// --status ready tell them apart; task claim says why it found nothing.
// Real baton processes against a temp database.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { baton, tempDir, type Finished } from '../helpers/procs.ts';

function ok(r: Finished): string {
  assert.equal(r.code, 0, `exit 0 expected: ${r.stderr}`);
  assert.equal(r.stderr, '');
  return r.stdout;
}

/** The rows of `task list` as [id, status, waiting for, title]; the WAITING FOR column is there only when a task waits. */
function rows(stdout: string): string[][] {
  const [header, ...lines] = stdout.trimEnd().split('\n');
  assert.match(header!, /^ID +QUEUE +STATUS +PRI +TRIES +(WAITING FOR +)?TITLE$/);
  const at = (name: string) => header!.indexOf(name);
  const cut = (line: string, from: string, to: string) => line.slice(at(from), at(to)).trim();
  const waits = at('WAITING FOR') !== -1;
  return lines.map((l) => [cut(l, 'ID', 'QUEUE'), cut(l, 'STATUS', 'PRI'), waits ? cut(l, 'WAITING FOR', 'TITLE') : '', l.slice(at('TITLE'))]);
}

test('task list and task show: a task waiting for its dependencies or its time is "waiting", with what for', { timeout: 120_000 }, async (t) => {
  const db = join(tempDir(t, 'baton-waiting-'), 'baton.db');
  const run = (...args: string[]) => baton([...args, '--db', db]);
  ok(await run('task', 'add', 'build'));
  ok(await run('task', 'add', 'test'));
  ok(await run('task', 'add', 'deploy', '--depends-on', '1,2'));
  ok(await run('task', 'add', 'nightly', '--run-at', '+600'));

  const listed = rows(ok(await run('task', 'list')));
  assert.deepEqual(listed.slice(0, 3), [
    ['1', 'ready', '-', 'build'],
    ['2', 'ready', '-', 'test'],
    ['3', 'waiting', 'tasks 1, 2', 'deploy'],
  ]);
  assert.deepEqual(listed[3]!.slice(0, 2), ['4', 'waiting']);
  assert.match(listed[3]![2]!, /^runAt, in (10m|9m\d+s)$/);

  // --status: ready and waiting are told apart; both together are every ready task of the engine.
  assert.deepEqual(rows(ok(await run('task', 'list', '--status', 'waiting'))).map((r) => r[0]), ['3', '4']);
  const ready = ok(await run('task', 'list', '--status', 'ready'));
  assert.deepEqual(rows(ready).map((r) => r[0]), ['1', '2']);
  assert.doesNotMatch(ready, /WAITING FOR/, 'no column when nothing listed waits');
  assert.deepEqual(rows(ok(await run('task', 'list', '--status', 'ready,waiting'))).map((r) => r[0]), ['1', '2', '3', '4']);
  // JSON is the engine's Task: status ready, with the count of dependencies not done.
  const waitingJson = JSON.parse(ok(await run('task', 'list', '--status', 'waiting', '--json'))) as Array<{ id: number; status: string; pendingDeps: number }>;
  assert.deepEqual(waitingJson.map((x) => [x.id, x.status, x.pendingDeps]), [[3, 'ready', 2], [4, 'ready', 0]]);

  const shown = ok(await run('task', 'show', '3'));
  assert.match(shown, /^status: +waiting$/m);
  assert.match(shown, /^waitingFor: +tasks 1 \(ready\), 2 \(ready\)$/m);

  // Claimed, then done: the column follows.
  const claims = JSON.parse(ok(await run('task', 'claim', '--json'))) as Array<{ taskId: number; token: number }>;
  assert.deepEqual(claims.map((c) => c.taskId), [1]);
  assert.match(ok(await run('task', 'show', '3')), /^waitingFor: +tasks 1 \(claimed\), 2 \(ready\)$/m);
  ok(await run('task', 'complete', '1', '--token', String(claims[0]!.token)));
  assert.match(ok(await run('task', 'show', '3')), /^waitingFor: +task 2 \(ready\)$/m);
  assert.deepEqual(rows(ok(await run('task', 'list', '--status', 'waiting')))[0], ['3', 'waiting', 'task 2', 'deploy']);

  // Nothing claimable: claim says what waits.
  const second = JSON.parse(ok(await run('task', 'claim', '--json'))) as Array<{ taskId: number; token: number }>;
  assert.equal(ok(await run('task', 'claim')), `nothing to claim in queue "default"; 2 tasks are waiting for dependencies or their time (see 'baton task list --status waiting')\n`);
  ok(await run('task', 'complete', '2', '--token', String(second[0]!.token)));
  assert.deepEqual(rows(ok(await run('task', 'list', '--status', 'ready'))), [['3', 'ready', '', 'deploy']]);
  assert.doesNotMatch(ok(await run('task', 'show', '3')), /waitingFor/);
});

test('a dependency that died: the task is blocked, not waiting, and says why', async (t) => {
  const db = join(tempDir(t, 'baton-waiting-'), 'baton.db');
  const run = (...args: string[]) => baton([...args, '--db', db]);
  ok(await run('task', 'add', 'flaky', '--max-attempts', '1'));
  ok(await run('task', 'add', 'after', '--depends-on', '1'));
  const [claim] = JSON.parse(ok(await run('task', 'claim', '--json'))) as Array<{ token: number }>;
  ok(await run('task', 'fail', '1', '--token', String(claim!.token), '--error', 'broke'));
  assert.deepEqual(rows(ok(await run('task', 'list'))), [
    ['1', 'dead', '', 'flaky'],
    ['2', 'blocked', '', 'after'],
  ]);
  assert.match(ok(await run('task', 'show', '2')), /^reason: +dependency 1 is dead$/m);
  assert.equal(ok(await run('task', 'list', '--status', 'waiting')), 'no tasks\n');
});
