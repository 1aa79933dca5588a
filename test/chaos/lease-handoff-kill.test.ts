// kill -9 of processes taking turns on one lease, at random points: while
// holding, while queued, right after a release handed them the lease. No two
// ever hold it at once, tokens keep increasing, and the key keeps moving: a
// dead waiter is passed over, a dead holder's lease lapses after its TTL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openCoordinator } from '../../src/index.ts';
import { sleep, startNode, tempDir, worker, type Running } from '../helpers/procs.ts';

test('kill -9 of lease holders and waiters on one key: never two holders, and the key keeps moving', { timeout: 120_000 }, async (t) => {
  const dir = tempDir(t);
  const db = join(dir, 'baton.db');
  const TTL = 800;
  const KILLS = 12;
  const spawn = (): Running => startNode(worker('engine'), ['hot-leaser', db, dir, String(TTL), '6000']);
  const all: Running[] = [];
  let live: Running[] = [];
  for (let i = 0; i < 5; i++) live.push(spawn());
  all.push(...live);
  for (let k = 0; k < KILLS; k++) {
    const victim = live[Math.floor(Math.random() * live.length)]!;
    await victim.line('held ', 30_000); // it has taken part at least once
    await sleep(Math.random() * 30);
    victim.child.kill('SIGKILL');
    await victim.done;
    const replacement = spawn();
    all.push(replacement);
    live = live.map((p) => (p === victim ? replacement : p));
  }
  for (const p of live) assert.equal((await p.done).code, 0, (await p.done).stderr);

  const doubles = all.flatMap((p) => p.lines().filter((l) => l.startsWith('DOUBLE')));
  assert.deepEqual(doubles, [], 'two processes held the key at once');
  const tokens = all.flatMap((p) => p.lines().filter((l) => l.startsWith('held ')).map((l) => Number(l.split(' ')[1])));
  assert.equal(new Set(tokens).size, tokens.length, 'a token was handed out twice');
  const c = await openCoordinator({ url: `sqlite:${db}` });
  try {
    const acquired = (await c.events({ types: ['lease.acquired'], limit: 100_000 })).filter((e) => e.key === 'hot').map((e) => e.data.token as number);
    for (let i = 1; i < acquired.length; i++) assert.ok(acquired[i]! > acquired[i - 1]!, `token ${acquired[i]} after ${acquired[i - 1]}`);
    t.diagnostic(`${KILLS} kills; ${tokens.length} holds by ${all.length} processes`);
    assert.ok(tokens.length >= 200, `the key stopped moving: only ${tokens.length} holds`);
    // Whatever a killed process was handed lapses: the key is free within the TTL.
    const last = await c.acquire('hot', { owner: 'check', timeoutMs: TTL + 2000 });
    await c.release(last);
  } finally {
    await c.close();
  }
});
