// A commit above its reservation, as the shell shows it: `budget commit` says
// by how much, and `budget status` and `baton status` show the budget over its
// limit with the amount (real CLI processes on a temp database).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { baton, tempDir, type Finished } from '../helpers/procs.ts';

function ok(r: Finished): string {
  assert.equal(r.code, 0, `exit 0 expected; stderr: ${r.stderr}`);
  return r.stdout;
}

test('budget commit above the reservation: recorded, said, and the budget shows "over by <n>" in budget status and baton status', { timeout: 60_000 }, async (t) => {
  const db = join(tempDir(t, 'baton-budget-over-'), 'baton.db');
  const run = (args: string[]) => baton([...args, '--db', db]);
  ok(await run(['budget', 'set', '--limit', '50000']));
  ok(await run(['budget', 'set', '--agent', 'careful', '--limit', '1000']));
  const id = (JSON.parse(ok(await run(['budget', 'reserve', '--agent', 'greedy', '--estimate', '30000', '--json']))) as { id: string }).id;
  ok(await run(['budget', 'report', '--agent', 'careful', '--model', 'm', '--prompt', '20000', '--completion', '0']));
  const commit = ok(await run(['budget', 'commit', id, '--prompt', '30000', '--completion', '10000']));
  assert.match(commit, /^committed 40000 tokens: 10000 more than the 30000 reserved \(all recorded\)\n/);
  assert.match(commit, /\n\* +none +50000 +60000 +0 +-10000 +over by 10000\n/);

  const status = ok(await run(['budget', 'status']));
  assert.match(status, /\n\* +none +50000 +60000 +0 +-10000 +over by 10000\n/);
  assert.match(status, /\nagent:careful +none +1000 +20000 +0 +-19000 +over by 19000\n/, 'reports past the limit show the same way');
  const screen = ok(await run(['status']));
  assert.match(screen, /\nbudgets \(2\)\nSCOPE +PERIOD +USED +RESERVED +LIMIT +STATE\n/);
  assert.match(screen, /\n\* +none +60000 +0 +50000 +over by 10000\n/);

  // Reservations holding the rest: full (a new one is refused), not "ok".
  ok(await run(['budget', 'set', '--model', 'opus', '--limit', '100']));
  ok(await run(['budget', 'set', '--limit', '1000000']));
  ok(await run(['budget', 'reserve', '--agent', 'a', '--model', 'opus', '--estimate', '100']));
  assert.match(ok(await run(['budget', 'status', '--model', 'opus'])), /\nmodel:opus +none +100 +0 +100 +0 +full\n/);
});
