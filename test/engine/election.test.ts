// Leader election (src/election.ts) on the embedded engine: one leader at a
// time, the next in line elected when it resigns or its lease lapses, terms
// (fencing tokens) increasing, the value going with the leadership, and
// observers told each change.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Coordinator } from '../../src/coordinator.ts';
import { campaign, leader, observe, openCoordinator, type Leader } from '../../src/index.ts';
import { cli } from '../../support/paths.ts';
import { sleep, startNode, tempDir } from '../helpers/procs.ts';

async function open(t: import('node:test').TestContext): Promise<Coordinator> {
  const c = await openCoordinator({ url: `sqlite:${join(tempDir(t), 'e.db')}` });
  t.after(() => c.close());
  return c;
}

async function until<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = await fn();
    if (got !== undefined) return got;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

test('one leader at a time: the next in line is elected on resign, terms increase, the value goes with the leadership', async (t) => {
  const c = await open(t);
  const seen: Array<Leader | null> = [];
  const watching = observe(c, 'build', (l) => seen.push(l));
  t.after(() => watching.close());
  assert.equal(await leader(c, 'build'), null);

  const a = await campaign(c, 'build', { owner: 'a', value: { url: 'http://a' }, ttlMs: 10_000 });
  const b = campaign(c, 'build', { owner: 'b', value: 'b', ttlMs: 10_000 });
  let bElected = false;
  void b.then(() => (bElected = true));
  const now = await leader(c, 'build');
  assert.deepEqual([now?.owner, now?.token, now?.value], ['a', a.token, { url: 'http://a' }]);
  await a.proclaim({ url: 'http://a2' });
  assert.deepEqual((await leader(c, 'build'))?.value, { url: 'http://a2' });
  await sleep(200);
  assert.equal(bElected, false, 'b waits while a leads');

  await a.resign();
  assert.equal(a.signal.aborted, true, "a's signal aborts when it resigns");
  await assert.rejects(a.proclaim('late'), (e: Error & { code?: string }) => e.code === 'STALE_TOKEN' || e.code === 'LEASE_EXPIRED', 'a deposed leader cannot proclaim');
  const bl = await b;
  assert.ok(bl.token > a.token, `terms increase: ${a.token} then ${bl.token}`);
  assert.deepEqual((await leader(c, 'build'))?.value, 'b', "a's value went with its leadership; b's is there");
  await bl.resign();
  assert.equal(await leader(c, 'build'), null);

  await until('the observer to see the last change', () => (seen.at(-1) === null && seen.length > 1 ? true : undefined));
  const owners = seen.map((l) => (l === null ? null : `${l.owner}:${JSON.stringify(l.value)}`));
  // Between an election and its first put the value is unknown (undefined), which an observer may or may not catch.
  const settled = owners.filter((o) => o === null || !o.endsWith(':undefined'));
  assert.deepEqual(settled, [null, 'a:{"url":"http://a"}', 'a:{"url":"http://a2"}', 'b:"b"', null]);
});

test('a leader keeps its leadership past its TTL by renewing; when its lease is taken, its signal aborts and the next in line leads', async (t) => {
  const c = await open(t);
  const a = await campaign(c, 'lapse', { owner: 'a', ttlMs: 900 });
  const b = campaign(c, 'lapse', { owner: 'b', ttlMs: 900 });
  await sleep(2000);
  assert.equal(a.signal.aborted, false, 'a renewed past its TTL');
  assert.equal((await leader(c, 'lapse'))?.owner, 'a');
  await c.forceRelease('election:lapse', { token: a.token, reason: 'test' });
  const bl = await b;
  assert.ok(bl.token > a.token);
  await until("a's signal", () => (a.signal.aborted ? true : undefined), 3000);
  assert.match(String((a.signal.reason as Error).message), /term \d+\) ended: (its lease was force-released|the lease was lost)/);
  await bl.resign();
});

