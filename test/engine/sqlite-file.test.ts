// The conformance suite on a SQLite file, as many processes would share it.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { after, test } from 'node:test';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { openCoordinator } from '../../src/index.ts';
import { Engine } from '../../src/engine/engine.ts';
import { pruneEvents } from '../../src/engine/events.ts';
import { migrations } from '../../src/stores/sqlite/schema.ts';
import { openSqliteStore } from '../../src/stores/sqlite/sqlite-store.ts';
import { conformance } from './conformance.ts';

const dir = mkdtempSync(join(tmpdir(), 'baton-conformance-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
conformance('sqlite file', () => openCoordinator({ url: `sqlite:${join(dir, `db-${n++}.sqlite`)}` }));

test('a database path that cannot be created is a clear error, not a hang', { skip: !existsSync('/proc/self') }, async () => {
  // Node's recursive mkdir spins for ever on a missing directory under /proc.
  await assert.rejects(openCoordinator({ url: 'sqlite:/proc/no-such-dir/baton.db' }), (error: Error & { code?: string }) => {
    assert.equal(error.code, 'NOT_FOUND');
    assert.match(error.message, /\/proc\/no-such-dir/);
    return true;
  });
});

test('pageSize sets the page size of a new database only; a bad one is refused before any file is made', async () => {
  const pageSizeOf = (file: string): number => {
    const db = new DatabaseSync(file, { readOnly: true });
    try {
      return (db.prepare('PRAGMA page_size').get() as { page_size: number }).page_size;
    } finally {
      db.close();
    }
  };
  const defaulted = join(dir, 'page-default.sqlite');
  await (await openCoordinator({ url: `sqlite:${defaulted}` })).close();
  assert.equal(pageSizeOf(defaulted), 1024);

  const large = join(dir, 'page-4096.sqlite');
  const c = await openCoordinator({ url: `sqlite:${large}`, pageSize: 4096 });
  await c.addTasks([{ title: 'kept' }]);
  await c.close();
  assert.equal(pageSizeOf(large), 4096);
  // An existing file keeps its pages (and its data), whatever the option says.
  const again = await openCoordinator({ url: `sqlite:${large}`, pageSize: 512 });
  assert.equal((await again.listTasks()).length, 1);
  await again.close();
  assert.equal(pageSizeOf(large), 4096);

  for (const bad of [1000, 256, 131072, -1024, Number.NaN, '4096']) {
    const file = join(dir, `page-bad-${String(bad)}.sqlite`);
    await assert.rejects(openCoordinator({ url: `sqlite:${file}`, pageSize: bad as number }), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'INVALID_ARGUMENT');
      assert.ok(error.message.includes(typeof bad === 'number' ? `not ${bad}` : `not ${JSON.stringify(bad)}`), error.message);
      return true;
    });
    assert.equal(existsSync(file), false);
  }
});

test('a waiter that gives up after a release handed it the lease passes it on to the next in line', async () => {
  const url = `sqlite:${join(dir, 'handoff-give-up.sqlite')}`;
  const [holder, quitter, patient] = await Promise.all([openCoordinator({ url }), openCoordinator({ url }), openCoordinator({ url })]);
  try {
    const a = await holder.acquire('give-up', { owner: 'a' });
    const abort = new AbortController();
    const quitting = quitter.acquire('give-up', { owner: 'quitter', timeoutMs: 10_000, signal: abort.signal });
    while ((await holder.getLease('give-up')).waiters.length < 1) await new Promise((r) => setTimeout(r, 5));
    const next = patient.acquire('give-up', { owner: 'patient', timeoutMs: 10_000 });
    while ((await holder.getLease('give-up')).waiters.length < 2) await new Promise((r) => setTimeout(r, 5));
    await holder.release(a);
    // Handed to the quitter in the release's commit; it gives up before it ever looks.
    assert.deepEqual((await holder.getLease('give-up')).holders.map((h) => h.owner), ['quitter']);
    abort.abort();
    await assert.rejects(quitting, (error: Error & { code?: string }) => error.code === 'ABORTED');
    const lease = await next;
    assert.equal(lease.owner, 'patient');
    assert.deepEqual((await holder.getLease('give-up')).holders.map((h) => h.owner), ['patient']);
    const released = (await holder.events({ types: ['lease.released'] })).filter((e) => e.key === 'give-up').map((e) => e.actor);
    assert.deepEqual(released, ['a', 'quitter']);
  } finally {
    await Promise.all([holder.close(), quitter.close(), patient.close()]);
  }
});

