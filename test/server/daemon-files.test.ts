// Files and git through the daemon: writes are accepted only under a live
// exclusive path lease with its current token, paths stay in the project,
// and changes are announced as fs.changed events.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { BatonEvent } from '../../src/client/index.ts';
import { startDaemon, type RunningDaemon } from '../../support/daemon.ts';
import { sleep, tempDir } from '../helpers/procs.ts';

async function rejectsWith(promise: Promise<unknown>, code: string, mention?: RegExp): Promise<void> {
  await assert.rejects(promise, (error: Error & { code?: string }) => {
    assert.equal(error.code, code, error.message);
    if (mention) assert.match(error.message, mention);
    return true;
  });
}

/** A git repository with a committer set, and a daemon serving it (state under .git/baton; `baton serve` with `args`). */
async function gitProjectDaemon(t: TestContext, args: string[] = []): Promise<{ root: string; daemon: RunningDaemon }> {
  const root = tempDir(t);
  execFileSync('git', ['init', '-q', root]);
  execFileSync('git', ['-C', root, 'config', 'user.email', 't@example.com']);
  execFileSync('git', ['-C', root, 'config', 'user.name', 'Tester']);
  const daemon = await startDaemon(join(root, '.git', 'baton'), { cwd: root, args });
  t.after(() => daemon.stop());
  return { root, daemon };
}

test('writes, deletes and renames need a covering exclusive lease and its current token; paths stay in the project', async (t) => {
  const { root, daemon } = await gitProjectDaemon(t);
  const alice = daemon.client();
  const bob = daemon.client();
  const events: BatonEvent[] = [];
  const sub = alice.subscribe((e) => events.push(e), { types: ['fs.'] });
  t.after(() => sub.close());

  const mine = await alice.acquire('path:src/**', { owner: 'alice' });
  await rejectsWith(bob.writeFile('src/a.ts', 'x', { key: 'path:src/a.ts', token: 1 }), 'STALE_TOKEN');
  const refused = bob.writeFile('src/a.ts', 'bob was here', undefined);
  await rejectsWith(refused, 'LEASE_REQUIRED', /alice/);
  const docs = await bob.acquire('path:docs/**', { owner: 'bob' });
  await rejectsWith(bob.writeFile('src/a.ts', 'x', docs), 'LEASE_REQUIRED', /src\/a\.ts/);
  const shared = await bob.acquire('path:lib/**', { owner: 'bob', mode: 'shared' });
  await rejectsWith(bob.writeFile('lib/x.ts', 'x', shared), 'LEASE_REQUIRED', /exclusive/);

  const written = await alice.writeFile('src/deep/a.ts', 'export const a = 1;\n', mine);
  assert.equal(written.path, 'src/deep/a.ts');
  assert.equal(readFileSync(join(root, 'src/deep/a.ts'), 'utf8'), 'export const a = 1;\n');
  await alice.renameFile('src/deep/a.ts', 'src/b.ts', mine);
  assert.equal(readFileSync(join(root, 'src/b.ts'), 'utf8'), 'export const a = 1;\n');
  await rejectsWith(alice.renameFile('src/b.ts', 'docs/b.ts', mine), 'LEASE_REQUIRED', /docs\/b\.ts/);
  assert.deepEqual(Buffer.from(await bob.readFile('src/b.ts')).toString(), 'export const a = 1;\n');

  for (const escape of ['../outside.txt', '/etc/passwd', 'src/../../x']) {
    await rejectsWith(alice.writeFile(escape, 'x', mine), 'OUTSIDE_ROOT');
  }
  mkdirSync(join(root, 'src', 'sub'), { recursive: true });
  symlinkSync('/tmp', join(root, 'src', 'sub', 'tmp-link'));
  await rejectsWith(alice.writeFile('src/sub/tmp-link/evil.txt', 'x', mine), 'OUTSIDE_ROOT');

  await alice.release(mine);
  await rejectsWith(alice.writeFile('src/b.ts', 'late', mine), 'STALE_TOKEN');
  assert.equal(readFileSync(join(root, 'src/b.ts'), 'utf8'), 'export const a = 1;\n', 'a refused write changed nothing');
  const again = await bob.acquire('path:src/b.ts', { owner: 'bob' });
  await bob.deleteFile('src/b.ts', again);

  // A change made outside baton is seen by the daemon's watcher.
  writeFileSync(join(root, 'outside-edit.txt'), 'hello');
  const deadline = performance.now() + 5000;
  while (performance.now() < deadline && !events.some((e) => e.data.path === 'outside-edit.txt')) await sleep(20);
  const bySource = (source: string) => events.filter((e) => e.data.source === source).map((e) => `${e.data.kind} ${e.data.path}`);
  assert.deepEqual(bySource('baton'), ['write src/deep/a.ts', 'rename src/deep/a.ts', 'rename src/b.ts', 'delete src/b.ts']);
  assert.ok(bySource('watcher').some((line) => line.endsWith(' outside-edit.txt')), `the watcher saw the edit: ${JSON.stringify(bySource('watcher'))}`);
  assert.ok(!bySource('watcher').some((line) => line.includes('.git/')), 'nothing under .git is reported');
  assert.equal(events.find((e) => e.data.path === 'src/deep/a.ts')!.actor, 'alice');
});

