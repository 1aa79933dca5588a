// Conformance cases of shared state with revisions, run by conformance.ts on every backend and transport.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Coordinator, KvChange } from '../../src/index.ts';
import { MAX_KEY_LENGTH, MAX_KV_LIST_BYTES, MAX_KV_VALUE_BYTES } from '../../src/limits.ts';
import type { WithCoordinator } from './conformance.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function refused(promise: Promise<unknown>, code: string, ...mentions: string[]): Promise<Error & { code?: string; details?: Record<string, unknown> }> {
  let caught: (Error & { code?: string; details?: Record<string, unknown> }) | undefined;
  await assert.rejects(promise, (error: Error & { code?: string }) => {
    caught = error;
    assert.equal(error.code, code, `expected ${code}, got ${error.code}: ${error.message}`);
    for (const m of mentions) assert.ok(error.message.includes(m), `message ${JSON.stringify(error.message)} should mention ${m}`);
    return true;
  });
  return caught!;
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(10);
  }
}

/** A watch's changes, gathered. */
function gather(c: Coordinator, options: Parameters<Coordinator['kvWatch']>[1]): { changes: KvChange[]; close: () => void } {
  const changes: KvChange[] = [];
  const sub = c.kvWatch((change) => changes.push(change), options);
  return { changes, close: () => sub.close() };
}

