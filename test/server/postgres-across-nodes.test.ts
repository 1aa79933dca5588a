// What must hold across daemons, not only across processes: an idempotency
// key sent to two daemons at once acts once; event seqs are handed out in
// commit order, so every daemon's stream sees every event, gapless and in
// order, however many nodes publish at once; a budget is not overshot by
// reservations made on two daemons together.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { BatonEvent } from '../../src/index.ts';
import { startDaemon, type RunningDaemon } from '../../support/daemon.ts';
import { postgresPerFile } from '../../support/postgres.ts';

const daemons: RunningDaemon[] = [];
// Registered first, so it runs first: the daemons go before their database does.
after(async () => {
  for (const d of daemons) await d.stop().catch(() => undefined);
});
const postgres = postgresPerFile('baton-pg-across-');
const dir = postgres.dir;

let n = 0;
async function twoDaemons(): Promise<[RunningDaemon, RunningDaemon]> {
  const url = await postgres.databases.fresh();
  const [a, b] = await Promise.all([0, 1].map(() => startDaemon(join(dir, `state-${n++}`), { cwd: dir, args: ['--store', url] })));
  daemons.push(a!, b!);
  return [a!, b!];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('one idempotency key sent to two daemons at once acts once; both answer the same', async () => {
  const [a, b] = await twoDaemons();
  const ca = a.client();
  const cb = b.client();
  for (let round = 0; round < 10; round++) {
    const key = `add-${round}`;
    const [x, y] = await Promise.all([ca.addTasks([{ title: `t${round}` }], { idempotencyKey: key }), cb.addTasks([{ title: `t${round}` }], { idempotencyKey: key })]);
    assert.deepEqual(x.map((t) => t.id), y.map((t) => t.id), `round ${round}: the same task`);
  }
  assert.equal((await ca.listTasks()).length, 10, 'ten tasks, not twenty');
});

test('event seqs are in commit order: every stream sees every event, gapless and in order, while two daemons publish at once', async () => {
  const [a, b] = await twoDaemons();
  const streams = [a, b].map((d) => {
    const seen: BatonEvent[] = [];
    const subscription = d.client().subscribe((e) => seen.push(e));
    return { seen, subscription };
  });
  await sleep(300);
  const publishers = [a, b].flatMap((d) => [0, 1, 2, 3].map((p) => ({ c: d.client(), p: `${d.record.pid}-${p}` })));
  await Promise.all(publishers.map(async ({ c, p }) => {
    for (let i = 0; i < 40; i++) await c.publish({ type: 'load.tick', data: { p, i } });
  }));
  const total = publishers.length * 40;
  const until = performance.now() + 15_000;
  const loads = (seen: BatonEvent[]): BatonEvent[] => seen.filter((e) => e.type === 'load.tick');
  while (streams.some((s) => loads(s.seen).length < total) && performance.now() < until) await sleep(50);
  for (const [i, { seen, subscription }] of streams.entries()) {
    subscription.close();
    assert.equal(loads(seen).length, total, `stream ${i} saw ${loads(seen).length} of ${total}`);
    // Every event, whatever its type (the daemons' own too): no seq skipped, none out of order.
    const seqs = seen.map((e) => e.seq);
    for (let k = 1; k < seqs.length; k++) assert.equal(seqs[k], seqs[k - 1]! + 1, `stream ${i}: seq ${seqs[k]} after ${seqs[k - 1]}: a gap or a reordering`);
    // Each publisher's own events in the order it published them.
    for (const { p } of publishers) {
      const mine = seen.filter((e) => e.data.p === p).map((e) => e.data.i);
      assert.deepEqual(mine, [...Array(40).keys()]);
    }
  }
});

test('reservations made on two daemons at once never pass the budget together', async () => {
  const [a, b] = await twoDaemons();
  const ca = a.client();
  const cb = b.client();
  await ca.setBudget({ limit: 10_000, period: 'daily' });
  const attempts = Array.from({ length: 40 }, (_, i) => ((i % 2 === 0 ? ca : cb).reserve({ agent: `agent-${i}`, estimate: 700 }).then(
    () => 'granted' as const,
    (error: Error & { code?: string }) => {
      assert.equal(error.code, 'BUDGET_EXCEEDED', error.message);
      return 'refused' as const;
    },
  )));
  const outcomes = await Promise.all(attempts);
  assert.equal(outcomes.filter((o) => o === 'granted').length, 14, '14 x 700 fit under 10,000; a 15th does not');
  const [status] = await ca.budgetStatus();
  assert.equal(status!.reserved, 14 * 700);
  assert.ok(status!.reserved + status!.used <= status!.limit);
});
