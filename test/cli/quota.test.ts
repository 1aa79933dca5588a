// baton quota set|rm|list on the embedded store, a request over a quota in
// one line with exit 75, and the quotas in `baton status`.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { baton, tempDir, type Finished } from '../helpers/procs.ts';

function oneLine(r: Finished, code: number, pattern: RegExp): void {
  assert.equal(r.code, code, `exit ${code} expected, got ${r.code}; stderr: ${r.stderr}`);
  assert.match(r.stderr, pattern);
  assert.equal(r.stderr.split('\n').filter(Boolean).length, 1, `one line: ${r.stderr}`);
}

test('quota set/list/rm; addTask over queued-tasks is one line naming the quota, exit 75; status shows quotas', { timeout: 120_000 }, async (t) => {
  const db = join(tempDir(t), 'b.db');
  const run = (...args: string[]): Promise<Finished> => baton([...args, '--db', db]);
  assert.equal((await run('quota', 'set', 'queued-tasks', '1')).stdout, 'quota queued-tasks is 1\n');
  assert.equal((await run('quota', 'set', 'claims-per-agent', '4', '--agent', 'ci')).stdout, 'quota claims-per-agent for agent "ci" is 4\n');
  assert.equal((await run('task', 'add', 'first')).code, 0);
  oneLine(await run('task', 'add', 'second'), 75, /^baton: quota queued-tasks is 1: the queue holds 1 unfinished task and 1 more was asked; none was added \[QUOTA_EXCEEDED\]/);
  const listed = await run('quota', 'list');
  assert.match(listed.stdout, /^QUOTA\s+FOR\s+USED\s+LIMIT\n/);
  assert.match(listed.stdout, /\nclaims-per-agent\s+agent ci\s+0\s+4\n/);
  assert.match(listed.stdout, /\nqueued-tasks\s+the queue\s+1\s+1\n/);
  const json = JSON.parse((await run('quota', 'list', '--json')).stdout) as Array<{ quota: string; limit: number | null }>;
  assert.deepEqual(json.map((q) => [q.quota, q.limit]), [['claims-per-agent', null], ['leases-per-session', null], ['queued-tasks', 1]]);
  assert.match((await run('status')).stdout, /\nquotas \(2 set\)\nQUOTA\s+FOR\s+USED\s+LIMIT\n[^]*queued-tasks\s+the queue\s+1\s+1\n/);
  assert.equal((await run('quota', 'rm', 'queued-tasks')).stdout, 'quota queued-tasks removed\n');
  assert.equal((await run('task', 'add', 'second')).code, 0, 'no quota: no limit');
  oneLine(await run('quota', 'set', 'queued-tasks', '1', '--agent', 'x'), 2, /queued-tasks is the whole queue's: it takes no agent \[INVALID_ARGUMENT\]/);
  oneLine(await run('quota', 'set', 'claims', '1'), 2, /unknown quota "claims": one of claims-per-agent, leases-per-session, queued-tasks/);
  oneLine(await run('quota', 'set', 'queued-tasks', 'many'), 2, /<n> must be a whole number/);
});
