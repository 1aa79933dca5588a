// The daemon's single writer: writes queued together commit in one transaction,
// and one that fails undoes only itself.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { BatonError } from '../../src/errors.ts';
import { GroupWriter } from '../../src/server/writer.ts';
import { openSqliteStore } from '../../src/stores/sqlite/sqlite-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'baton-writer-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function open(name: string): Promise<GroupWriter> {
  const path = join(dir, name);
  return new GroupWriter(await openSqliteStore(path), await openSqliteStore(path));
}

const read = (writer: GroupWriter, key: string): Promise<string | undefined> =>
  writer.read(async (tx) => (await tx.get<{ value: string }>('metaGet', { key }))?.value);

test('writes queued together share one commit; a failing one is undone alone and rejects with its own error', async () => {
  const writer = await open('batch.sqlite');
  try {
    const runs = { a: 0, b: 0, c: 0 };
    const results = await Promise.allSettled([
      writer.write(async (tx) => {
        runs.a++;
        await tx.run('metaSet', { key: 'test.a', value: '1' });
        return 'a';
      }),
      writer.write(async (tx) => {
        runs.b++;
        await tx.run('metaSet', { key: 'test.b', value: '2' });
        throw new BatonError('CONFLICT', 'b refuses');
      }),
      writer.write(async (tx) => {
        runs.c++;
        await tx.run('metaSet', { key: 'test.c', value: '3' });
        return 'c';
      }),
    ]);
    assert.deepEqual(results[0], { status: 'fulfilled', value: 'a' });
    assert.equal(results[1]!.status, 'rejected');
    assert.equal((results[1] as PromiseRejectedResult).reason.code, 'CONFLICT');
    assert.deepEqual(results[2], { status: 'fulfilled', value: 'c' });
    assert.equal(await read(writer, 'test.a'), '1');
    assert.equal(await read(writer, 'test.b'), undefined, 'the failed write left nothing');
    assert.equal(await read(writer, 'test.c'), '3');
    // One batch, run whole until b failed, then again with a savepoint per write:
    // writes must be safe to run twice (as after SQLITE_BUSY).
    assert.equal(writer.stats().batches, 1);
    assert.deepEqual(runs, { a: 2, b: 2, c: 1 });
  } finally {
    await writer.close();
  }
});

test('a batch that succeeds whole runs each write once', async () => {
  const writer = await open('whole.sqlite');
  try {
    let runs = 0;
    const values = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        writer.write(async (tx) => {
          runs++;
          await tx.run('metaSet', { key: `test.${i}`, value: String(i) });
          return i;
        }),
      ),
    );
    assert.deepEqual(values, Array.from({ length: 20 }, (_, i) => i));
    assert.equal(runs, 20);
    assert.equal(writer.stats().batches, 1);
    assert.equal(await read(writer, 'test.19'), '19');
  } finally {
    await writer.close();
  }
});

test('after a commit, lease waiters (first) are woken before the batch is answered, other waiters after it', async () => {
  const writer = await open('order.sqlite');
  try {
    const order: string[] = [];
    const seen = await writer.changeCounter();
    const woken = [
      writer.waitForCommit(seen, 5_000, undefined, true).then(() => order.push('lease waiter')),
      writer.waitForCommit(seen, 5_000).then(() => order.push('event stream')),
    ];
    await writer.write((tx) => tx.run('metaSet', { key: 'test.order', value: '1' }));
    order.push('answer');
    await Promise.all(woken);
    assert.deepEqual(order, ['lease waiter', 'answer', 'event stream']);
  } finally {
    await writer.close();
  }
});