test('a database made by the first schema is upgraded in place: events, seq and idempotency records carry over', async () => {
  const path = join(dir, 'schema-1.sqlite');
  const old = new DatabaseSync(path);
  old.exec('PRAGMA journal_mode = WAL');
  old.exec(migrations[0]!);
  old.exec('PRAGMA user_version = 1');
  const insert = old.prepare(`INSERT INTO events (at, type, key, actor, data) VALUES (?, 'old.event', 'k', NULL, '{}')`);
  for (let i = 0; i < 5; i++) insert.run(Date.now());
  old.exec('DELETE FROM events WHERE seq > 2'); // the newest events were pruned: seq 5 was used
  old.prepare(`INSERT INTO idempotency (key, request_hash, result, created_at) VALUES ('k1', 'h', '"first"', ?)`).run(Date.now());
  old.close();

  const c = await openCoordinator({ url: `sqlite:${path}` });
  try {
    const events = await c.events();
    assert.deepEqual(events.slice(0, 2).map((e) => [e.seq, e.type]), [[1, 'old.event'], [2, 'old.event']]);
    assert.equal(events.at(-1)!.seq, 5, 'the highest seq ever used stays taken');
    const next = await c.publish({ type: 'new.event' });
    assert.equal(next.seq, 6);
    await c.sweep(); // prunes with the new queries
    assert.equal((await c.events({ after: 5 }))[0]!.type, 'new.event');
  } finally {
    await c.close();
  }
  const upgraded = new DatabaseSync(path);
  try {
    assert.equal((upgraded.prepare('PRAGMA user_version').get() as { user_version: number }).user_version, migrations.length);
    assert.equal(upgraded.prepare(`SELECT name FROM sqlite_schema WHERE name = 'tasks_claimed_by'`).get(), undefined, 'migration 3 dropped the index');
  } finally {
    upgraded.close();
  }
});

test('pruning keeps the newest event, so seq never goes back even when every event is old', async () => {
  const c = await openCoordinator({ url: `sqlite:${join(dir, 'prune-all.sqlite')}`, retention: { maxAgeMs: 1, maxCount: 1_000_000 } });
  try {
    let last = 0;
    for (let i = 0; i < 3; i++) last = (await c.publish({ type: 'x' })).seq;
    await new Promise((r) => setTimeout(r, 5));
    await c.sweep();
    assert.deepEqual((await c.events()).map((e) => e.seq), [last]);
    assert.equal((await c.publish({ type: 'y' })).seq, last + 1);
  } finally {
    await c.close();
  }
});

test('count retention never takes seq back: the newest event stays, across a sweep and a reopen', async () => {
  const url = `sqlite:${join(dir, 'retention-count.sqlite')}`;
  let c = await openCoordinator({ url, retention: { maxCount: 1 } });
  try {
    for (let i = 1; i <= 5; i++) assert.equal((await c.publish({ type: 'x' })).seq, i);
    await c.sweep();
    assert.deepEqual((await c.events()).map((e) => e.seq), [5]);
    assert.equal((await c.publish({ type: 'y' })).seq, 6);
    // Below the option checks, the prune itself keeps the newest event, whatever retention it is given.
    assert.ok(c instanceof Engine);
    assert.equal(await c.store.write((tx) => pruneEvents(tx, { maxAgeMs: 1e12, maxCount: 0 })), 1);
    assert.deepEqual((await c.events()).map((e) => e.seq), [6]);
  } finally {
    await c.close();
  }
  c = await openCoordinator({ url, retention: { maxCount: 1 } });
  try {
    await c.sweep();
    assert.equal((await c.publish({ type: 'z' })).seq, 7, 'after a reopen seq goes on from the highest');
    assert.deepEqual((await c.events()).map((e) => [e.seq, e.type]), [[6, 'y'], [7, 'z']]);
  } finally {
    await c.close();
  }
});

test('bad retention and retry options are refused with INVALID_ARGUMENT before a file is made', async () => {
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ retention: { maxCount: 0 } }, 'retention.maxCount must be an integer of at least 1, not 0'],
    [{ retention: { maxCount: -3 } }, 'not -3'],
    [{ retention: { maxCount: 1.5 } }, 'not 1.5'],
    [{ retention: { maxAgeMs: 0 } }, 'retention.maxAgeMs must be a finite number > 0, not 0'],
    [{ retention: { maxAgeMs: -1 } }, 'not -1'],
    [{ retention: { maxAgeMs: Number.NaN } }, 'not NaN'],
    [{ retention: 5 }, 'retention must be an object'],
    [{ retry: { baseMs: -1 } }, 'retry.baseMs must be an integer of at least 0, not -1'],
    [{ retry: { maxMs: -1 } }, 'retry.maxMs must be an integer of at least 0, not -1'],
    [{ retry: { baseMs: '1000' } }, 'not "1000"'],
  ];
  for (const [i, [options, message]] of cases.entries()) {
    const file = join(dir, `bad-options-${i}.sqlite`);
    await assert.rejects(openCoordinator({ url: `sqlite:${file}`, ...options }), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'INVALID_ARGUMENT');
      assert.ok(error.message.includes(message), `${JSON.stringify(options)}: ${error.message}`);
      return true;
    });
    assert.equal(existsSync(file), false);
  }
  // An Engine made straight over a store (as the daemon makes one) checks them too.
  const store = await openSqliteStore(':memory:');
  try {
    assert.throws(() => new Engine(store, { retry: { baseMs: -5 } }), (error: Error & { code?: string }) => error.code === 'INVALID_ARGUMENT' && error.message.includes('-5'));
  } finally {
    await store.close();
  }
});