test('git status and commit run under the git lease', async (t) => {
  const { root, daemon } = await gitProjectDaemon(t);
  const c = daemon.client();
  const lease = await c.acquire('path:README.md', { owner: 'agent' });
  await c.writeFile('README.md', '# hi\n', lease);
  assert.match((await c.gitStatus()).output, /\?\? README\.md/);
  const held = await c.acquire('git', { owner: 'someone', ttlMs: 300 });
  const started = performance.now();
  const commit = await c.gitCommit('add readme', { paths: ['README.md'], owner: 'agent' });
  assert.ok(performance.now() - started >= 200, 'the commit waited for the git lease');
  await c.release(held).catch(() => undefined);
  assert.match(commit.commit!, /^[0-9a-f]{40}$/);
  assert.equal(execFileSync('git', ['-C', root, 'log', '--format=%s'], { encoding: 'utf8' }).trim(), 'add readme');
  const ev = (await c.events({ types: ['git.committed'] }))[0]!;
  assert.equal(ev.data.commit, commit.commit);
});

/** A POST to the daemon as any HTTP client sends it, with an Idempotency-Key. */
function post(socketPath: string, path: string, body: unknown, key: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const text = JSON.stringify(body);
    const req = request({ socketPath, path, method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': key } }, (res) => {
      let out = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(out) }));
    });
    req.on('error', reject);
    req.end(text);
  });
}

test('file and git operations honour the Idempotency-Key: a retry gets the first answer and acts once', async (t) => {
  const { root, daemon } = await gitProjectDaemon(t);
  const socket = daemon.record.socket!;
  const c = daemon.client();
  const lease = await c.acquire('path:**', { owner: 'agent' });
  const ref = { key: lease.key, token: lease.token };
  await c.writeFile('a.txt', 'one\n', lease);

  const first = await post(socket, '/v1/renameFile', { from: 'a.txt', to: 'b.txt', lease: ref }, 'rename-1');
  assert.deepEqual(first, { status: 200, body: { path: 'b.txt', from: 'a.txt' } });
  // Sent again (the answer was lost, say): the same answer, and nothing renamed twice.
  assert.deepEqual(await post(socket, '/v1/renameFile', { from: 'a.txt', to: 'b.txt', lease: ref }, 'rename-1'), first);
  assert.equal(readFileSync(join(root, 'b.txt'), 'utf8'), 'one\n');
  const mismatch = await post(socket, '/v1/deleteFile', { path: 'b.txt', lease: ref }, 'rename-1');
  assert.equal(mismatch.status, 409);
  assert.equal(mismatch.body.error.code, 'IDEMPOTENCY_MISMATCH');
  assert.equal(readFileSync(join(root, 'b.txt'), 'utf8'), 'one\n', 'the mismatched request changed nothing');

  // Concurrent copies of one write: one write, one fs.changed event.
  const writes = await Promise.all(Array.from({ length: 4 }, () => post(socket, '/v1/writeFile', { path: 'c.txt', content: 'two\n', lease: ref }, 'write-1')));
  for (const w of writes) assert.deepEqual(w, { status: 200, body: { path: 'c.txt', size: 4 } });
  await c.writeFile('c.txt', 'three\n', lease);
  assert.deepEqual(await post(socket, '/v1/writeFile', { path: 'c.txt', content: 'two\n', lease: ref }, 'write-1'), writes[0], 'a late replay');
  assert.equal(readFileSync(join(root, 'c.txt'), 'utf8'), 'three\n', 'a replay does not write again');
  const changes = (await c.events({ types: ['fs.changed'] })).filter((e) => e.data.path === 'c.txt' && e.data.source === 'baton');
  assert.equal(changes.length, 2, 'the replayed writes were announced once');

  const commits = await Promise.all([1, 2].map(() => post(socket, '/v1/gitCommit', { message: 'once', paths: ['b.txt', 'c.txt'] }, 'commit-1')));
  assert.equal(commits[0]!.status, 200, JSON.stringify(commits[0]!.body));
  assert.deepEqual(commits[1], commits[0]);
  assert.equal(execFileSync('git', ['-C', root, 'log', '--format=%s'], { encoding: 'utf8' }).trim(), 'once');
});

