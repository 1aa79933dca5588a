// Reservation violations: a change the daemon's watcher sees (made outside
// baton) to a path an exclusive `path:` lease covers is recorded once per
// (lease token, path) as `reservation.violated`, the holder is told, and
// `baton status` shows it; a write through baton by the holder is none.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { BatonEvent, Coordinator } from '../../src/coordinator.ts';
import { openCoordinator } from '../../src/index.ts';
import { ViolationCheck } from '../../src/server/violations.ts';
import { startDaemon } from '../../support/daemon.ts';
import { baton, sleep, start, tempDir } from '../helpers/procs.ts';

/** Another process writing the file directly: `chunks` writes, `gapMs` apart (each gap longer than the watcher's coalescing). */
async function writeFromOutside(file: string, chunks: number, gapMs: number): Promise<void> {
  const script = `const fs = require('node:fs'); const fd = fs.openSync(process.argv[1], 'w'); let i = 0;
    const step = () => { fs.writeSync(fd, 'chunk ' + i + '\\n'); if (++i < ${chunks}) setTimeout(step, ${gapMs}); else fs.closeSync(fd); }; step();`;
  const done = await start(process.execPath, ['-e', script, file]).done;
  assert.equal(done.code, 0, done.stderr);
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = await fn();
    if (got !== undefined) return got;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const watcherSaw = (c: Coordinator, path: string) =>
  until(`the watcher's fs.changed for ${path}`, async () => {
    const events = await c.events({ types: ['fs.changed'], limit: 10_000 });
    return events.some((e) => e.data.source === 'watcher' && e.data.path === path) ? true : undefined;
  });

test('a direct write by another process into a reserved path is reported once, naming path and holder; the holder writing through baton is not', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'src'));
  mkdirSync(join(dir, 'lib'));
  const daemon = await startDaemon(join(dir, '.baton'), { cwd: dir });
  t.after(() => daemon.stop());
  const c = daemon.client();
  const lease = await c.acquire('path:src/**', { owner: 'alice', ttlMs: 120_000 });

  // The holder's own write, through baton: an echo the watcher drops.
  await c.writeFile('src/mine.ts', 'export {};\n', lease);
  // Another process, straight to disk, in five writes 150 ms apart: several watcher events, one violation.
  await writeFromOutside(join(dir, 'src', 'theirs.ts'), 5, 150);
  // And outside the reservation: a change, no violation.
  await writeFromOutside(join(dir, 'lib', 'free.ts'), 1, 0);
  await watcherSaw(c, 'lib/free.ts');
  const changes = (await c.events({ types: ['fs.changed'], limit: 10_000 })).filter((e) => e.data.path === 'src/theirs.ts' && e.data.source === 'watcher');
  assert.ok(changes.length >= 2, `the outside write was seen as ${changes.length} watcher events (want several, to show they are one violation)`);

  const violations = await until('the violation', async () => {
    const v = await c.events({ types: ['reservation.violated'] });
    return v.length > 0 ? v : undefined;
  });
  // Everything the watcher saw is checked by now (lib/free.ts came last); give a duplicate its chance anyway.
  await sleep(500);
  const all = await c.events({ types: ['reservation.violated'] });
  assert.equal(all.length, 1, `one violation, got ${JSON.stringify(all.map((e) => e.data))}`);
  const [v] = violations as [BatonEvent];
  assert.equal(v.key, 'path:src/**');
  assert.deepEqual(v.data, { path: 'src/theirs.ts', kind: 'created', holder: 'alice', lease: 'path:src/**', token: lease.token, worktree: v.data.worktree });
  assert.equal(typeof v.data.worktree, 'string');
  assert.ok(!(await c.events({ types: ['fs.changed'], limit: 10_000 })).some((e) => e.data.path === 'src/mine.ts' && e.data.source === 'watcher'), "baton's own write is no watcher event");

  // The holder is told, in its inbox.
  const inbox = await until('the message to alice', async () => {
    const got = await c.inbox('alice');
    return got.length > 0 ? got : undefined;
  });
  assert.equal(inbox.length, 1);
  assert.match(inbox[0]!.subject, /src\/theirs\.ts/);
  assert.equal(inbox[0]!.from, 'baton');

  // baton status shows it, through the daemon.
  const status = await baton(['status', '--state-dir', join(dir, '.baton')], { cwd: dir, env: { BATON_NO_DAEMON: '' } });
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /reservation violations \(1\)\n.*WHEN.*PATH.*HOLDER.*\n.*src\/theirs\.ts\s+created\s+alice\s+path:src\/\*\*/);

  // A new hold is a new reservation: the same path, changed again, is reported again, once.
  await c.release(lease);
  const again = await c.acquire('path:src/**', { owner: 'bob', ttlMs: 120_000 });
  await writeFromOutside(join(dir, 'src', 'theirs.ts'), 2, 150);
  const second = await until('the violation of the new hold', async () => {
    const v = (await c.events({ types: ['reservation.violated'] })).filter((e) => e.data.token === again.token);
    return v.length > 0 ? v : undefined;
  });
  assert.equal(second[0]!.data.holder, 'bob');
});

