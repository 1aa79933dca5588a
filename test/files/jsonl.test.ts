import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { appendJsonLines, readJsonLines, type BatonError } from '../../src/index.ts';
import { startNode, tempDir, worker } from '../helpers/procs.ts';

test('concurrent appenders of long lines: every line whole, none lost', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'history.jsonl');
  // 200 KB lines are far beyond what one write(2) keeps whole on its own.
  const sizes = [10, 1_000, 200_000, 50_000];
  const procs = sizes.map((size, id) => startNode(worker('appender'), [file, String(id), '25', String(size)]));
  for (const p of procs) assert.equal((await p.done).code, 0);
  const lines = readFileSync(file, 'utf8').split('\n');
  assert.equal(lines.pop(), '', 'ends with a newline');
  assert.equal(lines.length, 100);
  const records = lines.map((line) => JSON.parse(line) as { id: string; i: number; pad: string });
  for (let id = 0; id < sizes.length; id++) {
    const mine = records.filter((r) => r.id === String(id));
    assert.deepEqual(
      mine.map((r) => r.i),
      Array.from({ length: 25 }, (_, i) => i),
      'each writer\'s lines, in order',
    );
    assert.ok(mine.every((r) => r.pad.length === sizes[id]));
  }
});

test('a partial last line from a crashed writer is ignored on read and sealed off on the next append', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'log.jsonl');
  await appendJsonLines(file, [{ a: 1 }, { a: 2 }]);
  appendFileSync(file, '{"a": 3, "cut');
  assert.deepEqual(await readJsonLines(file), [{ a: 1 }, { a: 2 }]);
  await appendJsonLines(file, { a: 4 });
  await assert.rejects(readJsonLines(file), (e: BatonError) => e.code === 'CORRUPT_FILE' && /line 3/.test(e.message));
  assert.deepEqual(await readJsonLines(file, { onCorrupt: 'skip' }), [{ a: 1 }, { a: 2 }, { a: 4 }]);
  await assert.rejects(appendJsonLines(file, undefined), (e: BatonError) => e.code === 'INVALID_ARGUMENT');
  assert.deepEqual(await readJsonLines(join(dir, 'none.jsonl')), []);
});