test("a write that passed its lease check never lands after a later holder's write to the same file", async (t) => {
  const { root, daemon } = await gitProjectDaemon(t, ['--max-body', String(64 << 20)]);
  const alice = daemon.client();
  const bob = daemon.client();
  const outcomes: string[] = [];
  // Bob takes the lease from alice at moments of her write: while her small request is
  // on its way, checked or written, and once the temp file of a large one is on disk.
  for (const takeover of [0, 1, 2, 5, 10, 20, 40, 'temp file'] as const) {
    const content = takeover === 'temp file' ? 'a'.repeat(24 << 20) : 'alice';
    const first = await alice.acquire('path:race.txt', { owner: 'alice' });
    const slow = alice.writeFile('race.txt', content, first).then(
      () => 'acknowledged',
      (error: Error & { code?: string }) => `refused with ${error.code}`,
    );
    if (takeover === 'temp file') {
      const deadline = performance.now() + 20_000;
      while (!readdirSync(root).some((n) => n.startsWith('.race.txt.') && n.endsWith('.tmp'))) {
        assert.ok(performance.now() < deadline, "alice's write never began");
        await sleep(0.2);
      }
    } else {
      await sleep(takeover);
    }
    await bob.forceRelease('path:race.txt', { reason: 'taken over' });
    const second = await bob.acquire('path:race.txt', { owner: 'bob' });
    await bob.writeFile('race.txt', `bob ${takeover}`, second);
    const outcome = await slow;
    outcomes.push(`${takeover}: ${outcome}`);
    assert.equal(readFileSync(join(root, 'race.txt'), 'utf8').slice(0, 16), `bob ${takeover}`, `takeover at ${takeover}: alice's write (${outcome}) landed after bob's`);
    await bob.release(second);
  }
  t.diagnostic(`alice's writes: ${outcomes.join('; ')}`);
});

test('the daemon keeps answering while a large file is written, and a later write to the path waits for it', async (t) => {
  const { root, daemon } = await gitProjectDaemon(t, ['--max-body', String(40 << 20)]);
  const writer = daemon.client();
  const other = daemon.client();
  const lease = await writer.acquire('path:big.bin', { owner: 'writer' });
  const big = writer.writeFile('big.bin', 'b'.repeat(32 << 20), lease);
  const deadline = performance.now() + 30_000;
  const staging = () => readdirSync(root).some((n) => n.startsWith('.big.bin.') && n.endsWith('.tmp'));
  while (!staging()) {
    assert.ok(performance.now() < deadline, 'the large write never began');
    await sleep(0.2);
  }
  // Answered while the temp file is still being written: the write does not hold the daemon.
  let answered = 0;
  while (staging() && answered < 5) {
    await other.getLease('path:big.bin');
    if (staging()) answered++;
  }
  assert.equal(answered, 5, 'requests were answered while the large file was being written');
  await big;
  assert.equal(statSync(join(root, 'big.bin')).size, 32 << 20);

  // A write that arrives while an earlier one to the same path is still being staged waits for it.
  const first = writer.writeFile('big.bin', 'first'.repeat(4 << 20), lease);
  while (!staging()) {
    assert.ok(performance.now() < deadline, 'the second large write never began');
    await sleep(0.2);
  }
  const second = await writer.writeFile('big.bin', 'second', lease);
  assert.equal((await first).size, 20 << 20, 'the first was done before the second was answered');
  assert.equal(second.size, 6);
  assert.equal(readFileSync(join(root, 'big.bin'), 'utf8'), 'second', 'the later write is what stays');
  const writes = (await other.events({ types: ['fs.changed'] })).filter((e) => e.data.source === 'baton').map((e) => e.data.size);
  assert.deepEqual(writes.slice(-2), [20 << 20, 6], 'announced in that order too');
  assert.deepEqual(readdirSync(root).filter((n) => n.endsWith('.tmp')), [], 'no temp file left');

  // A rename of the directory above a write being staged waits for it too (else it would carry the temp file away).
  await writer.release(lease);
  const tree = await writer.acquire('path:**', { owner: 'writer' });
  mkdirSync(join(root, 'dir'));
  const inDir = writer.writeFile('dir/a.bin', 'd'.repeat(24 << 20), tree);
  const stagingInDir = () => readdirSync(join(root, 'dir')).some((n) => n.endsWith('.tmp'));
  while (!stagingInDir()) {
    assert.ok(performance.now() < deadline + 30_000, 'the write in dir/ never began');
    await sleep(0.2);
  }
  const renamed = await writer.renameFile('dir', 'moved', tree).catch((error: Error) => error);
  assert.ok(!(renamed instanceof Error), `the directory rename failed: ${String(renamed)}`);
  assert.equal((await inDir).size, 24 << 20, 'the write that arrived first succeeded');
  assert.equal(statSync(join(root, 'moved', 'a.bin')).size, 24 << 20, 'and moved with its directory');
  assert.deepEqual(readdirSync(join(root, 'moved')), ['a.bin'], 'no temp file carried along');
});

