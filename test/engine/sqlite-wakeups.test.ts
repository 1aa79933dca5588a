// Lease waiters in library mode (no daemon) are woken across processes by
// the commit that releases (src/stores/sqlite/commit-signal.ts and
// wait-list.ts), with polling as the fallback. Real processes on one SQLite
// file; latencies are compared with the fallback poll's interval, with wide
// margins (a noisy 2-core machine).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { openCoordinator, type Coordinator } from '../../src/index.ts';
import { SLOW_POLL_MS, type CommitWakeMode } from '../../src/stores/sqlite/commit-signal.ts';
import { waitListDir } from '../../src/stores/sqlite/wait-list.ts';
import { root } from '../../support/paths.ts';
import { sleep, start, tempDir, type Running } from '../helpers/procs.ts';

const source = (path: string): string => JSON.stringify(pathToFileURL(join(root, path)).href);
const now = (): number => Number(process.hrtime.bigint()) / 1e6; // CLOCK_MONOTONIC: one clock for all processes

/**
 * A waiter process: `node -e WAITER <db> <mode>`. Each 'acquire' line makes
 * it wait for the lease on 'k' and print when it got it (monotonic ms); each
 * 'release' line releases it.
 */
const WAITER = `
import { createInterface } from 'node:readline';
import { openCoordinator } from ${source('src/index.ts')};
import { commitWakes } from ${source('src/stores/sqlite/commit-signal.ts')};
const [db, mode] = process.argv.slice(1);
commitWakes.mode = mode;
const c = await openCoordinator({ url: 'sqlite:' + db });
const now = () => Number(process.hrtime.bigint()) / 1e6;
let lease;
process.stdout.write('ready\\n');
for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'acquire') {
    lease = await c.acquire('k', { owner: 'waiter-' + process.pid, timeoutMs: 20_000 });
    process.stdout.write('got ' + now() + ' ' + lease.token + '\\n');
  } else if (line === 'release') {
    await c.release(lease);
    process.stdout.write('released\\n');
  }
}
await c.close();
`;

function startWaiter(db: string, mode: CommitWakeMode): Running {
  return start(process.execPath, ['--input-type=module', '-e', WAITER, db, mode], { stdin: true });
}

/** Lines starting with `prefix` printed so far. */
const count = (p: Running, prefix: string): number => p.lines().filter((l) => l.startsWith(prefix)).length;

