import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Coordinator } from '../../src/coordinator.ts';
import { openCoordinator } from '../../src/engine/open.ts';
import { BatonError, type ErrorCode } from '../../src/errors.ts';
import { pathPatternFor } from '../../src/engine/paths.ts';
import { assertCovered, explainMissing } from '../../src/server/path-leases.ts';
import { ProjectFiles } from '../../src/server/project-files.ts';
import type { FileChange } from '../../src/server/project-watch.ts';
import { tempDir } from '../helpers/procs.ts';

/** A project root with src/a.ts, and a directory outside it with a secret. */
function setup(t: TestContext): { root: string; outside: string; files: ProjectFiles } {
  const base = tempDir(t, 'baton-project-files-');
  const root = join(base, 'project');
  const outside = join(base, 'outside');
  mkdirSync(join(root, 'src'), { recursive: true });
  mkdirSync(join(root, '.git'));
  mkdirSync(join(root, '.baton'));
  mkdirSync(outside);
  writeFileSync(join(root, 'src', 'a.ts'), 'export const a = 1;\n');
  writeFileSync(join(root, '.git', 'config'), '[core]\n');
  writeFileSync(join(outside, 'secret'), 'secret\n');
  return { root, outside, files: new ProjectFiles({ root, ignore: [join(root, '.baton')] }) };
}

async function coordinator(t: TestContext, dir: string): Promise<Coordinator> {
  const c = await openCoordinator({ url: 'sqlite:' + join(dir, 'baton.db'), sweepIntervalMs: 60_000 });
  t.after(() => c.close());
  return c;
}

function code(expected: ErrorCode, pattern?: RegExp): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof BatonError, `expected a BatonError, got ${String(error)}`);
    assert.equal(error.code, expected, error.message);
    if (pattern !== undefined) assert.match(error.message, pattern);
    return true;
  };
}

function throwsCode(fn: () => unknown, expected: ErrorCode, pattern?: RegExp): void {
  assert.throws(fn, code(expected, pattern));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(predicate: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (predicate()) return true;
    await sleep(10);
  }
  return predicate();
}

test('resolve: relative and absolute paths inside the root, normalized', (t) => {
  const { root, files } = setup(t);
  assert.deepEqual(files.resolve('src/a.ts'), { abs: join(files.root, 'src', 'a.ts'), rel: 'src/a.ts' });
  assert.equal(files.resolve('./src//b/../a.ts').rel, 'src/a.ts');
  assert.equal(files.resolve('src/new/dir/x.ts').rel, 'src/new/dir/x.ts', 'missing directories are fine');
  assert.equal(files.resolve('src/').rel, 'src');
  assert.equal(files.resolve(join(root, 'src', 'a.ts')).rel, 'src/a.ts');
  // The root named through a symlink: realpath'd at construction, and absolute paths through the alias are inside.
  const alias = join(root, '..', 'alias');
  symlinkSync(root, alias);
  const viaAlias = new ProjectFiles({ root: alias });
  assert.equal(viaAlias.root, files.root);
  assert.equal(viaAlias.resolve(join(alias, 'src', 'a.ts')).rel, 'src/a.ts');
  assert.equal(files.resolve(join(alias, 'src', 'x', 'y.ts')).rel, 'src/x/y.ts');
});