test("a client in another worktree of the repository writes, watches and commits in its own worktree, not the daemon's", async (t) => {
  const { openCoordinator, RemoteCoordinator } = await import('../../src/client/index.ts');
  const { existsSync } = await import('node:fs');
  const dir = tempDir(t);
  const repo = join(dir, 'repo');
  const wt = join(dir, 'wt');
  execFileSync('git', ['init', '-q', repo]);
  for (const [k, v] of [['user.email', 't@example.com'], ['user.name', 'Tester']]) execFileSync('git', ['-C', repo, 'config', k!, v!]);
  execFileSync('git', ['-C', repo, 'commit', '-q', '--allow-empty', '-m', 'init']);
  execFileSync('git', ['-C', repo, 'worktree', 'add', '-q', '-b', 'side', wt]);
  const daemon = await startDaemon(join(repo, '.git', 'baton'), { cwd: repo });
  t.after(() => daemon.stop());

  // Discovery from the second worktree finds the one daemon and names that worktree.
  const c = await openCoordinator({ cwd: wt, autoStart: false });
  t.after(() => c.close());
  assert.ok(c instanceof RemoteCoordinator);
  assert.equal(c.worktree, wt);
  const events: BatonEvent[] = [];
  const sub = c.subscribe((e) => events.push(e), { types: ['fs.'] });
  t.after(() => sub.close());

  const lease = await c.acquire('path:notes.md', { owner: 'side-agent' });
  await c.writeFile('notes.md', 'side\n', lease);
  assert.equal(readFileSync(join(wt, 'notes.md'), 'utf8'), 'side\n');
  assert.equal(existsSync(join(repo, 'notes.md')), false, "nothing written in the daemon's worktree");
  assert.equal(Buffer.from(await c.readFile('notes.md')).toString(), 'side\n');
  assert.match((await c.gitStatus()).output, /\?\? notes\.md/);
  assert.doesNotMatch((await daemon.client().gitStatus()).output, /notes\.md/, "the daemon's own worktree is clean");
  const commit = await c.gitCommit('side notes', { paths: ['notes.md'], owner: 'side-agent' });
  assert.equal(execFileSync('git', ['-C', repo, 'log', '-1', '--format=%H', 'side'], { encoding: 'utf8' }).trim(), commit.commit);
  assert.equal(execFileSync('git', ['-C', repo, 'log', '-1', '--format=%s', 'HEAD'], { encoding: 'utf8' }).trim(), 'init', 'the main branch did not move');

  // Its watcher runs from the first request that named the worktree.
  writeFileSync(join(wt, 'edited-outside.txt'), 'x');
  const deadline = performance.now() + 5000;
  while (performance.now() < deadline && !events.some((e) => e.data.path === 'edited-outside.txt')) await sleep(20);
  const outside = events.find((e) => e.data.path === 'edited-outside.txt');
  assert.equal(outside?.data.worktree, wt, `the watcher of ${wt} saw the edit: ${JSON.stringify(events.map((e) => e.data))}`);
  assert.equal(events.find((e) => e.data.path === 'notes.md' && e.data.source === 'baton')?.data.worktree, wt);

  // A directory that is not a worktree of this repository is refused, naming it.
  const stranger = join(dir, 'stranger');
  execFileSync('git', ['init', '-q', stranger]);
  for (const bad of [stranger, join(wt, 'sub'), 'relative/path']) {
    mkdirSync(join(wt, 'sub'), { recursive: true });
    const other = new RemoteCoordinator({ socketPath: daemon.record.socket!, worktree: bad });
    t.after(() => other.close());
    await rejectsWith(other.writeFile('x.txt', 'x', lease), bad === 'relative/path' ? 'INVALID_ARGUMENT' : 'OUTSIDE_ROOT', new RegExp(bad.replace(/[/.]/g, '\\$&')));
  }
  assert.equal(existsSync(join(stranger, 'x.txt')), false);
});
