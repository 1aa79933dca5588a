// Discovery in openCoordinator: $BATON_URL first (over a live daemon of the
// project), then that daemon, then starting one, and the embedded store when
// a daemon cannot start: quickly, silently, with the same interface.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { openCoordinator, RemoteCoordinator, startDaemonProcess } from '../../src/client/index.ts';
import { openCoordinator as openEmbedded } from '../../src/engine/open.ts';
import { acquireLock } from '../../src/files/lock/lock.ts';
import { readDaemonRecord } from '../../src/project/daemon-record.ts';
import { statePaths } from '../../src/project/state-dir.ts';
import { startDaemon } from '../../support/daemon.ts';
import { start, tempDir } from '../helpers/procs.ts';
import { root } from '../../support/paths.ts';

/** Sets $BATON_URL for one test (discovery reads it), restoring it after. */
function withBatonUrl(t: { after(fn: () => void): void }, value: string | undefined): void {
  const before = process.env.BATON_URL;
  if (value === undefined) delete process.env.BATON_URL;
  else process.env.BATON_URL = value;
  t.after(() => {
    if (before === undefined) delete process.env.BATON_URL;
    else process.env.BATON_URL = before;
  });
}

test('discovery: $BATON_URL wins over a live daemon of the project; without it, that daemon', async (t) => {
  const dir = tempDir(t);
  const elsewhere = await startDaemon(join(dir, 'elsewhere'), { cwd: dir });
  t.after(() => elsewhere.stop());
  const project = await startDaemon(join(dir, 'project'), { cwd: dir });
  t.after(() => project.stop());
  await elsewhere.client().acquire('where:elsewhere', { owner: 'test' });
  await project.client().acquire('where:project', { owner: 'test' });
  const holds = async (c: { getLease(key: string): Promise<{ holders: unknown[] }> }, key: string): Promise<boolean> => (await c.getLease(key)).holders.length > 0;

  withBatonUrl(t, `baton+unix://${elsewhere.record.socket}`);
  const viaUrl = await openCoordinator({ stateDir: join(dir, 'project'), autoStart: false });
  t.after(() => viaUrl.close());
  assert.ok(viaUrl instanceof RemoteCoordinator);
  assert.equal(await holds(viaUrl, 'where:elsewhere'), true, '$BATON_URL named the other daemon');
  assert.equal(await holds(viaUrl, 'where:project'), false);

  const file = join(dir, 'named.db');
  process.env.BATON_URL = `sqlite:${file}`;
  const viaSqlite = await openCoordinator({ stateDir: join(dir, 'project'), autoStart: false });
  await viaSqlite.publish({ type: 'named.file' });
  assert.ok(!(viaSqlite instanceof RemoteCoordinator), 'sqlite: is the embedded store, even with a daemon running');
  await viaSqlite.close();
  const check = await openEmbedded({ url: `sqlite:${file}` });
  assert.equal((await check.events({ types: ['named.'] })).length, 1);
  await check.close();

  delete process.env.BATON_URL;
  const discovered = await openCoordinator({ stateDir: join(dir, 'project'), autoStart: false });
  t.after(() => discovered.close());
  assert.ok(discovered instanceof RemoteCoordinator);
  assert.equal(await holds(discovered, 'where:project'), true, 'no $BATON_URL: the live daemon of the project');
});