test('resolve refuses .., absolute paths outside, empty paths, NUL bytes and the root itself', (t) => {
  const { root, outside, files } = setup(t);
  throwsCode(() => files.resolve('../outside/secret'), 'OUTSIDE_ROOT', /\.\./);
  throwsCode(() => files.resolve('src/../../outside/secret'), 'OUTSIDE_ROOT');
  throwsCode(() => files.resolve('..'), 'OUTSIDE_ROOT');
  throwsCode(() => files.resolve(join(outside, 'secret')), 'OUTSIDE_ROOT', /outside the project root/);
  throwsCode(() => files.resolve('/etc/passwd'), 'OUTSIDE_ROOT', /\/etc\/passwd/);
  // One rule for "absolute" on every surface: a Windows drive names no project file on any system.
  throwsCode(() => files.resolve('C:/Windows/win.ini'), 'OUTSIDE_ROOT', /C:\/Windows/);
  throwsCode(() => files.resolve('c:'), 'OUTSIDE_ROOT');
  throwsCode(() => files.resolve(''), 'OUTSIDE_ROOT', /empty/);
  throwsCode(() => files.resolve('src/a\0.ts'), 'OUTSIDE_ROOT', /NUL/);
  throwsCode(() => files.resolve('.'), 'OUTSIDE_ROOT', /root itself/);
  throwsCode(() => files.resolve(root), 'OUTSIDE_ROOT', /root itself/);
  throwsCode(() => files.resolve(join(root, '..', 'project-sibling', 'x')), 'OUTSIDE_ROOT');
  throwsCode(() => files.resolve(42 as unknown as string), 'INVALID_ARGUMENT');
});

test('resolve refuses a symlinked directory or file that leads outside the root', async (t) => {
  const { root, outside, files } = setup(t);
  symlinkSync(outside, join(root, 'out'));
  symlinkSync(join(outside, 'secret'), join(root, 'leak'));
  symlinkSync(join(outside, 'nothing-yet'), join(root, 'dangling'));
  symlinkSync('../../outside', join(root, 'src', 'rel-out'));
  throwsCode(() => files.resolve('out/secret'), 'OUTSIDE_ROOT', /symbolic link/);
  throwsCode(() => files.resolve('out/new/file.ts'), 'OUTSIDE_ROOT');
  throwsCode(() => files.resolve('src/rel-out/secret'), 'OUTSIDE_ROOT');
  throwsCode(() => files.resolve('leak'), 'OUTSIDE_ROOT', /symbolic link to/);
  throwsCode(() => files.resolve('dangling'), 'OUTSIDE_ROOT', /nothing-yet/);
  await assert.rejects(files.read('leak'), code('OUTSIDE_ROOT'));
  await assert.rejects(files.read('out/secret'), code('OUTSIDE_ROOT'));
  await assert.rejects(files.write('leak', 'x'), code('OUTSIDE_ROOT'));
  await assert.rejects(files.write('out/secret', 'pwned'), code('OUTSIDE_ROOT'));
  await assert.rejects(files.write('out/sub/new', 'pwned'), code('OUTSIDE_ROOT'));
  await assert.rejects(files.rename('src/a.ts', 'out/a.ts'), code('OUTSIDE_ROOT'));
  assert.equal(readFileSync(join(outside, 'secret'), 'utf8'), 'secret\n');
  assert.deepEqual(readdirSync(outside), ['secret']);
  assert.ok(existsSync(join(root, 'src', 'a.ts')));
});

test('symlinks inside the root: ancestors resolve to the real path, a final link is never written through', async (t) => {
  const { root, files } = setup(t);
  symlinkSync('src', join(root, 'alias'));
  symlinkSync('a.ts', join(root, 'src', 'link.ts'));
  assert.equal(files.resolve('alias/a.ts').rel, 'src/a.ts', 'rel is what the lease is checked against: the real place');
  assert.equal(files.resolve('alias/link.ts').rel, 'src/link.ts');
  await assert.rejects(files.write('src/link.ts', 'x'), code('PERMISSION_DENIED', /symbolic link to src\/a\.ts/));
  assert.equal(readFileSync(join(root, 'src', 'a.ts'), 'utf8'), 'export const a = 1;\n');
  assert.equal((await files.read('src/link.ts')).toString(), 'export const a = 1;\n', 'read follows a link inside the root');
  const written = await files.write('alias/b.ts', 'b');
  assert.equal(written.path, 'src/b.ts');
  assert.equal(readFileSync(join(root, 'src', 'b.ts'), 'utf8'), 'b');
  await files.delete('src/link.ts');
  assert.ok(!existsSync(join(root, 'src', 'link.ts')));
  assert.ok(existsSync(join(root, 'src', 'a.ts')), 'deleting a link removes the link, not its target');
});

