// The packed tarball installs into an empty project, and its API and CLI work there
// with no build step by hand (npm pack builds dist/ through the prepare script).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { unsupportedNode } from '../src/node-version.ts';
import type { DaemonRecord } from '../src/project/daemon-record.ts';
import { oldNode } from './helpers/old-node.ts';
import { sleep } from './helpers/procs.ts';
import { root } from '../support/paths.ts';

let dir = '';
/** The consumer project, with the tarball installed (and a git repository, for the CLI's state directory). */
let project = '';
let bin = '';
/** `baton` (#!/usr/bin/env node) finds this Node first, as a user's PATH would; no daemon settings leak in. */
const env = { ...process.env, PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`, BATON_HOME: '', BATON_NO_DAEMON: '', BATON_DB: '', BATON_URL: '' };

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'baton-pack-'));
  execFileSync('npm', ['pack', '--pack-destination', dir, '--silent'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  const tarball = readdirSync(dir).find((name) => name.endsWith('.tgz'));
  assert.ok(tarball, 'npm pack made a tarball');
  project = join(dir, 'consumer');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', type: 'module', private: true }));
  // --prefer-offline, not --offline: the project's own install fetches only the locked
  // tarballs, so a fresh machine's cache has no packuments to resolve the tarball's ranges.
  execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--silent', join(dir, tarball)], { cwd: project, stdio: ['ignore', 'ignore', 'inherit'] });
  bin = join(project, 'node_modules/.bin/baton');
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('npm pack, install into an empty project, import the API, run the CLI', { timeout: 180_000 }, () => {
  writeFileSync(
    join(project, 'use.mjs'),
    `import { JsonFile, withLock, acquireLock, isLocked, AtomicWriter, FileRateLimiter, appendJsonLines, BatonError } from 'baton';
import { ScriptedLockService, runConcurrent, verifyNoLostUpdates } from 'baton/testing';
const doc = new JsonFile('./state.json', { defaultValue: { n: 0 } });
await runConcurrent(Array.from({ length: 10 }, () => () => doc.update((s) => ({ n: s.n + 1 }))));
const held = await acquireLock('./state.json');
const locked = await isLocked('./state.json');
await held.handle.release();
// Retained releases work from the package: their backstop thread is a file of it (dist/files/lock/backstop.js).
let retained = false;
for (let k = 0; k < 60 && !retained; k++) {
  const owners = [];
  for (let i = 0; i < 4; i++) await withLock('./loop.json', (h) => void owners.push(h.record.ownerId));
  retained = new Set(owners.slice(1)).size === 1;
  await new Promise((resolve) => setTimeout(resolve, 50));
}
const mock = new ScriptedLockService().script('./x', 'timeout');
const scripted = await mock.acquire('./x');
const { openCoordinator } = await import('baton');
const c = await openCoordinator({ url: 'sqlite:.baton/baton.db' });
const s = await c.register({ name: 'consumer' });
await c.addTask({ title: 'packaged' });
const [claim] = await c.claim(s.id);
const task = await c.complete(claim);
await c.close();
// baton/client: discovery starts the packaged daemon, and the same Coordinator works through it.
const client = await import('baton/client');
const remote = await client.openCoordinator({ stateDir: '.daemon-state', autoStart: true });
const lease = await remote.acquire('repo', { owner: 'consumer' });
const status = await remote.status();
await remote.release(lease);
await remote.close();
process.kill(status.daemon.pid, 'SIGTERM');
console.log(JSON.stringify({ n: (await doc.read()).n, locked, retained, scripted: scripted.reason, task: task.status, daemon: status.leases.length, types: [typeof withLock, typeof AtomicWriter, typeof FileRateLimiter, typeof appendJsonLines, typeof BatonError, typeof verifyNoLostUpdates] }));
`,
  );
  const used = JSON.parse(execFileSync(process.execPath, ['use.mjs'], { cwd: project, encoding: 'utf8' }));
  assert.deepEqual(used, { n: 10, locked: true, retained: true, scripted: 'timeout', task: 'done', daemon: 1, types: ['function', 'function', 'function', 'function', 'function', 'function'] });

  // Types ship too: a TypeScript consumer type-checks against dist/*.d.ts.
  writeFileSync(join(project, 'check.ts'), `import { JsonFile, openCoordinator, type LockResult, type Coordinator, type Lease } from 'baton';\nconst f = new JsonFile<{ n: number }>('x');\nexport const p: Promise<{ n: number }> = f.read();\nexport type R = LockResult;\nexport const c: Promise<Coordinator> = openCoordinator({ url: 'sqlite::memory:' });\nexport type L = Lease['token'];\nimport { openCoordinator as openClient, RemoteCoordinator } from 'baton/client';\nexport const r: Promise<Coordinator> = openClient({ url: 'baton+unix:///tmp/x.sock' });\nexport const rc = new RemoteCoordinator({ socketPath: '/tmp/x.sock' });\n`);
  writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true, skipLibCheck: false, types: [] }, files: ['check.ts'] }));
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', project], { cwd: project, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, NODE_PATH: join(root, 'node_modules') } });

  assert.match(execFileSync(bin, ['--version'], { cwd: project, encoding: 'utf8', env }), /^\d+\.\d+\.\d+/);
  const ran = execFileSync(bin, ['run', '--lock', 'state.json', '--', 'node', '-e', 'console.log("inside")'], { cwd: project, encoding: 'utf8', env });
  assert.equal(ran, 'inside\n');
  assert.match(execFileSync(bin, ['lock', 'status', 'state.json'], { cwd: project, encoding: 'utf8', env }), /^unlocked/);
});

test("first contact: in a git repository, the installed 'baton' starts the project's daemon and leases and tasks go through it", { timeout: 120_000 }, async (t) => {
  execFileSync('git', ['init', '-q', project]);
  const cli = (...args: string[]): string => execFileSync(bin, args, { cwd: project, encoding: 'utf8', env });
  const stateDir = join(realpathSync(project), '.git', 'baton');
  assert.equal(cli('--version'), `${JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version}\n`);

  const started = cli('serve', '--detach');
  const record = JSON.parse(readFileSync(join(stateDir, 'daemon.json'), 'utf8')) as DaemonRecord;
  t.after(async () => {
    process.kill(record.pid, 'SIGTERM');
    for (let i = 0; i < 200; i++) {
      try {
        process.kill(record.pid, 0);
      } catch {
        return;
      }
      await sleep(25);
    }
  });
  assert.equal(started, `baton daemon ${record.pid} serving ${stateDir} on ${join(stateDir, 'baton.sock')}\n`);

  const lease = JSON.parse(cli('lease', 'acquire', 'repo', '--owner', 'first-contact', '--json')) as { token: number };
  assert.deepEqual((JSON.parse(cli('lease', 'list', '--json')) as Array<{ key: string }>).map((l) => l.key), ['repo']);
  cli('lease', 'release', 'repo', '--token', String(lease.token));
  assert.deepEqual(JSON.parse(cli('lease', 'list', '--json')), []);

  const task = JSON.parse(cli('task', 'add', 'first contact', '--json')) as { id: number };
  const [claim] = JSON.parse(cli('task', 'claim', '--json')) as Array<{ taskId: number; token: number }>;
  assert.ok(claim, 'the task was claimed');
  assert.equal(claim.taskId, task.id);
  cli('task', 'complete', String(task.id), '--token', String(claim.token), '--result', '{"ok":true}');
  assert.equal((JSON.parse(cli('task', 'show', String(task.id), '--json')) as { status: string }).status, 'done');

  // All of it went through the daemon started above, and so does the library's discovery.
  assert.equal((JSON.parse(cli('status', '--json')) as { daemon: { pid: number } }).daemon.pid, record.pid);
  const script = "import { openCoordinator } from 'baton/client'; const c = await openCoordinator(); const s = await c.status(); await c.close(); console.log(s.daemon.pid);";
  assert.equal(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: project, encoding: 'utf8', env }), `${record.pid}\n`);

  // The dashboard ships built: `baton ui` links to the package's dist/ui, served by that daemon.
  const link = JSON.parse(cli('ui', '--no-open', '--json')) as { url: string; origin: string };
  const signIn = await fetch(link.url, { redirect: 'manual' });
  assert.equal(signIn.status, 303);
  const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0]!;
  const page = await (await fetch(`${link.origin}/ui/`, { headers: { cookie } })).text();
  const entry = /<script type="module" crossorigin src="(\/ui\/assets\/[^"]+\.js)"/.exec(page)?.[1];
  assert.ok(entry, page);
  const asset = await fetch(`${link.origin}${entry}`);
  assert.equal(asset.status, 200);
  assert.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  // baton/react ships beside it (React is the consumer's: an optional peer dependency).
  assert.ok(readdirSync(join(project, 'node_modules/baton/dist/react')).includes('index.d.ts'));
});

test('the installed package on an older Node: the one line, exit 1, and an import that throws it', { skip: oldNode() === undefined ? 'no older Node on this machine' : false }, () => {
  const old = oldNode()!;
  const line = unsupportedNode(old.version, realpathSync(old.path));
  let failed: { status: number | null; stdout: string; stderr: string } | undefined;
  try {
    execFileSync(old.path, [bin, '--version'], { cwd: project, encoding: 'utf8', env, stdio: 'pipe' });
  } catch (error) {
    failed = error as { status: number | null; stdout: string; stderr: string };
  }
  assert.deepEqual({ status: failed?.status, stdout: failed?.stdout, stderr: failed?.stderr }, { status: 1, stdout: '', stderr: `${line}\n` });
  const imported = execFileSync(old.path, ['--input-type=module', '-e', "import('baton').then(() => console.log('loaded'), (e) => console.log(e.code, e.message))"], { cwd: project, encoding: 'utf8', env });
  assert.equal(imported, `UNSUPPORTED_NODE ${line}\n`);
});
