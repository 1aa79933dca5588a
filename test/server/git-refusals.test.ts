// gitCommit and gitStatus refuse a client's mistakes with a 4xx and a code,
// never a 500: what can be checked before the git lease is refused before it
// (no lease.acquired / lease.released events for a call that never ran), and
// git's own refusals under the lease are mapped to the codes they mean.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { startDaemon, type RunningDaemon } from '../../support/daemon.ts';
import { tempDir } from '../helpers/procs.ts';

interface Answer {
  status: number;
  body: { error?: { code: string; message: string }; commit?: string; output?: string };
}

function post(socketPath: string, path: string, body: unknown): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      let out = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(out) as Answer['body'] }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

const git = (root: string, ...args: string[]): string => execFileSync('git', ['-C', root, ...args], { encoding: 'utf8' });

async function gitProjectDaemon(t: TestContext): Promise<{ root: string; daemon: RunningDaemon }> {
  const root = tempDir(t);
  git(root, 'init', '-q');
  git(root, 'config', 'user.email', 't@example.com');
  git(root, 'config', 'user.name', 'Tester');
  const daemon = await startDaemon(join(root, '.git', 'baton'), { cwd: root });
  t.after(() => daemon.stop());
  return { root, daemon };
}

/** How many lease and git events the daemon has recorded so far (the watcher's fs.changed come and go on their own). */
async function eventCount(daemon: RunningDaemon): Promise<number> {
  return (await daemon.client().events({ limit: 1000, types: ['lease.', 'git.'] })).length;
}

test('gitCommit refuses what it can before the git lease: 4xx with a code, and no lease events', async (t) => {
  const { root, daemon } = await gitProjectDaemon(t);
  const socket = daemon.record.socket!;
  writeFileSync(join(root, 'a.txt'), 'a\n');
  mkdirSync(join(root, 'inside'));
  symlinkSync('/tmp', join(root, 'inside', 'out'));
  const refusals: Array<[string, Record<string, unknown>, number, string, RegExp]> = [
    ['a path that leaves the tree', { message: 'm', paths: ['../x'] }, 403, 'OUTSIDE_ROOT', /leaves the project root/],
    ['an absolute path outside it', { message: 'm', paths: ['/etc/passwd'] }, 403, 'OUTSIDE_ROOT', /outside the project root/],
    ['a path out through a symbolic link', { message: 'm', paths: ['inside/out/x'] }, 403, 'OUTSIDE_ROOT', /symbolic link/],
    ["a path in git's own files", { message: 'm', paths: ['.git/config'] }, 403, 'PERMISSION_DENIED', /\.git/],
    ['a path with a NUL', { message: 'm', paths: ['a.txt\u0000b'] }, 403, 'OUTSIDE_ROOT', /NUL/],
    ['a path that reads as an option', { message: 'm', paths: ['--all'] }, 400, 'INVALID_ARGUMENT', /"--all"/],
    ['a NUL in the message', { message: 'one\u0000two', paths: ['a.txt'] }, 400, 'INVALID_ARGUMENT', /NUL/],
    ['a message git would strip to nothing', { message: ' \n\t\n', paths: ['a.txt'] }, 400, 'INVALID_ARGUMENT', /empty/],
    ['a worktree that is not one', { message: 'm', paths: ['a.txt'], worktree: '/tmp' }, 403, 'OUTSIDE_ROOT', /not a worktree/],
  ];
  for (const [what, body, status, code, says] of refusals) {
    const before = await eventCount(daemon);
    const answer = await post(socket, '/v1/gitCommit', body);
    assert.equal(answer.status, status, `${what}: ${JSON.stringify(answer.body)}`);
    assert.equal(answer.body.error?.code, code, what);
    assert.match(answer.body.error!.message, says, what);
    assert.equal(await eventCount(daemon), before, `${what}: refused before the git lease, so no lease events`);
  }
  assert.equal(git(root, 'status', '--porcelain'), '?? a.txt\n?? inside/\n', 'nothing was staged');
  await assert.rejects(daemon.client().gitCommit('m', { paths: ['../x'] }), { code: 'OUTSIDE_ROOT' });
});