export function kvConformance(withCoordinator: WithCoordinator): void {
  withCoordinator('kv: put and get; revisions are the events\' seqs and strictly increase; version counts puts', async (c) => {
    assert.equal(await c.kvGet('cfg/a'), null);
    const a1 = await c.kvPut('cfg/a', { n: 1 });
    assert.deepEqual({ ...a1, revision: 0, createRevision: 0 }, { key: 'cfg/a', value: { n: 1 }, revision: 0, createRevision: 0, version: 1, lease: null });
    assert.equal(a1.createRevision, a1.revision);
    const a2 = await c.kvPut('cfg/a', [1, 'two', null]);
    assert.ok(a2.revision > a1.revision);
    assert.equal(a2.createRevision, a1.revision);
    assert.equal(a2.version, 2);
    assert.deepEqual(await c.kvGet('cfg/a'), a2);
    const b = await c.kvPut('cfg/b', null);
    assert.ok(b.revision > a2.revision, 'revisions increase across keys');
    assert.deepEqual((await c.kvGet('cfg/b'))?.value, null, 'null is a value, not absence');
    // The revision is the seq of the change's own event, which carries it in its data.
    const [event] = await c.events({ after: a2.revision - 1, limit: 1 });
    assert.equal(event?.seq, a2.revision);
    assert.equal(event?.type, 'kv.put');
    assert.deepEqual(event?.data, { revision: a2.revision, key: 'cfg/a', value: [1, 'two', null], version: 2, lease: null, createRevision: a1.revision });
    const [created] = await c.events({ after: a1.revision - 1, limit: 1 });
    assert.equal(created?.data.createRevision, a1.revision);
    const deleted = await c.kvDelete('cfg/a');
    assert.ok(deleted.deleted && deleted.revision! > b.revision);
    assert.equal(await c.kvGet('cfg/a'), null);
    assert.deepEqual(await c.kvDelete('cfg/a'), { key: 'cfg/a', deleted: false, revision: null });
    const again = await c.kvPut('cfg/a', 3);
    assert.equal(again.version, 1, 'a key put after its delete starts over');
    assert.equal(again.createRevision, again.revision);
  });

  withCoordinator('kv: compare-and-swap refuses a stale or wrong revision with CONFLICT naming the key and both revisions', async (c) => {
    const first = await c.kvPut('lock/x', 'a', { expectRevision: 0 });
    const taken = await refused(c.kvPut('lock/x', 'b', { expectRevision: 0 }), 'CONFLICT', '"lock/x"', `revision ${first.revision}`, 'expectRevision 0');
    assert.partialDeepStrictEqual(taken.details, { key: 'lock/x', expectedRevision: 0, actualRevision: first.revision });
    const second = await c.kvPut('lock/x', 'b', { expectRevision: first.revision });
    const stale = await refused(c.kvPut('lock/x', 'c', { expectRevision: first.revision }), 'CONFLICT', `revision ${second.revision}`, `expected revision ${first.revision}`);
    assert.partialDeepStrictEqual(stale.details, { key: 'lock/x', expectedRevision: first.revision, actualRevision: second.revision });
    await refused(c.kvPut('lock/none', 1, { expectRevision: 5 }), 'CONFLICT', '"lock/none"', 'does not exist', 'expected revision 5');
    await refused(c.kvDelete('lock/x', { expectRevision: first.revision }), 'CONFLICT', `revision ${second.revision}`);
    assert.equal((await c.kvGet('lock/x'))?.value, 'b', 'a refused swap changes nothing');
    assert.equal((await c.kvDelete('lock/x', { expectRevision: second.revision })).deleted, true);
    assert.equal((await c.kvDelete('lock/x', { expectRevision: 0 })).deleted, false, 'absent, as expected');
    // An idempotent retry of a put answers its first result and acts once.
    const once = await c.kvPut('idem', 1, { expectRevision: 0, idempotencyKey: 'kv-idem-1' });
    assert.deepEqual(await c.kvPut('idem', 1, { expectRevision: 0, idempotencyKey: 'kv-idem-1' }), once);
    assert.equal((await c.kvGet('idem'))?.version, 1);
  });

  withCoordinator('kv: list by prefix in key order, paged with after and limit, with the revision of the read', async (c) => {
    for (const key of ['app/b', 'app/a', 'app/c', 'apq', 'other']) await c.kvPut(key, key);
    const all = await c.kvList({ prefix: 'app/' });
    assert.deepEqual(all.entries.map((e) => e.key), ['app/a', 'app/b', 'app/c']);
    assert.equal(all.more, false);
    const last = await c.kvGet('other');
    assert.ok(all.revision >= last!.revision, 'the read saw every put before it');
    const page = await c.kvList({ prefix: 'app/', limit: 2 });
    assert.deepEqual(page.entries.map((e) => e.key), ['app/a', 'app/b']);
    assert.equal(page.more, true);
    const next = await c.kvList({ prefix: 'app/', after: 'app/b', limit: 2 });
    assert.deepEqual(next.entries.map((e) => e.key), ['app/c']);
    assert.equal(next.more, false);
    assert.equal((await c.kvList()).entries.length, 5);
    // Code-point order on every backend, whatever a database's collation would say ('B' < 'a' < 'b' < 'é').
    for (const key of ['ord/é', 'ord/b', 'ord/a', 'ord/B']) await c.kvPut(key, 0);
    assert.deepEqual((await c.kvList({ prefix: 'ord/' })).entries.map((e) => e.key), ['ord/B', 'ord/a', 'ord/b', 'ord/é']);
    assert.deepEqual((await c.kvList({ prefix: 'ord/', after: 'ord/a' })).entries.map((e) => e.key), ['ord/b', 'ord/é']);
  });

  withCoordinator('kv: a prefix is a key range in code-point order, exact at its edges (astral characters, U+10FFFF)', async (c) => {
    const top = String.fromCodePoint(0x10ffff);
    // Code-point order: U+FFFF before U+10000 (UTF-16 order would say the opposite).
    const inP = ['p', 'pa', 'p\uffff', 'p\u{10000}', `p${top}`, `p${top}x`, `p${top}${top}`];
    for (const key of [...inP, 'o', 'q', 'q0', top, `${top}a`]) await c.kvPut(key, 1);
    const keys = async (prefix: string, after?: string) => (await c.kvList({ prefix, ...(after === undefined ? {} : { after }) })).entries.map((e) => e.key);
    assert.deepEqual(await keys('p'), ['p', 'pa', 'p\uffff', 'p\u{10000}', `p${top}`, `p${top}x`, `p${top}${top}`]);
    assert.deepEqual(await keys(`p${top}`), [`p${top}`, `p${top}x`, `p${top}${top}`]);
    assert.deepEqual(await keys(`p${top}`, `p${top}x`), [`p${top}${top}`]);
    assert.deepEqual(await keys(top), [top, `${top}a`]);
    assert.deepEqual(await keys('p\uffff'), ['p\uffff']);
    assert.equal((await keys('')).length, inP.length + 5);
  });

  withCoordinator('kv: a list page ends at about 1 MiB of values (the first entry always comes) and says more; after pages on', async (c) => {
    const big = 'x'.repeat(MAX_KV_VALUE_BYTES - 2);
    for (let i = 0; i < 20; i++) await c.kvPut(`big/${String(i).padStart(2, '0')}`, big);
    const first = await c.kvList({ prefix: 'big/' });
    assert.equal(first.entries.length, MAX_KV_LIST_BYTES / MAX_KV_VALUE_BYTES, 'as many 64 KiB values as fit in 1 MiB');
    assert.equal(first.more, true, 'the byte bound ended the page');
    const rest = await c.kvList({ prefix: 'big/', after: first.entries.at(-1)!.key });
    assert.deepEqual(rest.entries.map((e) => e.key), ['big/16', 'big/17', 'big/18', 'big/19']);
    assert.equal(rest.more, false);
    // A limit that ends the page before the byte bound still says more; a limit of 1 returns the one entry.
    assert.deepEqual([(await c.kvList({ prefix: 'big/', limit: 3 })).entries.length, (await c.kvList({ prefix: 'big/', limit: 3 })).more], [3, true]);
    assert.equal((await c.kvList({ prefix: 'big/', after: 'big/18' })).entries.length, 1);
  });

  withCoordinator('kv: a key bound to a lease reads as absent once the lease ends; the sweep deletes it (lease ended); a put treats it as absent', async (c) => {
    const lease = await c.acquire('leader', { owner: 'one', ttlMs: 60_000 });
    const put = await c.kvPut('leader/who', 'one', { lease });
    assert.deepEqual(put.lease, { key: 'leader', token: lease.token });
    assert.deepEqual((await c.kvGet('leader/who'))?.lease, { key: 'leader', token: lease.token });
    await c.kvPut('leader/plain', 'stays');
    await c.release(lease);
    assert.equal(await c.kvGet('leader/who'), null, 'absent at once, before any sweep');
    assert.deepEqual((await c.kvList({ prefix: 'leader/' })).entries.map((e) => e.key), ['leader/plain']);
    await refused(c.kvPut('leader/who', 'one', { lease }), 'STALE_TOKEN', String(lease.token));
    await c.sweep();
    const events = await c.events({ after: put.revision, types: ['kv.'] });
    const gone = events.find((e) => e.type === 'kv.deleted' && e.key === 'leader/who');
    assert.deepEqual(gone?.data, { revision: gone?.seq, key: 'leader/who', prevRevision: put.revision, reason: 'lease ended', lease: { key: 'leader', token: lease.token } });
    // A put onto a key whose lease ended (not yet swept) sees it absent, and says it went first.
    const two = await c.acquire('leader', { owner: 'two', ttlMs: 60_000 });
    const bound = await c.kvPut('leader/who', 'two', { lease: two, expectRevision: 0 });
    await c.release(two);
    const after = await c.kvPut('leader/who', 'three', { expectRevision: 0 });
    assert.equal(after.version, 1);
    assert.equal(after.lease, null);
    const log = (await c.events({ after: bound.revision, types: ['kv.'] })).filter((e) => e.key === 'leader/who');
    assert.deepEqual(log.map((e) => [e.type, e.data.reason ?? null]), [['kv.deleted', 'lease ended'], ['kv.put', null]]);
    await c.sweep();
    assert.equal((await c.kvGet('leader/who'))?.value, 'three', 'a sweep leaves an unbound key alone');
  });

  withCoordinator('kv: watch pushes puts and deletes in revision order, filtered by key or prefix, and resumes after a revision', async (c) => {
    const prefixWatch = gather(c, { prefix: 'w/' });
    const keyWatch = gather(c, { key: 'w/one' });
    await sleep(50);
    const p1 = await c.kvPut('w/one', 1);
    const p2 = await c.kvPut('w/two', 2);
    await c.kvPut('elsewhere', 0);
    const p3 = await c.kvPut('w/one', 3, { expectRevision: p1.revision });
    const d = await c.kvDelete('w/two');
    await until('the prefix watch saw 4 changes', () => prefixWatch.changes.length >= 4);
    await until('the key watch saw 2 changes', () => keyWatch.changes.length >= 2);
    prefixWatch.close();
    keyWatch.close();
    assert.deepEqual(prefixWatch.changes.map((ch) => [ch.type, 'key' in ch ? ch.key : '', 'revision' in ch ? ch.revision : 0]), [
      ['put', 'w/one', p1.revision], ['put', 'w/two', p2.revision], ['put', 'w/one', p3.revision], ['delete', 'w/two', d.revision],
    ]);
    assert.deepEqual(prefixWatch.changes[2], { type: 'put', ...p3 });
    assert.deepEqual(prefixWatch.changes[3], { type: 'delete', key: 'w/two', revision: d.revision, prevRevision: p2.revision, reason: 'deleted' });
    assert.deepEqual(keyWatch.changes.map((ch) => ('revision' in ch ? ch.revision : 0)), [p1.revision, p3.revision]);
    // Resumed from p2's revision: exactly the changes after it, from the log.
    const resumed = gather(c, { prefix: 'w/', fromRevision: p2.revision });
    await until('the resumed watch caught up', () => resumed.changes.length >= 2);
    await sleep(50);
    resumed.close();
    assert.deepEqual(resumed.changes.map((ch) => ('revision' in ch ? ch.revision : 0)), [p3.revision, d.revision]);
  });

  withCoordinator('kv: bad input is refused with INVALID_ARGUMENT naming it, and changes nothing', async (c) => {
    const cases: Array<[string, () => Promise<unknown>, string]> = [
      ['empty key', () => c.kvPut('', 1), 'key'],
      ['key too long', () => c.kvPut('k'.repeat(MAX_KEY_LENGTH + 1), 1), `${MAX_KEY_LENGTH}`],
      ['key not a string', () => c.kvGet(7 as never), 'key'],
      ['no value', () => c.kvPut('k', undefined), 'value'],
      ['value too big', () => c.kvPut('k', 'x'.repeat(MAX_KV_VALUE_BYTES)), `${MAX_KV_VALUE_BYTES}`],
      ['value with a lone surrogate', () => c.kvPut('k', { s: '\ud800' }), 'Unicode'],
      ['negative expectRevision', () => c.kvPut('k', 1, { expectRevision: -1 }), 'expectRevision'],
      ['fractional expectRevision', () => c.kvDelete('k', { expectRevision: 1.5 }), 'expectRevision'],
      ['lease not a reference', () => c.kvPut('k', 1, { lease: { key: 'x' } as never }), 'token'],
      ['list limit 0', () => c.kvList({ limit: 0 }), 'limit'],
      ['a misspelt option (no silent plain put)', () => c.kvPut('k', 1, { expectedRevision: 0 } as never), 'expectedRevision'],
    ];
    for (const [what, call, mention] of cases) {
      await assert.rejects(call(), (e: Error & { code?: string }) => {
        assert.equal(e.code, 'INVALID_ARGUMENT', `${what}: ${e.code} ${e.message}`);
        assert.ok(e.message.includes(mention), `${what}: ${JSON.stringify(e.message)} should mention ${mention}`);
        return true;
      });
    }
    assert.deepEqual((await c.kvList()).entries, [], 'nothing was written');
    for (const options of [{ key: 'a', prefix: 'b' }, { fromRevision: -1 }, { key: '' }, { keys: 'a' }]) {
      assert.throws(() => c.kvWatch(() => undefined, options as never), (e: Error & { code?: string }) => e.code === 'INVALID_ARGUMENT');
    }
  });
}

