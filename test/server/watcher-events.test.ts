// What the daemon's watchers see is published through a lane of its own: a
// burst of changes neither fills the writer's queue (no 429 for clients) nor
// grows without bound, and what could not be kept is reported as an overflow.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { openCoordinator } from '../../src/index.ts';
import { WatcherLane, type WatcherReport } from '../../src/server/watcher-events.ts';
import { startDaemon } from '../../support/daemon.ts';
import { tempDir } from '../helpers/procs.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('watcher lane: bounded in flight, one entry per waiting path, held back while the writer is busy, overflow counted', async (t) => {
  const c = await openCoordinator({ url: `sqlite:${join(tempDir(t), 'lane.db')}` });
  t.after(() => c.close());
  let inFlight = 0;
  let most = 0;
  let busy = true;
  const lane = new WatcherLane(
    async (report: WatcherReport) => {
      inFlight++;
      most = Math.max(most, inFlight);
      try {
        await c.publish({ type: 'fs.changed', data: { ...report } });
      } finally {
        inFlight--;
      }
    },
    { maxInFlight: 3, maxBacklog: 20, writerBusy: () => busy, busyRetryMs: 5 },
  );
  t.after(() => lane.close());
  lane.push({ worktree: '/w', path: 'same.txt', kind: 'changed' });
  lane.push({ worktree: '/w', path: 'same.txt', kind: 'deleted' });
  lane.push({ worktree: '/w', path: 'same.txt', kind: 'created' });
  lane.push({ worktree: '/w', path: 'blink.txt', kind: 'created' });
  lane.push({ worktree: '/w', path: 'blink.txt', kind: 'deleted' });
  for (let i = 0; i < 30; i++) lane.push({ worktree: '/w', path: `f${i}.txt`, kind: 'changed' });
  await sleep(30);
  assert.equal((await c.events({ types: ['fs.changed'] })).length, 0, 'nothing is published while the writer is busy');
  assert.equal(lane.backlog, 20, 'the backlog stops at its bound');
  busy = false;
  await lane.idle();
  const events = (await c.events({ types: ['fs.changed'] })).map((e) => e.data as Record<string, unknown>);
  assert.ok(most <= 3, `at most 3 publishes in flight, saw ${most}`);
  assert.deepEqual(events[0], { worktree: '/w', path: 'same.txt', kind: 'changed' }, 'three changes of one waiting path: one event, what they came to (deleted and created again: changed)');
  assert.ok(!events.some((e) => e.path === 'blink.txt'), 'created and deleted while waiting: nothing to report');
  assert.deepEqual(events.slice(1, 20).map((e) => e.path), Array.from({ length: 19 }, (_, i) => `f${i}.txt`), 'oldest first');
  assert.deepEqual(events.slice(20), [{ worktree: '/w', kind: 'overflow', dropped: 11 }], 'the 11 past the bound, reported once the lane is empty');
});

test('a burst of 3000 files changed outside baton: every one reported, the write queue stays under its bound, clients get no 429', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'burst'));
  const daemon = await startDaemon(join(dir, '.baton'), { cwd: dir, args: ['--max-queue', '64'] });
  t.after(() => daemon.stop());
  // No retries: a 429 would be an error here.
  const c = daemon.client({ retryForMs: 0 });
  let stop = false;
  let leaseRounds = 0;
  const client = (async () => {
    while (!stop) {
      await c.release(await c.acquire('burst/lease', { owner: 'busy-client' }));
      leaseRounds++;
    }
  })();
  let deepest = 0;
  const watchQueue = (async () => {
    while (!stop) {
      deepest = Math.max(deepest, (await c.status()).daemon!.writer.queued);
      await sleep(2);
    }
  })();
  for (let i = 0; i < 3000; i++) writeFileSync(join(dir, 'burst', `f${i}.txt`), String(i));
  const deadline = Date.now() + 30_000;
  let seen = new Set<unknown>();
  while (Date.now() < deadline) {
    const events = await c.events({ types: ['fs.changed'], limit: 10_000 });
    seen = new Set(events.filter((e) => e.data.source === 'watcher' && String(e.data.path).startsWith('burst/f')).map((e) => e.data.path));
    if (seen.size === 3000) break;
    await sleep(100);
  }
  stop = true;
  await Promise.all([client, watchQueue]);
  assert.equal(seen.size, 3000, 'every file written is reported');
  assert.ok(deepest <= 64, `the writer's queue reached ${deepest}, over its bound of 64`);
  assert.ok(leaseRounds > 0);
});