test("git's refusals under the lease are 4xx with the code they mean; a long message and '.' commit", async (t) => {
  const { root, daemon } = await gitProjectDaemon(t);
  const socket = daemon.record.socket!;
  const c = daemon.client();

  // Nothing staged: the same request may succeed once there is a change, so it is a conflict with the tree's state.
  const empty = await post(socket, '/v1/gitCommit', { message: 'nothing here' });
  assert.equal(empty.status, 409, JSON.stringify(empty.body));
  assert.equal(empty.body.error?.code, 'CONFLICT');
  assert.match(empty.body.error!.message, /nothing to commit/);
  await assert.rejects(c.gitCommit('still nothing'), { code: 'CONFLICT' });

  // A path that names no file git knows.
  const missing = await post(socket, '/v1/gitCommit', { message: 'm', paths: ['no-such-file.txt'] });
  assert.equal(missing.status, 404, JSON.stringify(missing.body));
  assert.equal(missing.body.error?.code, 'NOT_FOUND');
  assert.match(missing.body.error!.message, /no-such-file\.txt/);

  // A leading ':' is pathspec magic to git (a fuzzer's ":; " answered 500 "Unimplemented pathspec magic"): here it names a file.
  const magic = await post(socket, '/v1/gitCommit', { message: 'm', paths: [':; '] });
  assert.equal(magic.status, 404, JSON.stringify(magic.body));
  writeFileSync(join(root, ':odd name'), 'odd\n');
  const odd = await post(socket, '/v1/gitCommit', { message: 'a file named with a colon', paths: [':odd name'] });
  assert.equal(odd.status, 200, JSON.stringify(odd.body));
  assert.equal(git(root, 'show', '--name-only', '--format=', 'HEAD').trim(), ':odd name');

  // A file .gitignore excludes: named on its own, git refuses to stage it.
  writeFileSync(join(root, '.gitignore'), '*.log\n');
  writeFileSync(join(root, 'debug.log'), 'x\n');
  const ignored = await post(socket, '/v1/gitCommit', { message: 'm', paths: ['debug.log'] });
  assert.equal(ignored.status, 400, JSON.stringify(ignored.body));
  assert.equal(ignored.body.error?.code, 'INVALID_ARGUMENT');
  assert.match(ignored.body.error!.message, /ignored/);

  // A message longer than one argument may be (128 KiB on Linux) still commits: it goes to git on stdin.
  writeFileSync(join(root, 'long.txt'), 'long\n');
  const long = `subject\n\n${'é€'.repeat(30_000)}`;
  const committed = await post(socket, '/v1/gitCommit', { message: long, paths: ['long.txt'] });
  assert.equal(committed.status, 200, JSON.stringify(committed.body).slice(0, 500));
  assert.equal(git(root, 'log', '-1', '--format=%B').trimEnd(), long);

  // The whole tree, by '.', and a path the client wrote through a symlinked directory (staged by its real path).
  writeFileSync(join(root, 'b.txt'), 'b\n');
  mkdirSync(join(root, 'real'));
  writeFileSync(join(root, 'real', 'c.txt'), 'c\n');
  symlinkSync('real', join(root, 'alias'));
  const viaLink = await c.gitCommit('c through its alias', { paths: ['alias/c.txt'] });
  assert.match(viaLink.commit!, /^[0-9a-f]{40}$/);
  assert.equal(git(root, 'show', '--name-only', '--format=', 'HEAD').trim(), 'real/c.txt');
  const all = await c.gitCommit('everything', { paths: ['.'] });
  assert.match(all.commit!, /^[0-9a-f]{40}$/);
  assert.equal(git(root, 'status', '--porcelain'), '', 'everything was committed');
});

test('gitStatus and gitCommit on a daemon whose worktree is not a git repository: 404 NOT_FOUND, before the lease', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'a.txt'), 'a\n');
  const daemon = await startDaemon(join(dir, 'state'), { cwd: dir });
  t.after(() => daemon.stop());
  const socket = daemon.record.socket!;
  for (const [path, body] of [['/v1/gitStatus', {}], ['/v1/gitCommit', { message: 'm', paths: ['a.txt'] }]] as const) {
    const before = await eventCount(daemon);
    const answer = await post(socket, path, body);
    assert.equal(answer.status, 404, `${path}: ${JSON.stringify(answer.body)}`);
    assert.equal(answer.body.error?.code, 'NOT_FOUND');
    assert.match(answer.body.error!.message, /not a git repository/);
    assert.equal(await eventCount(daemon), before, `${path}: no lease events`);
  }
  await assert.rejects(daemon.client().gitStatus(), { code: 'NOT_FOUND' });
});
