// The packed tarball installs into an empty project, and its API and CLI work there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/procs.ts';
import { root } from '../support/paths.ts';

test('npm pack, install into an empty project, import the API, run the CLI', { timeout: 180_000 }, async (t) => {
  const out = tempDir(t, 'baton-pack-');
  execFileSync('npm', ['pack', '--pack-destination', out, '--silent'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  const tarball = readdirSync(out).find((name) => name.endsWith('.tgz'));
  assert.ok(tarball, 'npm pack made a tarball');

  const project = tempDir(t, 'baton-consumer-');
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', type: 'module', private: true }));
  // --prefer-offline, not --offline: the project's own install fetches only the locked
  // tarballs, so a fresh machine's cache has no packuments to resolve the tarball's ranges.
  execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--silent', join(out, tarball)], { cwd: project, stdio: ['ignore', 'ignore', 'inherit'] });

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

  const bin = join(project, 'node_modules/.bin/baton');
  assert.match(execFileSync(bin, ['--version'], { cwd: project, encoding: 'utf8' }), /^\d+\.\d+\.\d+/);
  const ran = execFileSync(bin, ['run', '--lock', 'state.json', '--', 'node', '-e', 'console.log("inside")'], { cwd: project, encoding: 'utf8' });
  assert.equal(ran, 'inside\n');
  assert.match(execFileSync(bin, ['lock', 'status', 'state.json'], { cwd: project, encoding: 'utf8' }), /^unlocked/);
});