async function until(what: string, done: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

/** Whether a store of another process is on the wait list of `db`. */
const someoneWaits = (db: string): boolean => existsSync(waitListDir(db)) && readdirSync(waitListDir(db)).length > 0;

/**
 * `rounds` handoffs from this process to the waiter: we hold 'k', the waiter
 * asks and gets on the wait list, we release. Each latency is from the start
 * of our release to the waiter's acquire returning, in ms.
 */
async function handoffs(c: Coordinator, db: string, waiter: Running, rounds: number): Promise<number[]> {
  const latencies: number[] = [];
  let lastToken = 0;
  for (let i = 0; i < rounds; i++) {
    const lease = await c.acquire('k', { owner: 'parent', timeoutMs: 10_000 });
    assert.ok(lease.token > lastToken, 'tokens increase');
    waiter.child.stdin!.write('acquire\n');
    await until('the waiter on the wait list', () => someoneWaits(db));
    const got = count(waiter, 'got ');
    const releasedAt = now();
    await c.release(lease);
    await until('the waiter to get the lease', () => count(waiter, 'got ') > got, 10_000);
    const [, at, token] = waiter.lines().filter((l) => l.startsWith('got ')).at(-1)!.split(' ');
    latencies.push(Number(at) - releasedAt);
    lastToken = Number(token);
    assert.ok(lastToken > lease.token, 'the waiter holds a later token');
    const released = count(waiter, 'released');
    waiter.child.stdin!.write('release\n');
    await until('the waiter to release', () => count(waiter, 'released') > released);
  }
  return latencies;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const shown = (xs: number[]): string => xs.map((x) => x.toFixed(1)).join(', ');

test('a lease waiter in another process is woken by the release, long before its fallback poll', async (t) => {
  const db = join(tempDir(t), 'baton.db');
  const c = await openCoordinator({ url: `sqlite:${db}` });
  // 'slow': the waiter polls every 50-100 ms from the start, so only a wake finds the release fast.
  const waiter = startWaiter(db, 'slow');
  t.after(() => waiter.child.kill());
  await waiter.line('ready', 30_000);
  const latencies = await handoffs(c, db, waiter, 10);
  t.diagnostic(`release to the waiter's acquire returning, ms: ${shown(latencies)}`);
  const bound = SLOW_POLL_MS.min / 4;
  assert.ok(median(latencies) < bound, `median ${median(latencies).toFixed(1)} ms, over ${bound} ms: the waiter was not woken, it polled`);
  waiter.child.stdin!.end();
  assert.equal((await waiter.done).code, 0, waiter.lines().join('\n'));
  await c.close();
  assert.equal(existsSync(waitListDir(db)), false, 'the wait list is gone with its last waiter');
});

test('with every wake lost, a waiter still gets each lease by its fallback poll', async (t) => {
  const db = join(tempDir(t), 'baton.db');
  const c = await openCoordinator({ url: `sqlite:${db}` });
  // 'lose': on the list, polling every 50-100 ms, and deaf to every wake.
  const waiter = startWaiter(db, 'lose');
  t.after(() => waiter.child.kill());
  await waiter.line('ready', 30_000);
  const latencies = await handoffs(c, db, waiter, 6);
  t.diagnostic(`release to the waiter's acquire returning, ms: ${shown(latencies)} (each within one poll of ${SLOW_POLL_MS.max} ms, give or take the machine)`);
  assert.equal(latencies.length, 6);
  for (const latency of latencies) assert.ok(latency < 5000, `a handoff took ${latency.toFixed(0)} ms`);
  waiter.child.stdin!.end();
  assert.equal((await waiter.done).code, 0, waiter.lines().join('\n'));
  await c.close();
});

test('a waiter killed with kill -9 leaves an entry that blocks nobody and is removed a second later', async (t) => {
  const db = join(tempDir(t), 'baton.db');
  const c = await openCoordinator({ url: `sqlite:${db}` });
  const [doomed, next] = [startWaiter(db, 'on'), startWaiter(db, 'on')];
  t.after(() => {
    doomed.child.kill('SIGKILL');
    next.child.kill();
  });
  await Promise.all([doomed.line('ready', 30_000), next.line('ready', 30_000)]);
  const lease = await c.acquire('k', { owner: 'parent', timeoutMs: 10_000 });
  doomed.child.stdin!.write('acquire\n');
  await until('the first waiter on the wait list', () => someoneWaits(db));
  const killedAt = performance.now();
  doomed.child.kill('SIGKILL');
  await doomed.done;
  const [left] = readdirSync(waitListDir(db));
  assert.ok(left !== undefined, 'the killed waiter left its entry');
  next.child.stdin!.write('acquire\n');
  await until('the second waiter on the wait list', () => readdirSync(waitListDir(db)).length === 2);
  // The dead entry is first in line and younger than a second: the wake goes
  // to it, and the live waiter finds the release by polling, as before wakes.
  const releasedAt = now();
  await c.release(lease);
  await until('the live waiter to get the lease', () => count(next, 'got ') === 1);
  const latency = Number(next.lines().find((l) => l.startsWith('got '))!.split(' ')[1]) - releasedAt;
  t.diagnostic(`release to the live waiter's acquire returning: ${latency.toFixed(1)} ms`);
  assert.ok(latency < 1000, `the live waiter waited ${latency.toFixed(0)} ms behind a dead entry`);
  next.child.stdin!.write('release\n');
  await until('the live waiter to release', () => count(next, 'released') === 1);
  // Once the dead entry is a second old, the next commit removes it.
  await sleep(Math.max(0, 1100 - (performance.now() - killedAt)));
  await c.release(await c.acquire('other', { owner: 'parent' }));
  assert.equal(existsSync(join(waitListDir(db), left)), false, 'the dead entry was removed');
  next.child.stdin!.end();
  await next.done;
  await c.close();
  assert.equal(existsSync(waitListDir(db)), false, 'the empty wait list went with the last store');
});