test('campaign refuses a bad name, and a campaign aborted while waiting ends with ABORTED and leaves the line', async (t) => {
  const c = await open(t);
  await assert.rejects(campaign(c, '', { owner: 'a', ttlMs: 1000 }), /election's name/);
  const a = await campaign(c, 'x', { owner: 'a', ttlMs: 10_000 });
  const giveUp = new AbortController();
  const b = campaign(c, 'x', { owner: 'b', ttlMs: 10_000, signal: giveUp.signal });
  await sleep(100);
  giveUp.abort();
  await assert.rejects(b, (e: Error & { code?: string }) => e.code === 'ABORTED');
  const cl = campaign(c, 'x', { owner: 'c', ttlMs: 10_000 });
  await a.resign();
  assert.equal((await cl).lease.owner, 'c', 'the aborted campaign left the line');
  await (await cl).resign();
});

test("the leadership ends as soon as the store ends its lease (force-release, the session's end), not at the next renewal", async (t) => {
  const c = await open(t);
  // A TTL of a minute: the next renewal is 18 s away, the deadline 59 s; only the lease events can end it within a second.
  const a = await campaign(c, 'forced', { owner: 'a', ttlMs: 60_000 });
  await c.forceRelease('election:forced', { token: a.token, reason: 'test' });
  await until("a's signal after the force-release", () => (a.signal.aborted ? true : undefined), 2000);
  assert.match(String((a.signal.reason as Error).message), /ended: its lease was force-released/);

  const session = await c.register({ name: 'b', kind: 'test' });
  const b = await campaign(c, 'forced', { owner: 'b', ttlMs: 60_000, sessionId: session.id });
  await c.endSession(session.id);
  await until("b's signal after its session ended", () => (b.signal.aborted ? true : undefined), 2000);
  assert.match(String((b.signal.reason as Error).message), /ended: its session ended/);
});

test('graceMs: the signal aborts that long before the holder deadline; more than a third of the TTL is refused', async (t) => {
  const c = await open(t);
  await assert.rejects(campaign(c, 'g', { owner: 'a', ttlMs: 900, graceMs: 301 }), (e: Error & { code?: string }) => e.code === 'INVALID_ARGUMENT' && /graceMs/.test(e.message));
  // Renewals that never get through: the deadline alone ends it, graceMs early (900 - 90 - 300 = 510 ms after the last renewal asked).
  const a = await campaign(c, 'g', { owner: 'a', ttlMs: 900, graceMs: 300 });
  const started = performance.now();
  const renew = c.renew.bind(c);
  c.renew = () => new Promise(() => {}); // a daemon that stopped answering
  t.after(() => (c.renew = renew));
  await until("a's signal", () => (a.signal.aborted ? true : undefined), 3000);
  const took = performance.now() - started;
  assert.ok(took < 900 - 90 - 150, `ended ${Math.round(took)} ms after it was elected, before the lease could lapse`);
  assert.match(String((a.signal.reason as Error).message), /less 300 ms to stop/);
});

test('baton elect: a command that ignores SIGTERM is killed (SIGKILL) a grace after its leadership ends', { timeout: 60_000 }, async (t) => {
  const db = join(tempDir(t), 'elect.db');
  // It says it leads, then ignores SIGTERM and would run forever.
  const script = "process.on('SIGTERM', () => console.log('ignoring SIGTERM')); console.log('leading ' + process.env.BATON_ELECTION_TERM + ' ' + process.pid); setInterval(() => {}, 1000);";
  const elect = startNode(cli, ['elect', 'stubborn', '--ttl', '30', '--db', db, '--', process.execPath, '-e', script]);
  t.after(() => elect.child.kill('SIGKILL'));
  const [, term, pid] = (await elect.line('leading ', 30_000)).split(' ');
  const token = Number(term);
  // Should this test fail, the command it started must not outlive it.
  t.after(() => {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // gone, as it should be
    }
  });
  const c = await openCoordinator({ url: `sqlite:${db}` });
  t.after(() => c.close());
  await c.forceRelease('election:stubborn', { token, reason: 'test' });
  const done = await elect.done;
  assert.equal(done.code, 1, `baton elect exits 1 when its leadership is lost; stderr: ${done.stderr}`);
  assert.ok(elect.lines().includes('ignoring SIGTERM'), 'the command was sent SIGTERM first');
  assert.match(done.stderr, /its lease was force-released; stopping .* \(SIGTERM, SIGKILL in 5000 ms\)/);
});
