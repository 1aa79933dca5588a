// baton kv: put, get, compare-and-swap refusals in one line, leased keys,
// ls and del on the embedded store; watch through the project's daemon.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { startDaemon } from '../../support/daemon.ts';
import { baton, startNode, tempDir, type Finished } from '../helpers/procs.ts';
import { cli } from '../../support/paths.ts';

function oneLine(r: Finished, code: number, pattern: RegExp): void {
  assert.equal(r.code, code, `exit ${code} expected, got ${r.code}; stderr: ${r.stderr}`);
  assert.match(r.stderr, pattern);
  assert.equal(r.stderr.split('\n').filter(Boolean).length, 1, `one line: ${r.stderr}`);
}

test('kv put/get/del/ls on the embedded store; a failed compare-and-swap is one line naming both revisions', { timeout: 120_000 }, async (t) => {
  const db = join(tempDir(t), 'b.db');
  const run = (...args: string[]): Promise<Finished> => baton([...args, '--db', db]);
  const created = await run('kv', 'put', 'cfg/mode', '{"fast":true}', '--expect-revision', '0');
  assert.equal(created.code, 0, created.stderr);
  const revision = Number(/at revision (\d+)/.exec(created.stdout)![1]);
  assert.equal((await run('kv', 'get', 'cfg/mode')).stdout, '{"fast":true}\n');
  oneLine(await run('kv', 'put', 'cfg/mode', '1', '--expect-revision', '0'), 1, new RegExp(`"cfg/mode" is at revision ${revision}; expected it absent .*\\[CONFLICT\\]`));
  oneLine(await run('kv', 'put', 'cfg/mode', '1', '--expect-revision', String(revision + 5)), 1, new RegExp(`revision ${revision}; expected revision ${revision + 5}`));
  const swapped = JSON.parse((await run('kv', 'put', 'cfg/mode', 'plain text', '--string', '--expect-revision', String(revision), '--json')).stdout);
  assert.equal(swapped.value, 'plain text');
  assert.equal(swapped.version, 2);
  oneLine(await run('kv', 'put', 'cfg/mode', 'not json'), 2, /must be JSON.*--string/);
  oneLine(await run('kv', 'get', 'cfg/none'), 1, /no kv key "cfg\/none" \[NOT_FOUND\]/);
  oneLine(await run('kv', 'put', 'k', '1', '--lease', 'x'), 2, /--lease and --lease-token go together/);
  oneLine(await run('kv', 'put', 'k', '1', '--expect-revision', '-1'), 2, /--expect-revision/);
  // A key bound to a lease from 'baton lease acquire' goes when the lease is released.
  const lease = JSON.parse((await run('lease', 'acquire', 'leader', '--owner', 'me', '--json')).stdout) as { token: number };
  assert.equal((await run('kv', 'put', 'leader/who', '"me"', '--lease', 'leader', '--lease-token', String(lease.token))).code, 0);
  const listed = await run('kv', 'ls', '--prefix', 'leader/');
  assert.match(listed.stdout, new RegExp(`leader/who\\s+\\d+\\s+1\\s+leader#${lease.token}\\s+"me"`));
  assert.equal((await run('lease', 'release', 'leader', '--token', String(lease.token))).code, 0);
  oneLine(await run('kv', 'get', 'leader/who'), 1, /NOT_FOUND/);
  oneLine(await run('kv', 'put', 'leader/who', '1', '--lease', 'leader', '--lease-token', String(lease.token)), 1, /STALE_TOKEN/);
  const all = JSON.parse((await run('kv', 'ls', '--json')).stdout) as { entries: Array<{ key: string }>; revision: number; more: boolean };
  assert.deepEqual(all.entries.map((e) => e.key), ['cfg/mode']);
  assert.equal((await run('kv', 'del', 'cfg/mode', '--expect-revision', String(revision))).code, 1, 'a stale delete is refused');
  assert.match((await run('kv', 'del', 'cfg/mode')).stdout, /^deleted cfg\/mode at revision \d+\n$/);
  assert.equal((await run('kv', 'del', 'cfg/mode')).stdout, 'cfg/mode did not exist\n');
});

test('kv watch through the daemon prints changes from a revision on, and stops on SIGINT', { timeout: 120_000 }, async (t) => {
  const home = tempDir(t);
  const daemon = await startDaemon(home);
  t.after(() => daemon.stop());
  const env = { BATON_NO_DAEMON: '', BATON_DB: '', BATON_URL: '', BATON_HOME: home };
  const run = (...args: string[]): Promise<Finished> => baton(args, { env, cwd: home });
  const revisionOf = (r: Finished): number => Number(/at revision (\d+)/.exec(r.stdout)![1]);
  const first = await run('kv', 'put', 'w/a', '1');
  assert.equal(first.code, 0, first.stderr);
  // From the revision before the first put: the log gives it back, then the live changes follow.
  const watcher = startNode(cli, ['kv', 'watch', '--prefix', 'w/', '--from-revision', String(revisionOf(first) - 1)], { env, cwd: home });
  t.after(() => watcher.child.kill('SIGKILL'));
  await watcher.line(`${revisionOf(first)}  put     w/a  1`, 30_000);
  assert.equal((await run('kv', 'put', 'other', '0')).code, 0);
  const second = revisionOf(await run('kv', 'put', 'w/b', '{"x":[1]}'));
  const deleted = await run('kv', 'del', 'w/a');
  const third = revisionOf(deleted);
  await watcher.line(`${third}  delete  w/a`, 30_000);
  watcher.child.kill('SIGINT');
  const done = await watcher.done;
  assert.equal(done.code, 0, done.stderr);
  assert.deepEqual(watcher.lines(), [`${revisionOf(first)}  put     w/a  1`, `${second}  put     w/b  {"x":[1]}`, `${third}  delete  w/a`]);
});
