import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, lstatSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AtomicWriter, writeFileAtomic, writeJsonAtomic, type BatonError } from '../../src/index.ts';
import { start, startNode, tempDir, worker } from '../helpers/procs.ts';

test('writes atomically, keeps the target mode, and leaves no temp file', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'config.json');
  await writeJsonAtomic(file, { a: 1 });
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { a: 1 });
  chmodSync(file, 0o640);
  const writer = new AtomicWriter({ fsync: true });
  await writer.writeJson(file, { a: 2 });
  assert.equal(statSync(file).mode & 0o777, 0o640, 'the mode of the file it replaced is kept');
  await writer.write(file, 'plain text');
  assert.equal(readFileSync(file, 'utf8'), 'plain text');
  await writeFileAtomic(join(dir, 'new.bin'), new Uint8Array([1, 2, 3]), { mode: 0o600 });
  assert.equal(statSync(join(dir, 'new.bin')).mode & 0o777, 0o600);
  assert.deepEqual(readdirSync(dir).sort(), ['config.json', 'new.bin']);
});

test('a symlinked target stays a symlink and its target gets the content', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'real.json'), '{}');
  symlinkSync(join(dir, 'real.json'), join(dir, 'link.json'));
  await writeJsonAtomic(join(dir, 'link.json'), { via: 'link' });
  assert.ok(lstatSync(join(dir, 'link.json')).isSymbolicLink());
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'real.json'), 'utf8')), { via: 'link' });
});

test('failures are typed, name the path, and leave no temp file behind', async (t) => {
  const dir = tempDir(t);
  await assert.rejects(writeFileAtomic(join(dir, 'missing/dir/f'), 'x'), (e: BatonError) => e.code === 'NOT_FOUND' && /missing\/dir does not exist/.test(e.message));
  mkdirSync(join(dir, 'adir'));
  await assert.rejects(writeFileAtomic(join(dir, 'adir'), 'x'), (e: BatonError) => e.code === 'IS_A_DIRECTORY');
  await assert.rejects(writeJsonAtomic(join(dir, 'u.json'), undefined), (e: BatonError) => e.code === 'INVALID_ARGUMENT');
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  await assert.rejects(writeJsonAtomic(join(dir, 'c.json'), cyclic), (e: BatonError) => e.code === 'INVALID_ARGUMENT' && /c\.json/.test(e.message));
  await assert.rejects(writeFileAtomic(join(dir, 'n'), 42 as never), (e: BatonError) => e.code === 'INVALID_ARGUMENT');
  assert.deepEqual(readdirSync(dir), ['adir']);
});

test('a write that fails after its temp file exists removes the temp file and leaves the target as it was', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'doc.txt');
  writeFileSync(file, 'old');
  // A real mid-write failure: a file size limit of 8 KiB makes the temp file's write fail with EFBIG
  // (SIGXFSZ ignored, so the write returns the error instead of killing the process).
  const script = `import { writeFileAtomic } from ${JSON.stringify(new URL('../../src/index.ts', import.meta.url).pathname)};
    await writeFileAtomic(${JSON.stringify(file)}, 'x'.repeat(100000)).then(() => console.log('written'), (e) => console.log(e.code, e.message));`;
  const r = await start('sh', ['-c', `trap '' XFSZ; ulimit -f 8; exec "$0" --input-type=module -e "$1"`, process.execPath, script]).done;
  assert.match(r.stdout, /^IO_ERROR cannot write .*doc\.txt: EFBIG/, r.stderr);
  assert.equal(readFileSync(file, 'utf8'), 'old');
  assert.deepEqual(readdirSync(dir), ['doc.txt'], 'no temp file left');
});

test('a reader parsing the file continuously never sees partial content', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'doc.json');
  await writeJsonAtomic(file, { items: [] });
  const reader = startNode(worker('reader'), [file, '1500']);
  const writers = Array.from({ length: 3 }, (_, w) =>
    start(process.execPath, [
        '--input-type=module',
        '-e',
        `import { writeJsonAtomic } from ${JSON.stringify(new URL('../../src/index.ts', import.meta.url).href)};
         const until = Date.now() + 1400;
         for (let i = 0; Date.now() < until; i++) {
           await writeJsonAtomic(${JSON.stringify(file)}, { writer: ${w}, i, items: Array.from({ length: 2000 + (i % 7) * 500 }, (_, k) => k) }, { fsync: false });
         }`,
    ]),
  );
  for (const w of writers) assert.equal((await w.done).code, 0);
  const [, reads, , bad] = (await reader.line('reads')).split(' ');
  t.diagnostic(`reads ${reads}, partial ${bad}`);
  assert.ok(Number(reads) > 100, `the reader read ${reads} times`);
  assert.equal(Number(bad), 0);
  assert.deepEqual(readdirSync(dir), ['doc.json'], 'no temp files left');
});