test('discovery: a daemon that cannot start falls back to the embedded store at once, printing nothing', async (t) => {
  const dir = tempDir(t);
  const stateDir = join(dir, 'state');
  // A real cause: a directory where the daemon's socket must go, so `baton serve` exits (it cannot listen).
  mkdirSync(statePaths(stateDir).socket, { recursive: true });
  const script = `
    const { openCoordinator, RemoteCoordinator } = await import(${JSON.stringify(pathToFileURL(join(root, 'src/client/index.ts')).href)});
    const started = performance.now();
    const c = await openCoordinator({ stateDir: process.argv[1], autoStart: true });
    const ms = performance.now() - started;
    const lease = await c.acquire('repo', { owner: 'fallback' });
    await c.release(lease);
    await c.publish({ type: 'fallback.worked' });
    await c.close();
    process.stderr.write('result ' + JSON.stringify({ ms, remote: c instanceof RemoteCoordinator }) + '\\n');
  `;
  const child = start(process.execPath, ['--input-type=module', '-e', script, stateDir], { env: { BATON_NO_DAEMON: '', BATON_URL: '', BATON_HOME: '' } });
  const done = await child.done;
  assert.equal(done.code, 0, done.stderr);
  assert.equal(done.stdout, '', 'nothing on stdout');
  const result = JSON.parse(/result (.*)/.exec(done.stderr)![1]!) as { ms: number; remote: boolean };
  assert.equal(result.remote, false, 'the embedded store');
  assert.ok(result.ms < 5_000, `fell back after ${Math.round(result.ms)} ms, not at the 10 s start timeout`);
  assert.equal(readDaemonRecord(stateDir), undefined, 'no daemon runs');
  // The state dir's own database holds what was done.
  const check = await openEmbedded({ url: `sqlite:${statePaths(stateDir).database}` });
  t.after(() => check.close());
  assert.equal((await check.events({ types: ['fallback.'] })).length, 1);
});

test('discovery: when the embedded store cannot open either, its error is the one thrown', async (t) => {
  const dir = tempDir(t);
  const stateDir = join(dir, 'state');
  // A directory where the database file must go: neither a daemon nor the embedded store can open it.
  mkdirSync(statePaths(stateDir).database, { recursive: true });
  withBatonUrl(t, undefined);
  const started = performance.now();
  await assert.rejects(openCoordinator({ stateDir, autoStart: true }), (error: Error & { code?: string }) => {
    assert.notEqual(error.code, 'UNAVAILABLE', `the store's own error, not the daemon's: ${error.message}`);
    assert.match(error.message, /baton\.db/);
    return true;
  });
  assert.ok(performance.now() - started < 5_000);
});

test('discovery: a daemon that exits because another holds the daemon lock waits for that one, not a fast fallback', async (t) => {
  const dir = tempDir(t);
  const stateDir = join(dir, 'state');
  mkdirSync(stateDir, { recursive: true });
  // Another daemon starting: it holds the lock but does not answer yet, so ours exits with LOCKED.
  const held = await acquireLock(statePaths(stateDir).daemonLock, { timeout: 0 });
  assert.ok(held.success);
  t.after(() => held.handle.release());
  const started = performance.now();
  await assert.rejects(startDaemonProcess(stateDir, { waitMs: 1_500 }), /did not answer within 1500 ms/);
  assert.ok(performance.now() - started >= 1_400, 'it waited for the lock holder to answer');
});

test('discovery: a daemon listening only on TCP (--no-socket) is found and reached with the project\'s HMAC key, without starting another', async (t) => {
  const dir = tempDir(t);
  const stateDir = join(dir, 'tcp-only');
  const daemon = await startDaemon(stateDir, { cwd: dir, args: ['--listen', '127.0.0.1:0', '--no-socket'] });
  t.after(() => daemon.stop());
  assert.equal(daemon.record.socket, null);
  const started = performance.now();
  const c = await openCoordinator({ stateDir, autoStart: true });
  t.after(() => c.close());
  const took = performance.now() - started;
  assert.ok(c instanceof RemoteCoordinator, 'the TCP daemon, not the embedded store');
  assert.ok(took < 3000, `discovery took ${took.toFixed(0)} ms`);
  await c.acquire('where:tcp', { owner: 'test' });
  assert.equal((await c.status()).daemon?.pid, daemon.record.pid, 'answered by the running daemon');
  assert.equal(readDaemonRecord(stateDir)?.pid, daemon.record.pid, 'no second daemon took over');
});
