// baton status's violations read only the log's tail: the newest
// STATUS_VIOLATION_SCAN_EVENTS events, found from the newest seq (the
// daemon's status says it; else probed for, one event per read).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Coordinator, EventQuery } from '../../src/coordinator.ts';
import { openCoordinator } from '../../src/index.ts';
import { newestSeq, recentViolations } from '../../src/cli/violations-status.ts';
import { STATUS_VIOLATION_SCAN_EVENTS } from '../../src/limits.ts';
import { tempDir } from '../helpers/procs.ts';

const violation = (path: string) => ({ type: 'reservation.violated', key: 'path:src/**', data: { path, kind: 'changed', holder: 'alice', lease: 'path:src/**', token: 1, worktree: '/w' } });

test('status reads violations from the newest events only, never the whole log', { timeout: 120_000 }, async (t) => {
  const c = await openCoordinator({ url: `sqlite:${join(tempDir(t), 's.db')}` });
  t.after(() => c.close());
  assert.equal(await newestSeq(c), 0, 'an empty log');
  await c.publish(violation('src/old.ts'));
  for (let i = 0; i < STATUS_VIOLATION_SCAN_EVENTS + 200; i++) await c.publish({ type: 'build.step', data: { i } });
  await c.publish(violation('src/a.ts'));
  const last = await c.publish(violation('src/b.ts'));

  const queries: EventQuery[] = [];
  const counting = new Proxy(c, {
    get(target, prop, receiver) {
      if (prop === 'events') return (query: EventQuery = {}) => (queries.push(query), target.events(query));
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as Coordinator;
  assert.equal(await newestSeq(counting), last.seq, 'the probe finds the newest seq');
  assert.ok(queries.length <= 2 * Math.ceil(Math.log2(last.seq)) + 2, `${queries.length} probes for seq ${last.seq}`);
  assert.ok(queries.every((q) => q.limit === 1), 'each probe reads one event');

  queries.length = 0;
  const v = await recentViolations(counting);
  assert.deepEqual(v.recent.map((x) => x.path), ['src/b.ts', 'src/a.ts'], 'newest first; the one older than the scanned tail is not read');
  assert.equal(v.total, 2);
  const scans = queries.filter((q) => q.limit !== 1);
  assert.equal(scans.length, 1);
  assert.ok((scans[0]!.after ?? 0) >= last.seq - STATUS_VIOLATION_SCAN_EVENTS, `the scan starts at the tail, after ${scans[0]!.after}`);

  // Through the daemon the newest seq is known: no probing.
  queries.length = 0;
  assert.equal((await recentViolations(counting, last.seq)).total, 2);
  assert.equal(queries.length, 1);
});