test('.git and the protected (ignored) directories are refused with PERMISSION_DENIED', async (t) => {
  const { root, files } = setup(t);
  throwsCode(() => files.resolve('.git/config'), 'PERMISSION_DENIED', /\.git/);
  throwsCode(() => files.resolve('.git'), 'PERMISSION_DENIED');
  throwsCode(() => files.resolve('vendor/lib/.git/HEAD'), 'PERMISSION_DENIED');
  throwsCode(() => files.resolve('.GIT/hooks/pre-commit'), 'PERMISSION_DENIED');
  symlinkSync('.git', join(root, 'g'));
  symlinkSync('.git/config', join(root, 'gc'));
  throwsCode(() => files.resolve('g/hooks/pre-commit'), 'PERMISSION_DENIED');
  await assert.rejects(files.read('gc'), code('PERMISSION_DENIED'));
  await assert.rejects(files.write('.git/hooks/pre-commit', '#!/bin/sh\n'), code('PERMISSION_DENIED'));
  await assert.rejects(files.rename('src/a.ts', '.git/a.ts'), code('PERMISSION_DENIED'));
  await assert.rejects(files.read('.git/config'), code('PERMISSION_DENIED'));
  throwsCode(() => files.resolve('.baton/baton.db'), 'PERMISSION_DENIED', /\.baton/);
  assert.ok(!existsSync(join(root, '.git', 'hooks')));
  assert.equal(files.resolve('.github/workflows/ci.yml').rel, '.github/workflows/ci.yml', 'only a segment named .git');
  assert.equal(files.resolve('.gitignore').rel, '.gitignore');
});

test('assertCovered: an exclusive path lease covering the path passes; others are LEASE_REQUIRED', async (t) => {
  const { root } = setup(t);
  const c = await coordinator(t, join(root, '..'));
  const src = await c.acquire('path:src/**', { owner: 'a' });
  const held = await assertCovered(c, 'src/a.ts', src);
  assert.equal(held.token, src.token);
  assert.equal(held.owner, 'a');
  await assertCovered(c, 'src/deep/new.ts', { key: 'path:./src/**', token: src.token });

  const docs = await c.acquire('path:docs/**', { owner: 'b' });
  await assert.rejects(assertCovered(c, 'src/a.ts', docs), (error: unknown) => {
    code('LEASE_REQUIRED')(error);
    const e = error as BatonError;
    assert.match(e.message, /"src\/a\.ts" needs an exclusive lease on path:src\/a\.ts/);
    assert.match(e.message, /path:docs\/\*\* \(token \d+\) does not cover it/);
    assert.equal(e.details.needed, 'path:src/a.ts');
    return true;
  });

  const shared = await c.acquire('path:lib/**', { owner: 'c', mode: 'shared' });
  await assert.rejects(assertCovered(c, 'lib/x.ts', shared), code('LEASE_REQUIRED', /shared/));
  const other = await c.acquire('deploy', { owner: 'd' });
  await assert.rejects(assertCovered(c, 'src/a.ts', other), code('LEASE_REQUIRED', /not a path lease/));

  // A file whose name has glob characters: the suggested key escapes them and covers exactly it.
  assert.equal(pathPatternFor('app/[id]/page.tsx'), 'app/\\[id\\]/page.tsx');
  await assert.rejects(assertCovered(c, 'app/[id]/page.tsx', docs), code('LEASE_REQUIRED', /path:app\/\\\[id\\\]\/page\.tsx/));
  const page = await c.acquire('path:' + pathPatternFor('app/[id]/page.tsx'), { owner: 'e' });
  await assertCovered(c, 'app/[id]/page.tsx', page);
});

test('assertCovered: a released or expired lease is refused by the coordinator', async (t) => {
  const { root } = setup(t);
  const c = await coordinator(t, join(root, '..'));
  const lease = await c.acquire('path:src/**', { owner: 'a' });
  await c.release(lease);
  await assert.rejects(assertCovered(c, 'src/a.ts', lease), code('STALE_TOKEN'));
  const short = await c.acquire('path:src/**', { owner: 'a', ttlMs: 50 });
  await sleep(120);
  await assert.rejects(assertCovered(c, 'src/a.ts', short), code('LEASE_EXPIRED'));
});

