// What the daemon's watcher says about changes made outside baton: created,
// changed or deleted, from real file operations (an editor's atomic save, a
// move, a directory tree made and removed), and nothing for what baton wrote
// itself or for a file that came and went within one burst.
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startDaemon } from '../../support/daemon.ts';
import { sleep, tempDir } from '../helpers/procs.ts';

test('fs.changed from the watcher says created, changed or deleted; a move is deleted + created; source stays "watcher"', { timeout: 60_000 }, async (t) => {
  const root = tempDir(t, 'baton-watch-kinds-');
  writeFileSync(join(root, 'old.txt'), 'there before the daemon\n');
  const daemon = await startDaemon(join(root, '.baton'), { cwd: root });
  t.after(() => daemon.stop());
  const c = daemon.client();
  let after = (await c.events({ limit: 1_000 })).at(-1)?.seq ?? 0;

  /** Runs `act`, then waits for the watcher's events to be exactly `expected` (path and kind, any order). */
  async function step(what: string, act: () => void | Promise<void>, expected: Array<[string, string]>): Promise<void> {
    await act();
    const want = expected.map(([p, k]) => `${p} ${k}`).sort();
    const deadline = performance.now() + 5_000;
    let got: string[] = [];
    for (;;) {
      const events = await c.events({ after, types: ['fs.changed'], limit: 1_000 });
      const watcher = events.filter((e) => e.data.source === 'watcher');
      for (const e of watcher) assert.equal(e.data.source, 'watcher');
      got = watcher.map((e) => `${String(e.data.path)} ${String(e.data.kind)}`).sort();
      if (got.length >= want.length && performance.now() > deadline - 4_800) break; // at least 200 ms for stragglers
      if (performance.now() > deadline) break;
      await sleep(25);
    }
    assert.deepEqual(got, want, what);
    after = (await c.events({ after, limit: 1_000 })).at(-1)?.seq ?? after;
  }

  await step('a new file', () => writeFileSync(join(root, 'new.txt'), 'one\n'), [['new.txt', 'created']]);
  await step('new content', () => appendFileSync(join(root, 'new.txt'), 'two\n'), [['new.txt', 'changed']]);
  await step('a file there before the daemon started', () => appendFileSync(join(root, 'old.txt'), 'more\n'), [['old.txt', 'changed']]);
  await step(
    "an editor's atomic save (write a temp file, rename it over): the file changed, the temp file came and went unreported",
    () => {
      writeFileSync(join(root, 'new.txt.swp'), 'saved\n');
      renameSync(join(root, 'new.txt.swp'), join(root, 'new.txt'));
    },
    [['new.txt', 'changed']],
  );
  await step('a move: the old path deleted, the new one created', () => renameSync(join(root, 'new.txt'), join(root, 'moved.txt')), [['new.txt', 'deleted'], ['moved.txt', 'created']]);
  await step('a delete', () => unlinkSync(join(root, 'moved.txt')), [['moved.txt', 'deleted']]);
  await step(
    'a directory tree made',
    () => {
      mkdirSync(join(root, 'd', 'e'), { recursive: true });
      writeFileSync(join(root, 'd', 'e', 'f.txt'), 'f\n');
    },
    [['d', 'created'], ['d/e', 'created'], ['d/e/f.txt', 'created']],
  );
  await step('the tree removed', () => rmSync(join(root, 'd'), { recursive: true }), [['d', 'deleted'], ['d/e', 'deleted'], ['d/e/f.txt', 'deleted']]);
  await step(
    'a file created and removed at once: nothing to report',
    () => {
      writeFileSync(join(root, 'blink.txt'), 'x');
      unlinkSync(join(root, 'blink.txt'));
    },
    [],
  );

  // A file baton wrote is baton's event, not the watcher's; the watcher still learns it is there.
  const lease = await c.acquire('path:ours.txt', { owner: 'tester' });
  await step('written through baton', async () => void (await c.writeFile('ours.txt', 'ours\n', lease)), []);
  await sleep(1_100); // events on a path baton just changed are its own echoes for a second
  await step('then saved outside: changed, not created', () => appendFileSync(join(root, 'ours.txt'), 'theirs\n'), [['ours.txt', 'changed']]);
});
