// The budget's boundary with real concurrent agents: processes reserve and
// commit against budgets at once, some committing above their estimates, on
// one SQLite file and through one daemon. Afterwards the event log is
// replayed: no reservation was granted past a limit, every overshoot was
// recorded, and the events and the budgets' status agree with the usage.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { BatonEvent, Coordinator } from '../../src/index.ts';
import { openCoordinator } from '../../src/client/index.ts';
import { startDaemon } from '../../support/daemon.ts';
import { startNode, tempDir, worker } from '../helpers/procs.ts';

const LIMIT = 40_000;
const AGENTS = 6;
const ROUNDS = 20;

interface Commit {
  model: string;
  id: string;
  estimate: number;
  actual: number;
  overshoot: { reservationId: string; estimate: number; actual: number; by: number } | null;
}

async function boundary(t: TestContext, url: string, c: Coordinator): Promise<void> {
  await c.setBudget({ model: 'honest', limit: LIMIT });
  await c.setBudget({ model: 'greedy', limit: LIMIT });
  // Every other agent goes over its estimate on model greedy, half the time. All start at once.
  const procs = Array.from({ length: AGENTS }, (_, i) => startNode(worker('budget-agent'), [url, String(ROUNDS), i % 2 === 0 ? '0' : '0.5'], { stdin: true }));
  await Promise.all(procs.map((p) => p.line('ready', 30_000)));
  for (const p of procs) p.child.stdin!.write('go\n');
  for (const r of await Promise.all(procs.map((p) => p.done))) assert.equal(r.code, 0, r.stderr);
  const lines = procs.flatMap((p) => p.lines().filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Commit | { model: string; refused: number }));
  const commits = lines.filter((l): l is Commit => 'id' in l);
  const refusals = lines.length - commits.length;

  // Replay the log: at every grant, used + reserved (with it) is within the limit.
  const events: BatonEvent[] = await c.events({ types: ['tokens.'], limit: 100_000 });
  const used = new Map<string, number>();
  const held = new Map<string, { model: string; estimate: number }>();
  const reservedOf = (model: string): number => [...held.values()].filter((r) => r.model === model).reduce((sum, r) => sum + r.estimate, 0);
  for (const e of events) {
    if (e.type === 'tokens.reserved') {
      const model = String(e.data.model);
      held.set(e.key!, { model, estimate: Number(e.data.estimate) });
      const total = (used.get(model) ?? 0) + reservedOf(model);
      assert.ok(total <= LIMIT, `seq ${e.seq}: reservation ${e.key} granted with used + reserved = ${total} > ${LIMIT} on ${model}`);
    } else if (e.type === 'tokens.updated') {
      assert.ok(held.delete(String(e.data.reservationId)), `seq ${e.seq}: a commit of a reservation that was not held`);
      const model = String(e.data.model);
      used.set(model, (used.get(model) ?? 0) + Number(e.data.promptTokens) + Number(e.data.completionTokens));
    }
  }
  assert.equal(held.size, 0, 'every granted reservation was committed');
  assert.equal(commits.length, events.filter((e) => e.type === 'tokens.reserved').length, 'one grant per commit the agents made');

  // Every overshoot: in the commit's result and as one event, with the same numbers.
  const over = commits.filter((x) => x.actual > x.estimate);
  for (const x of commits) assert.deepEqual(x.overshoot, x.actual > x.estimate ? { reservationId: x.id, estimate: x.estimate, actual: x.actual, by: x.actual - x.estimate } : null);
  const overshootEvents = events.filter((e) => e.type === 'tokens.overshoot');
  assert.deepEqual(
    overshootEvents.map((e) => [e.key, e.data.estimate, e.data.actual, e.data.by]).sort(),
    over.map((x) => [x.id, x.estimate, x.actual, x.actual - x.estimate]).sort(),
  );
  assert.ok(over.every((x) => x.model === 'greedy'), 'only greedy commits go over');

  // Status, events and usage rows agree.
  const totals = await c.usage();
  for (const model of ['honest', 'greedy']) {
    const [status] = await c.budgetStatus({ model });
    const fromCommits = commits.filter((x) => x.model === model).reduce((sum, x) => sum + x.actual, 0);
    assert.equal(status!.used, fromCommits, `${model}: the budget's used is what the agents committed`);
    assert.equal(used.get(model) ?? 0, fromCommits, `${model}: the events add up to the same`);
    assert.equal(totals.byModel.find((m) => m.model === model)?.total, fromCommits, `${model}: the usage rows too`);
    assert.equal(status!.reserved, 0);
    const exceeded = events.filter((e) => e.type === 'tokens.exceeded' && e.key === `model:${model}`);
    assert.equal(exceeded.length, status!.used > LIMIT ? 1 : 0, `${model}: tokens.exceeded once exactly when used passed the limit`);
    assert.equal(status!.exceeded, status!.used > LIMIT);
  }
  const [honest] = await c.budgetStatus({ model: 'honest' });
  assert.ok(honest!.used <= LIMIT, `agents within their estimates cannot overshoot: used ${honest!.used} of ${LIMIT}`);
  assert.ok(refusals > 0, 'the agents reached the limit (some reservations were refused)');
  assert.ok(over.length > 0, 'some commits went over their estimates');
  const [greedy] = await c.budgetStatus({ model: 'greedy' });
  t.diagnostic(`${commits.length} commits, ${refusals} refusals, ${over.length} overshoots; honest used ${honest!.used}, greedy used ${greedy!.used} of ${LIMIT}`);
}

test('6 processes on one SQLite file reserving and committing, 3 of them above their estimates: no grant past the limit, every overshoot recorded, status agrees', { timeout: 120_000 }, async (t) => {
  const url = `sqlite:${join(tempDir(t, 'baton-boundary-'), 'baton.db')}`;
  const c = await openCoordinator({ url });
  t.after(() => c.close());
  await boundary(t, url, c);
});

test('the same through one daemon: 6 client processes', { timeout: 120_000 }, async (t) => {
  const dir = tempDir(t, 'baton-boundary-daemon-');
  const daemon = await startDaemon(join(dir, '.baton'), { cwd: dir });
  t.after(() => daemon.stop());
  await boundary(t, `baton+unix://${encodeURIComponent(daemon.record.socket!)}`, daemon.client());
});
