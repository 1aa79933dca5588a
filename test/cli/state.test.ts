// No state created by accident: outside a project the engine's commands say
// so in one line and make nothing; reading commands never create a database
// nor start a daemon; and every directory baton makes for its state is 0700
// and never shows in `git status`. Real CLI processes, real git.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { startDaemon } from '../../support/daemon.ts';
import { cli, root as repoRoot } from '../../support/paths.ts';
import { baton, sleep, start, startNode, tempDir, type Finished } from '../helpers/procs.ts';

/** No daemon forbidden, no state named by the environment: what a new user has. */
const newUser = { BATON_NO_DAEMON: '', BATON_DB: '', BATON_HOME: '', BATON_URL: '' };

const READERS = [
  ['status'], ['lease', 'list'], ['lease', 'show', 'path:src/a.ts'], ['task', 'list'], ['task', 'show', '1'], ['agents'], ['events'],
  ['budget', 'status'], ['budget', 'usage'], ['limit', 'status'],
];
const WRITERS = [['lease', 'acquire', 'x'], ['task', 'add', 'hello'], ['budget', 'set', '--limit', '5'], ['limit', 'take', 'api', '--rate', '1', '--burst', '1'], ['git', '--', 'status']];

async function until<T>(what: string, fn: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = fn();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

function gitInit(dir: string): void {
  execFileSync('git', ['init', '-q', dir]);
}

const porcelain = (dir: string): string => execFileSync('git', ['-C', dir, 'status', '--porcelain', '--untracked-files=all'], { encoding: 'utf8' });
const mode = (path: string): number => statSync(path).mode & 0o777;

function noProject(r: Finished, args: string[]): void {
  assert.equal(r.code, 1, `baton ${args.join(' ')}: ${r.stderr}`);
  assert.match(r.stderr, /^baton: no baton project here: \S+ is not in a git repository and has no \.baton directory at or above it; run inside a git repository, set BATON_HOME, or pass --state-dir <dir> \[NO_PROJECT\]\n$/, args.join(' '));
  assert.equal(r.stdout, '', args.join(' '));
}

test('outside a git repository, every engine command says there is no project here, in one line, exits 1 and creates nothing', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const all = [...READERS, ...WRITERS, ['lease', 'list', '--no-daemon']];
  const results = await Promise.all(all.map((args) => baton(args, { cwd: dir, env: newUser })));
  results.forEach((r, i) => noProject(r, all[i]!));
  assert.deepEqual(readdirSync(dir), [], 'no .baton, no database, no daemon record');
  // --json: the same refusal as a JSON error.
  const json = await baton(['task', 'list', '--json'], { cwd: dir, env: newUser });
  assert.equal(JSON.parse(json.stderr).error.code, 'NO_PROJECT');
});

test('a .baton made on purpose (or --state-dir, or BATON_HOME) is a project: found from below, like .git; what baton makes there is 0700 and git-ignored', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, '.baton'));
  mkdirSync(join(dir, 'sub', 'deeper'), { recursive: true });
  const added = await baton(['task', 'add', 'from below', '--no-daemon'], { cwd: join(dir, 'sub', 'deeper'), env: newUser });
  assert.equal(added.code, 0, added.stderr);
  assert.ok(existsSync(join(dir, '.baton', 'baton.db')), 'the .baton above was used');
  assert.deepEqual(readdirSync(join(dir, 'sub', 'deeper')), []);

  const viaOption = await baton(['task', 'add', 'x', '--no-daemon', '--state-dir', join(dir, 'chosen')], { cwd: join(dir, 'sub'), env: newUser });
  assert.equal(viaOption.code, 0, viaOption.stderr);
  assert.equal(mode(join(dir, 'chosen')), 0o700);
  assert.match(readFileSync(join(dir, 'chosen', '.gitignore'), 'utf8'), /^\*$/m);
  const viaHome = await baton(['task', 'list', '--json'], { cwd: join(dir, 'sub'), env: { ...newUser, BATON_HOME: join(dir, 'chosen') } });
  assert.equal(JSON.parse(viaHome.stdout)[0].title, 'x');
});

