// Compare-and-swap under 8 racing processes (real child processes), on a
// SQLite file and on PostgreSQL (the library in each process): every
// successful put saw the revision it expected, revisions strictly increase,
// and a counter incremented by CAS reaches exactly its total. The same check
// on plain puts (no expectRevision) finds the lost updates CAS prevents.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openCoordinator, type Coordinator } from '../../src/index.ts';
import { postgresPerFile } from '../../support/postgres.ts';
import { startTogether, tempDir, worker } from '../helpers/procs.ts';

const PROCS = 8;
const EACH = Number(process.env.KV_CAS_EACH ?? 25);
const script = worker('kv-counter');
const postgres = postgresPerFile('baton-pg-kv-cas-');

interface Put {
  expected: number;
  revision: number;
  value: number;
}

/** Runs the racers; returns their successful puts and conflicts. */
async function race(url: string, mode: 'cas' | 'plain'): Promise<{ puts: Put[]; conflicts: number; ms: number }> {
  const started = performance.now();
  const procs = await startTogether(PROCS, script, [url, mode, String(EACH)]);
  const results = await Promise.all(procs.map((p) => p.done));
  const ms = performance.now() - started;
  for (const r of results) assert.equal(r.code, 0, r.stderr);
  const puts: Put[] = [];
  let conflicts = 0;
  for (const p of procs) {
    for (const line of p.lines()) {
      const [word, a, b, v] = line.split(' ');
      if (word === 'ok') puts.push({ expected: Number(a), revision: Number(b), value: Number(v) });
      if (word === 'conflicts') conflicts += Number(a);
    }
  }
  return { puts, conflicts, ms };
}

/** What CAS promises, checked against the log: each put followed the one it expected; none was lost. Returns what broke. */
async function violations(c: Coordinator, puts: Put[]): Promise<string[]> {
  const found: string[] = [];
  const log = (await c.events({ types: ['kv.put'], limit: 100_000 })).filter((e) => e.key === 'counter');
  const revisions = log.map((e) => e.seq);
  for (let i = 1; i < revisions.length; i++) if (revisions[i]! <= revisions[i - 1]!) found.push(`revision ${revisions[i]} after ${revisions[i - 1]}`);
  const byRevision = new Map(puts.map((p) => [p.revision, p]));
  for (let i = 0; i < log.length; i++) {
    const put = byRevision.get(log[i]!.seq);
    const previous = i === 0 ? 0 : log[i - 1]!.seq;
    if (put === undefined) found.push(`revision ${log[i]!.seq} reported by no process`);
    else if (put.expected !== previous) found.push(`the put at revision ${put.revision} read revision ${put.expected}, but ${previous} came before it`);
  }
  const final = await c.kvGet('counter');
  if (final?.value !== PROCS * EACH) found.push(`the counter is ${String(final?.value)}, not ${PROCS * EACH}: ${PROCS * EACH - Number(final?.value)} updates lost`);
  if (final?.version !== puts.length) found.push(`version ${final?.version} after ${puts.length} puts`);
  return found;
}

async function casCase(t: test.TestContext, url: string): Promise<void> {
  const c = await openCoordinator({ url });
  try {
    const { puts, conflicts, ms } = await race(url, 'cas');
    t.diagnostic(`${puts.length} CAS increments by ${PROCS} processes in ${Math.round(ms)} ms (with start-up), ${conflicts} conflicts retried`);
    assert.equal(puts.length, PROCS * EACH);
    assert.deepEqual(await violations(c, puts), []);
    assert.deepEqual(puts.map((p) => p.value).sort((a, b) => a - b), Array.from({ length: PROCS * EACH }, (_, i) => i + 1), 'each value written once');
  } finally {
    await c.close();
  }
}

async function plainCase(t: test.TestContext, url: string): Promise<void> {
  const c = await openCoordinator({ url });
  try {
    const { puts } = await race(url, 'plain');
    const found = await violations(c, puts);
    t.diagnostic(`without CAS: ${found.length} violations, e.g. ${found[0] ?? 'none'}; ${found.find((f) => f.includes('lost')) ?? 'none lost'}`);
    assert.ok(found.some((f) => f.includes('updates lost')), 'plain puts lose updates: the check sees what CAS prevents');
  } finally {
    await c.close();
  }
}

test(`SQLite file: ${PROCS} processes incrementing one counter by CAS reach exactly ${PROCS * EACH}`, async (t) => {
  await casCase(t, `sqlite:${join(tempDir(t), 'kv.db')}`);
});

test('SQLite file: the same race with plain puts (no expectRevision) loses updates, and the check says so', async (t) => {
  await plainCase(t, `sqlite:${join(tempDir(t), 'kv.db')}`);
});

test(`PostgreSQL: ${PROCS} processes incrementing one counter by CAS reach exactly ${PROCS * EACH}`, async (t) => {
  await casCase(t, await postgres.databases.fresh());
});

test('PostgreSQL: plain puts lose updates, and the check says so', async (t) => {
  await plainCase(t, await postgres.databases.fresh());
});