test('explainMissing names the holders of overlapping path leases', async (t) => {
  const { root } = setup(t);
  const c = await coordinator(t, join(root, '..'));
  const none = await explainMissing(c, 'src/a.ts');
  assert.equal(none.code, 'LEASE_REQUIRED');
  assert.match(none.message, /needs an exclusive lease on path:src\/a\.ts/);
  assert.match(none.message, /no one holds/);
  assert.deepEqual(none.details.holders, []);

  const held = await c.acquire('path:src/**', { owner: 'agent-1' });
  await c.acquire('path:docs/**', { owner: 'agent-2' });
  await c.acquire('git', { owner: 'agent-3' });
  const e = await explainMissing(c, 'src/a.ts', { action: 'deleting' });
  assert.equal(e.code, 'LEASE_REQUIRED');
  assert.match(e.message, /^deleting "src\/a\.ts" needs/);
  assert.match(e.message, /"src\/a\.ts" is reserved by agent-1 \(path:src\/\*\*, exclusive, token \d+\)/);
  assert.doesNotMatch(e.message, /agent-2|agent-3/);
  assert.deepEqual(e.details.holders, [{ owner: 'agent-1', key: 'path:src/**', mode: 'exclusive', token: held.token, sessionId: null, expiresAt: held.expiresAt }]);

  // A directory (e.g. the source of a rename) is blocked by a lease on something below it.
  await c.acquire('path:lib/util/x.ts', { owner: 'agent-4', mode: 'shared' });
  const dir = await explainMissing(c, 'lib');
  assert.match(dir.message, /agent-4 \(path:lib\/util\/x\.ts, shared/);
});

test('write creates missing directories, writes atomically, keeps no temp file', async (t) => {
  const { root, files } = setup(t);
  const result = await files.write('src/new/deep/file.ts', 'hello\n');
  assert.deepEqual(result, { path: 'src/new/deep/file.ts', size: 6 });
  assert.equal(readFileSync(join(root, 'src', 'new', 'deep', 'file.ts'), 'utf8'), 'hello\n');
  assert.deepEqual(await files.write('top.bin', new Uint8Array([1, 2, 3]), { mode: 0o600 }), { path: 'top.bin', size: 3 });
  assert.equal(statSync(join(root, 'top.bin')).mode & 0o777, 0o600);
  await files.write('src/a.ts', 'replaced');
  assert.equal(readFileSync(join(root, 'src', 'a.ts'), 'utf8'), 'replaced');
  assert.deepEqual(readdirSync(join(root, 'src')).sort(), ['a.ts', 'new']);
  assert.equal((await files.write('src/é ü.md', 'ü')).size, 2);
  await assert.rejects(files.write('src', 'x'), code('IS_A_DIRECTORY'));
  await assert.rejects(files.write('src/a.ts/x', 'x'), (error: unknown) => error instanceof BatonError);
  await assert.rejects(files.write('x', 'y', { mode: -1 }), code('INVALID_ARGUMENT'));
  await assert.rejects(files.write('x', 42 as unknown as string), code('INVALID_ARGUMENT'));
});

test('delete, rename and read', async (t) => {
  const { root, files } = setup(t);
  assert.deepEqual(await files.rename('src/a.ts', 'lib/moved/a.ts'), { path: 'lib/moved/a.ts', from: 'src/a.ts' });
  assert.ok(!existsSync(join(root, 'src', 'a.ts')));
  assert.equal(readFileSync(join(root, 'lib', 'moved', 'a.ts'), 'utf8'), 'export const a = 1;\n');
  assert.equal((await files.read('lib/moved/a.ts')).toString(), 'export const a = 1;\n');
  await files.write('lib/other.ts', 'other');
  await files.rename('lib/other.ts', 'lib/moved/a.ts');
  assert.equal(readFileSync(join(root, 'lib', 'moved', 'a.ts'), 'utf8'), 'other', 'rename replaces an existing file');
  await files.rename('lib/moved', 'lib2');
  assert.ok(lstatSync(join(root, 'lib2')).isDirectory());
  await assert.rejects(files.rename('lib2', 'lib2/inside'), code('INVALID_ARGUMENT'));
  await assert.rejects(files.rename('nope.ts', 'x.ts'), code('NOT_FOUND'));
  // A directory moves onto an empty directory only; onto one holding files it is a CONFLICT (the daemon answered 500 IO_ERROR).
  await files.write('full/x.ts', 'x');
  await files.write('lib3/y.ts', 'y');
  await assert.rejects(files.rename('lib3', 'full'), code('CONFLICT'));
  assert.ok(existsSync(join(root, 'lib3', 'y.ts')) && existsSync(join(root, 'full', 'x.ts')), 'nothing moved');

  assert.deepEqual(await files.delete('lib2/a.ts'), { path: 'lib2/a.ts' });
  assert.ok(!existsSync(join(root, 'lib2', 'a.ts')));
  await assert.rejects(files.delete('lib2/a.ts'), code('NOT_FOUND'));
  await assert.rejects(files.delete('lib2'), code('IS_A_DIRECTORY'));
  await assert.rejects(files.read('missing.ts'), code('NOT_FOUND'));
  await assert.rejects(files.read('src'), code('IS_A_DIRECTORY'));
  await files.write('big.txt', 'x'.repeat(100));
  await assert.rejects(files.read('big.txt', { maxBytes: 10 }), code('PAYLOAD_TOO_LARGE'));
  assert.equal((await files.read('big.txt', { maxBytes: 100 })).length, 100);
});

test('the watcher reports outside changes, coalesced, and not our own writes, .git, node_modules or ignored dirs', async (t) => {
  const { root, files } = setup(t);
  mkdirSync(join(root, 'node_modules', 'pkg'), { recursive: true });
  const changes: FileChange[] = [];
  const errors: Error[] = [];
  const w = files.watch((c) => changes.push(c), { onError: (e) => errors.push(e) });
  t.after(() => w.close());
  const seen = (path: string) => changes.some((c) => c.path === path);

  writeFileSync(join(root, 'src', 'a.ts'), 'changed outside');
  assert.ok(await waitFor(() => seen('src/a.ts'), 1000), 'an outside change is seen within a second');
  writeFileSync(join(root, 'src', 'new.ts'), 'new');
  assert.ok(await waitFor(() => changes.some((c) => c.path === 'src/new.ts' && c.kind === 'created'), 1000));

  changes.length = 0;
  await files.write('src/ours.ts', 'ours');
  await files.write('src/a.ts', 'ours too');
  await files.write('made/by/us.ts', 'ours');
  await files.rename('src/new.ts', 'src/renamed.ts');
  writeFileSync(join(root, 'node_modules', 'pkg', 'index.js'), 'x');
  writeFileSync(join(root, '.git', 'index'), 'x');
  writeFileSync(join(root, '.baton', 'baton.db-wal'), 'x');
  mkdirSync(join(root, 'pkgs', 'p', 'node_modules', 'dep'), { recursive: true });
  writeFileSync(join(root, 'pkgs', 'p', 'node_modules', 'dep', 'index.js'), 'x');
  writeFileSync(join(root, 'marker.txt'), 'x'); // outside, written last: once it is seen, the rest had their chance
  assert.ok(await waitFor(() => seen('marker.txt'), 1000));
  await sleep(200);
  const outsideOnly = (list: FileChange[]) => list.map((c) => c.path).filter((p) => p !== 'pkgs' && p !== 'pkgs/p').sort();
  assert.deepEqual(outsideOnly(changes), ['marker.txt']);
  await files.delete('src/ours.ts');
  await sleep(300);
  assert.deepEqual(outsideOnly(changes), ['marker.txt']);
  writeFileSync(join(root, 'pkgs', 'p', 'node_modules', 'dep', 'index.js'), 'y');
  await sleep(200);
  assert.deepEqual(outsideOnly(changes), ['marker.txt'], 'a node_modules that appeared later is not watched either');

  // A burst on one path is reported once (or twice if it straddles the window), not per event.
  changes.length = 0;
  for (let i = 0; i < 20; i++) writeFileSync(join(root, 'src', 'burst.ts'), `burst ${i}`);
  assert.ok(await waitFor(() => seen('src/burst.ts'), 1000));
  await sleep(200);
  assert.ok(changes.filter((c) => c.path === 'src/burst.ts').length <= 2, JSON.stringify(changes));
  assert.deepEqual(errors, []);
});

test('the watcher keeps reporting a file after atomic replaces, and outside changes once the echo window passed', async (t) => {
  const { root } = setup(t);
  const files = new ProjectFiles({ root, echoMs: 200 });
  const changes: FileChange[] = [];
  const w = files.watch((c) => changes.push(c));
  t.after(() => w.close());
  const seen = (path: string) => changes.some((c) => c.path === path);
  await files.write('src/a.ts', 'ours');
  await sleep(300);
  assert.deepEqual(changes, []);
  // An editor's atomic save, then in-place writes: each is seen (Node's own recursive watcher on Linux loses the file here).
  writeFileSync(join(root, 'src', '.a.ts.swp'), 'saved');
  renameSync(join(root, 'src', '.a.ts.swp'), join(root, 'src', 'a.ts'));
  assert.ok(await waitFor(() => seen('src/a.ts'), 1000));
  await sleep(100);
  changes.length = 0;
  writeFileSync(join(root, 'src', 'a.ts'), 'in place');
  assert.ok(await waitFor(() => seen('src/a.ts'), 1000), 'a change after an atomic replace is still seen');
  // Directories: a new tree moved in is watched and its files reported; a removed one is dropped.
  mkdirSync(join(root, '..', 'staging', 'pkg'), { recursive: true });
  writeFileSync(join(root, '..', 'staging', 'pkg', 'index.ts'), 'x');
  renameSync(join(root, '..', 'staging'), join(root, 'moved'));
  assert.ok(await waitFor(() => seen('moved/pkg/index.ts'), 1000), JSON.stringify(changes));
  writeFileSync(join(root, 'moved', 'pkg', 'later.ts'), 'x');
  assert.ok(await waitFor(() => seen('moved/pkg/later.ts'), 1000), 'a directory that appeared is watched');
  rmSync(join(root, 'moved'), { recursive: true });
  assert.ok(await waitFor(() => seen('moved'), 1000));
  mkdirSync(join(root, 'moved'));
  writeFileSync(join(root, 'moved', 'again.ts'), 'x');
  assert.ok(await waitFor(() => seen('moved/again.ts'), 1000), 'a directory recreated under the same name is watched');
});

test('a throwing onChange goes to onError; close stops reports', async (t) => {
  const { root, files } = setup(t);
  const errors: Error[] = [];
  let calls = 0;
  const w = files.watch(
    () => {
      calls++;
      throw new Error('handler broke');
    },
    { onError: (e) => errors.push(e) },
  );
  t.after(() => w.close());
  writeFileSync(join(root, 'src', 'a.ts'), 'x');
  assert.ok(await waitFor(() => errors.length > 0, 1000));
  assert.equal(errors[0]?.message, 'handler broke');
  w.close();
  const before = calls;
  writeFileSync(join(root, 'src', 'b.ts'), 'x');
  await sleep(200);
  assert.equal(calls, before);
});

test('removing the project root is reported to onError, not thrown', async (t) => {
  const { root, files } = setup(t);
  const errors: Error[] = [];
  const w = files.watch(() => {}, { onError: (e) => errors.push(e) });
  t.after(() => w.close());
  rmSync(root, { recursive: true });
  assert.ok(await waitFor(() => errors.length > 0, 1000));
  w.close();
});