test('reading commands never create state nor start a daemon: with nothing yet they answer from nothing', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  gitInit(dir);
  const before = readdirSync(join(dir, '.git')).sort();
  const results = await Promise.all(READERS.map((args) => baton(args, { cwd: dir, env: newUser })));
  results.forEach((r, i) => {
    const args = READERS[i]!;
    if (args[1] === 'show' && args[0] === 'task') {
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /\[NOT_FOUND\]\n$/);
    } else assert.equal(r.code, 0, `baton ${args.join(' ')}: ${r.stderr}`);
  });
  assert.match(results[0]!.stdout, /^daemon: none; no state yet \(nothing at \S+\.git\/baton: the first command that writes makes it\)\n/);
  assert.equal(results[1]!.stdout, 'no leases held\n');
  assert.equal(results[2]!.stdout, '"path:src/a.ts": free\n');
  assert.equal(results[3]!.stdout, 'no tasks\n');
  assert.deepEqual(readdirSync(join(dir, '.git')).sort(), before, 'no .git/baton: no database, no daemon');
  // --db and $BATON_DB naming a file that is not there: read as empty, and still not made.
  const db = join(dir, 'nowhere', 'b.db');
  assert.equal((await baton(['lease', 'list', '--db', db], { cwd: dir })).stdout, 'no leases held\n');
  assert.equal((await baton(['task', 'list', '--json'], { cwd: dir, env: { ...newUser, BATON_DB: db } })).stdout, '[]\n');
  assert.ok(!existsSync(join(dir, 'nowhere')));
  assert.equal(porcelain(dir), '');

  // Once something is written, reading finds it, still without starting a daemon.
  const wrote = await baton(['task', 'add', 'first', '--no-daemon'], { cwd: dir, env: newUser });
  assert.equal(wrote.code, 0, wrote.stderr);
  const listed = await baton(['task', 'list', '--json'], { cwd: dir, env: newUser });
  assert.equal(JSON.parse(listed.stdout)[0].title, 'first');
  assert.ok(!existsSync(join(dir, '.git', 'baton', 'daemon.json')), 'no daemon was started to read');
});

test('events --follow with no state yet creates nothing, waits, and prints the events of the first command that writes', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  gitInit(dir);
  const follower = startNode(cli, ['events', '--follow', '--no-daemon'], { cwd: dir, env: newUser });
  t.after(() => follower.child.kill('SIGKILL'));
  // Long enough for a follower that made state to have made it (the old one did, at once).
  for (const until = performance.now() + 3000; performance.now() < until; await sleep(50)) {
    assert.ok(!existsSync(join(dir, '.git', 'baton')), 'the follower made nothing');
  }
  const wrote = await baton(['lease', 'acquire', 'first', '--owner', 'me', '--no-daemon'], { cwd: dir, env: newUser });
  assert.equal(wrote.code, 0, wrote.stderr);
  const event = await until('the lease.acquired event', () => follower.lines().find((l) => / lease\.acquired /.test(l)));
  assert.match(event, /lease\.acquired +first +me/);
  follower.child.kill('SIGTERM');
  const done = await follower.done;
  assert.equal(done.code, 0, done.stderr);
});

test('every directory baton makes for state is 0700 and never shows as untracked in git status', { timeout: 60_000 }, async (t) => {
  const repo = join(tempDir(t), 'repo');
  gitInit(repo);
  // The README's library example, run in a repository.
  const script = `
    const { openCoordinator } = await import(${JSON.stringify(pathToFileURL(join(repoRoot, 'src/index.ts')).href)});
    const c = await openCoordinator({ url: 'sqlite:.baton/baton.db' });
    await c.acquire('x', { owner: 'me' });
    await c.close();
  `;
  const library = await start(process.execPath, ['--input-type=module', '-e', script], { cwd: repo }).done;
  assert.equal(library.code, 0, library.stderr);
  assert.equal(mode(join(repo, '.baton')), 0o700);
  // The CLI: --state-dir and --db inside the working tree, a level deeper too.
  for (const args of [['task', 'add', 'x', '--state-dir', 'state'], ['task', 'add', 'x', '--db', 'data/deeper/b.db'], ['auth', 'token', 'create', 'ci', '--state-dir', 'tokens']]) {
    const r = await baton(args, { cwd: repo, env: { ...newUser, BATON_NO_DAEMON: '1' } });
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  }
  for (const made of ['state', 'data', 'data/deeper', 'tokens']) assert.equal(mode(join(repo, made)), 0o700, made);
  // The daemon's own state directory, made by baton serve.
  const daemon = await startDaemon(join(repo, 'served'), { cwd: repo });
  await daemon.stop();
  assert.equal(mode(join(repo, 'served')), 0o700);
  // Discovery making the project's state (the common dir's baton/) and starting a daemon there.
  const discovered = await baton(['task', 'add', 'y'], { cwd: repo, env: newUser });
  assert.equal(discovered.code, 0, discovered.stderr);
  assert.equal(mode(join(repo, '.git', 'baton')), 0o700);
  const record = JSON.parse(readFileSync(join(repo, '.git', 'baton', 'daemon.json'), 'utf8')) as { pid: number };
  process.kill(record.pid, 'SIGTERM');
  await until('the started daemon to stop', () => (existsSync(join(repo, '.git', 'baton', 'daemon.json')) ? undefined : true));
  assert.equal(porcelain(repo), '', 'nothing baton made is untracked');
});

test('library discovery outside a project refuses with NO_PROJECT instead of making ./.baton', { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  const script = `
    const { openCoordinator } = await import(${JSON.stringify(pathToFileURL(join(repoRoot, 'src/client/index.ts')).href)});
    try { await openCoordinator(); console.log('opened'); } catch (e) { console.log(e.code + ' ' + e.message); }
  `;
  const r = await start(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, env: newUser }).done;
  assert.match(r.stdout, /^NO_PROJECT no baton project here: .*pass \{ stateDir \} or \{ url \}\n$/);
  assert.deepEqual(readdirSync(dir), []);
});
