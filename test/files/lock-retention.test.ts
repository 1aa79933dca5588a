// A process that takes a lock straight back keeps its record on disk between
// the two (lock-retention.ts). What users can rely on, with real processes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { acquireLock, JsonFile, readLock, withLock } from '../../src/index.ts';
import { sleep, startNode, tempDir, worker } from '../helpers/procs.ts';

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A loop of updates, then a pause: the process has shown it takes the lock back, and retains from now on (its backstop thread runs). */
async function warmUp(resource: string): Promise<void> {
  // Releases are retained once the thread has started: slow on a loaded machine, so wait until one is seen.
  const deadline = Date.now() + 20_000;
  for (;;) {
    const owners: string[] = [];
    for (let i = 0; i < 3; i++) await withLock(resource, (handle) => void owners.push(handle.record.ownerId));
    if (owners[1] === owners[2]) break;
    if (Date.now() > deadline) throw new Error('no release was retained within 20 s: the backstop thread did not start');
    await sleep(20);
  }
  await sleep(200);
}

test('a lock taken straight back keeps its record; by the end of the turn it is released and nothing is left', async (t) => {
  const dir = tempDir(t);
  const resource = join(dir, 'r');
  await warmUp(resource);
  const owners: string[] = [];
  for (let i = 0; i < 5; i++) await withLock(resource, (handle) => void owners.push(handle.record.ownerId));
  // The first release ends its record; from the second on, the process has shown it takes the lock back.
  assert.notEqual(owners[0], owners[1]);
  assert.equal(new Set(owners.slice(1)).size, 1, `one record from the second acquisition on: ${owners.join(' ')}`);
  // This process sees the lock free at once (reading it ends the retention)...
  assert.equal((await readLock(resource)).state, 'unlocked');
  assert.deepEqual(readdirSync(dir), []);
  for (let i = 0; i < 5; i++) await withLock(resource, () => undefined);
  // ...and the disk shows it free by the end of the turn.
  await nextTurn();
  assert.deepEqual(readdirSync(dir), []);
});

test('a request of another kind, or a shared one, right after a release does not take the record back', async (t) => {
  const dir = tempDir(t);
  const resource = join(dir, 'r');
  await warmUp(resource);
  for (let i = 0; i < 3; i++) await withLock(resource, () => undefined);
  const ttl = await acquireLock(resource, { ttl: 5_000 });
  assert.ok(ttl.success);
  assert.equal(ttl.handle.record.ttlMs, 5_000);
  await ttl.handle.release();
  for (let i = 0; i < 3; i++) await withLock(resource, () => undefined);
  const shared = await acquireLock(resource, { type: 'shared', timeout: 0 });
  assert.ok(shared.success, shared.success ? '' : shared.message);
  assert.equal(shared.handle.record.type, 'shared');
  await shared.handle.release();
  await nextTurn();
  assert.deepEqual(readdirSync(dir), []);
});

test('a turn that never ends does not keep a retained lock: a process started with spawnSync right after a loop of updates gets it', async (t) => {
  const dir = tempDir(t);
  const resource = join(dir, 'counter.json');
  const doc = new JsonFile<{ n: number }>(resource, { defaultValue: { n: 0 }, fsync: false });
  await warmUp(resource);
  for (let i = 0; i < 10; i++) await doc.update((c) => ({ n: c.n + 1 }));
  // Our event loop is blocked until the child ends: only the backstop thread can let it in.
  const started = performance.now();
  const child = spawnSync(process.execPath, [worker('holder'), resource, '--hold', '0', '--timeout', '5000'], { encoding: 'utf8', timeout: 20_000 });
  const took = performance.now() - started;
  assert.match(child.stdout, /^held /m, `the child did not get the lock: ${child.stdout} ${child.stderr}`);
  t.diagnostic(`child started, took the lock and ended in ${took.toFixed(0)} ms`);
  assert.equal((await doc.read()).n, 10);
});

test('a process that exits in the turn of its last release leaves the lock free', async (t) => {
  const dir = tempDir(t);
  const resource = join(dir, 'r');
  // 80: enough releases taken straight back to start the backstop (BACKSTOP_AFTER), so the second loop retains.
  const run = startNode(worker('update-loop'), [resource, '80', 'retained']);
  const done = await run.done;
  assert.equal(done.code, 0, done.stderr);
  const records = Number(/^done \S+ (\d+)$/m.exec(done.stdout)?.[1]);
  assert.ok(records <= 40, `the second loop of 80 held the lock under ${records} records: its releases were not retained`);
  assert.equal(existsSync(`${resource}.lock`), false);
  assert.deepEqual(readdirSync(dir), []);
  assert.ok((await acquireLock(resource, { timeout: 0 })).success);
});

test('a process that takes a lock back only a few times never retains (it starts no backstop thread)', async (t) => {
  const dir = tempDir(t);
  const resource = join(dir, 'r');
  const done = await startNode(worker('update-loop'), [resource, '10']).done;
  assert.equal(done.code, 0, done.stderr);
  assert.match(done.stdout, /^done \S+ 10$/m, "each of the second loop's 10 acquisitions should have had its own record");
  assert.deepEqual(readdirSync(dir), []);
});

test('a worker thread terminated right after its last release leaves the lock free (threads never retain)', async (t) => {
  const dir = tempDir(t);
  const resource = join(dir, 'r');
  const thread = new Worker(worker('lock-loop-thread'), { workerData: { resource } });
  await new Promise<void>((resolve, reject) => {
    thread.once('message', () => resolve());
    thread.once('error', reject);
  });
  await thread.terminate();
  const got = await acquireLock(resource, { timeout: 2_000 });
  assert.ok(got.success, got.success ? '' : got.message);
  await got.handle.release();
});