test('with no path lease held, a burst of changes reads the leases a handful of times, not once per change', async (t) => {
  const c = await openCoordinator({ url: `sqlite:${join(tempDir(t), 'v.db')}` });
  t.after(() => c.close());
  let reads = 0;
  const counting = new Proxy(c, {
    get(target, prop, receiver) {
      if (prop === 'listLeases') return (...args: Parameters<Coordinator['listLeases']>) => (reads++, target.listLeases(...args));
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const check = new ViolationCheck(counting);
  t.after(() => check.close());
  await sleep(100); // the subscription has found the end of the log
  // One after another, as the watcher's lane hands them over when its slots are free.
  let found = 0;
  for (let i = 0; i < 100; i++) {
    const change = { path: `src/f${i}.ts`, kind: 'created' as const, worktree: '/w' };
    const event = await c.publish({ type: 'fs.changed', data: { ...change, source: 'watcher' } });
    found += (await check.check(change, event.seq)).length;
  }
  assert.equal(found, 0);
  assert.ok(reads <= 5, `100 changes read the leases ${reads} times`);
  // A lease acquired now is seen by the next change's check, cached list or not.
  const lease = await c.acquire('path:src/**', { owner: 'carol' });
  const change = { path: 'src/late.ts', kind: 'changed' as const, worktree: '/w' };
  const event = await c.publish({ type: 'fs.changed', data: { ...change, source: 'watcher' } });
  assert.deepEqual(await check.check(change, event.seq), [{ ...change, holder: 'carol', lease: 'path:src/**', token: lease.token }]);
});

test('an MCP-style holder ("alice: fixing auth", session alice) is named and told by its session name; two checks of one path at once report once', async (t) => {
  const c = await openCoordinator({ url: `sqlite:${join(tempDir(t), 'v.db')}` });
  t.after(() => c.close());
  const check = new ViolationCheck(c);
  t.after(() => check.close());
  const session = await c.register({ name: 'alice', kind: 'mcp' });
  const lease = await c.acquire('path:src/**', { owner: 'alice: fixing auth', sessionId: session.id, ttlMs: 60_000 });
  const change = { path: 'src/a.ts', kind: 'changed' as const, worktree: '/w' };
  const event = await c.publish({ type: 'fs.changed', data: { ...change, source: 'watcher' } });
  // As the watcher's lane hands them over: both in flight before either is answered.
  const both = await Promise.all([check.check(change, event.seq), check.check(change, event.seq)]);
  assert.equal(both.flat().length, 1, `one report of one path, got ${JSON.stringify(both)}`);
  const reported = await c.events({ types: ['reservation.violated'] });
  assert.equal(reported.length, 1, `one reservation.violated event, got ${reported.length}`);
  assert.equal(reported[0]!.data.holder, 'alice');
  const inbox = await c.inbox('alice');
  assert.equal(inbox.length, 1, 'the report is in the inbox alice reads');
  assert.equal(inbox[0]!.from, 'baton');
  assert.deepEqual(await c.inbox('alice: fixing auth').catch(() => []), [], 'nothing in an inbox named after the owner');
  // A hold released before its check answers is no violation, and does not keep its path claimed.
  await c.release(lease);
  const later = await c.acquire('path:src/**', { owner: 'bob', ttlMs: 60_000 });
  const again = await c.publish({ type: 'fs.changed', data: { ...change, source: 'watcher' } });
  assert.deepEqual(await check.check(change, again.seq), [{ ...change, holder: 'bob', lease: 'path:src/**', token: later.token }]);
});