/** Compaction: a watch from a revision whose events were pruned says so and ends (engine-level: needs a short retention). */
export function kvCompactionCase(name: string, open: () => Promise<Coordinator>): void {
  test(`${name}: kv: a watch from a pruned revision gets one compacted change and ends`, async () => {
    const c = await open();
    try {
      const first = await c.kvPut('c/a', 1);
      for (let i = 0; i < 5; i++) await c.kvPut('c/a', i);
      await c.sweep();
      const oldest = (await c.events({ limit: 1 }))[0]!.seq;
      assert.ok(oldest > first.revision + 1, `the retention pruned the early events (oldest kept ${oldest})`);
      const watch = gather(c, { key: 'c/a', fromRevision: first.revision });
      await until('the watch said compacted', () => watch.changes.length >= 1);
      await c.kvPut('c/a', 'later');
      await sleep(100);
      watch.close();
      assert.deepEqual(watch.changes, [{ type: 'compacted', fromRevision: first.revision, compactRevision: oldest - 1 }]);
      // From the revision of a fresh list, nothing is missing.
      const list = await c.kvList({ prefix: 'c/' });
      const fresh = gather(c, { prefix: 'c/', fromRevision: list.revision });
      const next = await c.kvPut('c/a', 'next');
      await until('the fresh watch saw the put', () => fresh.changes.length >= 1);
      fresh.close();
      assert.equal(fresh.changes[0]?.type, 'put');
      assert.equal((fresh.changes[0] as { revision: number }).revision, next.revision);
    } finally {
      await c.close();
    }
  });
}