test('subscribe refuses a bad query at once with INVALID_ARGUMENT, instead of polling with it for ever', async () => {
  const c = await openCoordinator({ url: `sqlite:${join(dir, 'subscribe-bad.sqlite')}` });
  try {
    const cases: Array<[unknown, string]> = [
      [{ types: 'task.' }, '"task."'],
      [{ types: ['task.', 7] }, 'types[1]'],
      [{ types: [''] }, 'types[0]'],
      [{ after: 'x' }, '"x"'],
      [{ after: -2 }, '-2'],
      [{ topics: ['task.'] }, '"topics"'],
      ['task.', 'object'],
    ];
    for (const [query, mention] of cases) {
      assert.throws(() => c.subscribe(() => undefined, query as never), (error: Error & { code?: string }) => {
        assert.equal(error.code, 'INVALID_ARGUMENT', `${JSON.stringify(query)}: ${error.message}`);
        assert.ok(error.message.includes(mention), `${JSON.stringify(query)}: ${error.message}`);
        return true;
      });
    }
    // A good one still works, from the end of the log (after -1, the default) or a seq.
    const seen: string[] = [];
    const sub = c.subscribe((e) => seen.push(e.type), { after: -1, types: ['ok.'] });
    await new Promise((r) => setTimeout(r, 50));
    await c.publish({ type: 'ok.one' });
    for (let i = 0; i < 200 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    sub.close();
    assert.deepEqual(seen, ['ok.one']);
  } finally {
    await c.close();
  }
});

test('a claim of many that hands out the first token past its epoch makes the next epoch durable first; tokens keep rising after a reopen', async () => {
  const file = join(dir, 'epoch-edge.sqlite');
  const span = 2 ** 20; // tokens are epoch * 2^20 + a counter (docs/engine.md)
  const epochOf = (): number => {
    const db = new DatabaseSync(file, { readOnly: true });
    try {
      return Number((db.prepare(`SELECT value FROM meta WHERE key = 'epoch'`).get() as { value: string }).value);
    } finally {
      db.close();
    }
  };
  let c = await openCoordinator({ url: `sqlite:${file}` });
  const s = await c.register({ name: 'w' });
  const tasks = await c.addTasks(Array.from({ length: 40 }, (_, i) => ({ title: `t${i}` })));
  const epoch = epochOf();
  // As if this task had been claimed 2^20 - 1 times in this epoch: its next token is the next epoch's first.
  const db = new DatabaseSync(file);
  db.prepare('UPDATE tasks SET claim_token = ? WHERE id = ?').run((epoch + 1) * span - 1, tasks[9]!.id);
  db.close();
  const claims = await c.claim(s.id, { n: 40 });
  assert.equal(claims.length, 40);
  const edge = claims.find((x) => x.taskId === tasks[9]!.id)!;
  assert.equal(edge.token, (epoch + 1) * span);
  assert.equal(epochOf(), epoch + 1, 'the epoch the token lies in was made durable with the claim');
  await c.releaseClaim(edge);
  await c.close();
  c = await openCoordinator({ url: `sqlite:${file}` });
  const s2 = await c.register({ name: 'w2' });
  const [again] = await c.claimByIds(s2.id, [edge.taskId]);
  assert.ok(again!.token >= (epoch + 2) * span, `a reopen starts above the bumped epoch (token ${again!.token})`);
  await c.close();
});

test("a writer's raised hand left behind by a dead process holds the others up briefly (100 ms), not until their deadline", async () => {
  const { writeFileSync, utimesSync } = await import('node:fs');
  const file = join(dir, 'turn.sqlite');
  const c = await openCoordinator({ url: `sqlite:${file}` });
  try {
    // A hand raised just now by a writer that then died: writers step aside until it is stale.
    writeFileSync(`${file}-turn`, 'dead writer', { mode: 0o600 });
    const start = performance.now();
    await c.release(await c.acquire('k', { owner: 'a' }));
    const waited = performance.now() - start;
    assert.ok(waited < 5000, `a fresh stale hand held a write up ${waited.toFixed(0)} ms`);
    // One from the future (the clock stepped back since) is stale too, not a wait until the deadline.
    const future = new Date(Date.now() + 3_600_000);
    utimesSync(`${file}-turn`, future, future);
    await c.release(await c.acquire('k', { owner: 'a', timeoutMs: 5000 }));
    // An old one is ignored at once, and a later write leaves no hand of its own behind.
    const old = new Date(Date.now() - 60_000);
    utimesSync(`${file}-turn`, old, old);
    await c.release(await c.acquire('k', { owner: 'a' }));
    assert.equal(existsSync(`${file}-turn`), true, 'an uncontended writer does not touch another\'s hand');
  } finally {
    await c.close();
  }
});
