import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { JsonFile, type BatonError } from '../../src/index.ts';
import { startNode, tempDir, worker } from '../helpers/procs.ts';

test('8 processes x 50 increments through update: the count is exact', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'counter.json');
  const procs = Array.from({ length: 8 }, () => startNode(worker('counter'), [file, '50', 'fsync']));
  for (const p of procs) {
    const r = await p.done;
    assert.equal(r.code, 0, r.stderr);
  }
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { n: 400 });
  assert.deepEqual(readdirSync(dir), ['counter.json'], 'no lock or temp files left behind');
});

test('read, write, update, delete; the plan names are aliases', async (t) => {
  const dir = tempDir(t);
  const doc = new JsonFile<{ tasks: string[] }>(join(dir, 'queue.json'), { defaultValue: { tasks: [] } });
  assert.deepEqual(await doc.read(), { tasks: [] });
  await doc.write({ tasks: ['a'] });
  const next = await doc.update((q) => {
    q.tasks.push('b'); // mutate in place and return nothing
  });
  assert.deepEqual(next, { tasks: ['a', 'b'] });
  assert.deepEqual(await doc.modifyWithLock((q) => ({ tasks: [...q.tasks, 'c'] })), { tasks: ['a', 'b', 'c'] });
  assert.deepEqual(await doc.readWithLock(), { tasks: ['a', 'b', 'c'] });
  assert.equal(await doc.delete(), true);
  assert.equal(await doc.deleteWithLock(), false);
  assert.deepEqual(await doc.read(), { tasks: [] }, 'the default again once deleted');
});

test('a missing document without a default is NOT_FOUND', async (t) => {
  const dir = tempDir(t);
  const doc = new JsonFile<number>(join(dir, 'none.json'));
  await assert.rejects(doc.read(), (e: BatonError) => e.code === 'NOT_FOUND' && /none\.json does not exist/.test(e.message));
  await assert.rejects(
    doc.update((n) => n + 1),
    (e: BatonError) => e.code === 'NOT_FOUND',
  );
  // A missing directory, or a directory where the document should be: typed errors naming the path.
  const lost = new JsonFile<number>(join(dir, 'missing', 'doc.json'), { defaultValue: 0 });
  await assert.rejects(lost.update((n) => n + 1), (e: BatonError) => e.code === 'NOT_FOUND' && /missing does not exist/.test(e.message));
  mkdirSync(join(dir, 'adir.json'));
  const folder = new JsonFile<number>(join(dir, 'adir.json'), { defaultValue: 0 });
  await assert.rejects(folder.update((n) => n + 1), (e: BatonError) => e.code === 'IS_A_DIRECTORY' && /adir\.json/.test(e.message));
  assert.deepEqual(readdirSync(join(dir, 'adir.json')), [], 'nothing written into it');
});

test('a corrupt or truncated document is an error naming the file, and is never replaced', async (t) => {
  const dir = tempDir(t);
  for (const [name, content] of [
    ['truncated.json', '{"tasks": ["a", "b"'],
    ['empty.json', ''],
  ] as const) {
    const file = join(dir, name);
    writeFileSync(file, content);
    const doc = new JsonFile<{ tasks: string[] }>(file, { defaultValue: { tasks: [] } });
    await assert.rejects(doc.read(), (e: BatonError) => e.code === 'CORRUPT_FILE' && e.message.includes(file));
    await assert.rejects(
      doc.update(() => ({ tasks: [] })),
      (e: BatonError) => e.code === 'CORRUPT_FILE',
    );
    assert.equal(readFileSync(file, 'utf8'), content, 'left untouched');
  }
});

test('the validation hook checks what is read and what is written', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'v.json');
  const validate = (value: unknown): { n: number } => {
    if (typeof value !== 'object' || value === null || typeof (value as { n?: unknown }).n !== 'number') throw new Error('n must be a number');
    return value as { n: number };
  };
  const doc = new JsonFile(file, { defaultValue: { n: 0 }, validate });
  await doc.write({ n: 1 });
  await assert.rejects(doc.write({ n: 'two' } as never), (e: BatonError) => e.code === 'VALIDATION_FAILED' && /nothing was written.*n must be a number/.test(e.message));
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { n: 1 });
  writeFileSync(file, '{"n": "bad"}');
  await assert.rejects(doc.read(), (e: BatonError) => e.code === 'VALIDATION_FAILED' && /on disk failed validation/.test(e.message));
});

// What this process has open in `dir` (Linux: /proc/self/fd). A replaced
// document shows with " (deleted)".
function openIn(dir: string): string[] {
  const out: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith(`${dir}/`)) out.push(target.slice(dir.length + 1));
    } catch {
      // closed meanwhile (readdir's own descriptor)
    }
  }
  return out.sort();
}

async function closedSoon(dir: string): Promise<string[]> {
  for (let i = 0; i < 100 && openIn(dir).length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  return openIn(dir);
}

test('the document a write replaces stays open until after the release, then is closed, also when the write fails', { skip: process.platform !== 'linux' && 'needs /proc/self/fd' }, async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'doc.json');
  const doc = new JsonFile<{ n: number }>(file, { defaultValue: { n: 0 }, fsync: false });
  await doc.write({ n: 1 });
  let during: string[] = [];
  await doc.update((c) => {
    during = openIn(dir);
    return { n: c.n + 1 };
  });
  // Read through that descriptor, and kept past the rename so the old inode is freed off the lock.
  assert.deepEqual(during, ['doc.json'], 'the document is open inside the lock');
  assert.deepEqual(await closedSoon(dir), [], 'and closed after the release');

  await assert.rejects(
    doc.update(() => {
      throw new Error('no');
    }),
    /no/,
  );
  await assert.rejects(doc.write({ n: 1n } as never), (e: BatonError) => e.code === 'INVALID_ARGUMENT' && /not JSON-serializable/.test(e.message));
  for (let i = 0; i < 50; i++) await doc.update((c) => ({ n: c.n + 1 }));
  assert.equal(await doc.delete(), true);
  assert.equal(await doc.delete(), false);
  assert.deepEqual(await closedSoon(dir), [], 'nothing left open after failed writes, updates and deletes');
  await doc.write({ n: 7 });
  assert.deepEqual(await doc.read(), { n: 7 });
});

test('a write over a named pipe replaces it without waiting for a writer of the pipe', { skip: process.platform === 'win32' && 'no mkfifo' }, async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'pipe.json');
  execFileSync('mkfifo', [file]);
  const doc = new JsonFile<{ a: number }>(file, { fsync: false });
  await doc.write({ a: 1 }); // opening the pipe to keep it until the release would block here
  assert.ok(statSync(file).isFile());
  assert.deepEqual(await doc.read(), { a: 1 });
});
