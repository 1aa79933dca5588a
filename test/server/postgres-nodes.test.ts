// Daemons as nodes over one PostgreSQL: a release on one daemon wakes a
// waiter on another (LISTEN/NOTIFY, and polling while the listener is cut),
// a daemon killed outright gives its clients' leases back after its node TTL,
// every daemon's event stream carries every node's events, and two daemons
// starting at once on an empty database migrate it once.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { BatonEvent } from '../../src/index.ts';
import { migrations } from '../../src/stores/postgres/schema.ts';
import { startDaemon, type RunningDaemon } from '../../support/daemon.ts';
import { adminQuery, queryAt, postgresPerFile } from '../../support/postgres.ts';
import { baton, startNode, worker } from '../helpers/procs.ts';

const daemons: RunningDaemon[] = [];
// Registered first, so it runs first: the daemons go before their database does.
after(async () => {
  for (const d of daemons) await d.kill().catch(() => undefined);
});
const postgres = postgresPerFile('baton-pg-nodes-');
const dir = postgres.dir;

let n = 0;
async function daemon(url: string, ...args: string[]): Promise<RunningDaemon> {
  const d = await startDaemon(join(dir, `state-${n++}`), { cwd: dir, args: ['--store', url, ...args] });
  daemons.push(d);
  return d;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Release on `from`, grant to a waiter on `to`: the time from the release's answer to the grant. */
async function handoffs(from: RunningDaemon, to: RunningDaemon, key: string, times: number): Promise<number[]> {
  const a = from.client();
  const b = to.client();
  const gaps: number[] = [];
  for (let i = 0; i < times; i++) {
    const held = await a.acquire(key, { owner: 'a' });
    const waiting = b.acquire(key, { owner: 'b', timeoutMs: 20_000 }).then((lease) => ({ lease, at: performance.now() }));
    await sleep(150); // the waiter is in line and asleep
    await a.release(held);
    const released = performance.now();
    const { lease, at } = await waiting;
    assert.ok(lease.token > held.token, 'tokens go forward across nodes');
    gaps.push(at - released);
    await b.release(lease);
  }
  return gaps;
}

test('a release on one daemon wakes a waiter on another at once, and still does while its listener is cut', async (t) => {
  const url = await postgres.databases.fresh();
  const a = await daemon(url);
  const b = await daemon(url);
  const notified = await handoffs(a, b, 'k', 5);
  t.diagnostic(`cross-node handoffs (ms): ${notified.map(Math.round).join(', ')}`);
  // The waiter's own backstop look is every 2 s: a median far below it is a NOTIFY.
  assert.ok(median(notified) < 500, `cross-node handoffs took ${notified.map(Math.round).join(', ')} ms`);

  // Cut every listener: the daemons poll until they have listened again, and catch up.
  const cut = await adminQuery(postgres.server, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'baton-listener' AND datname = $1`, [new URL(url).pathname.slice(1)]);
  assert.equal(cut.rowCount, 2, 'one listener per daemon');
  const afterCut = await handoffs(a, b, 'k', 3);
  t.diagnostic(`with the listeners cut (ms): ${afterCut.map(Math.round).join(', ')}`);
  assert.ok(Math.max(...afterCut) < 3_000, `handoffs after the cut took ${afterCut.map(Math.round).join(', ')} ms`);
  await sleep(3_000);
  const back = await adminQuery(postgres.server, `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'baton-listener' AND datname = $1`, [new URL(url).pathname.slice(1)]);
  assert.equal(back.rows[0].n, 2, 'both listeners reconnected');
  const again = await handoffs(a, b, 'k', 3);
  assert.ok(median(again) < 500, `handoffs after the reconnect took ${again.map(Math.round).join(', ')} ms`);
});

test("a daemon killed outright: its clients' leases come back after its node TTL plus a sweep", async (t) => {
  const url = await postgres.databases.fresh();
  const a = await daemon(url, '--node-ttl', '1');
  const b = await daemon(url, '--node-ttl', '1');
  const onA = a.client();
  const session = await onA.register({ name: 'agent on a' });
  const held = await onA.acquire('repo', { owner: 'agent on a', sessionId: session.id, ttlMs: 0 });
  const onB = b.client();
  const waiting = onB.acquire('repo', { owner: 'agent on b', timeoutMs: 30_000 });
  await sleep(200);
  const killed = performance.now();
  await a.kill();
  const lease = await waiting;
  const took = performance.now() - killed;
  t.diagnostic(`the lease came back ${Math.round(took)} ms after the kill (node TTL 1000 ms)`);
  assert.ok(lease.token > held.token);
  // Node TTL 1 s, a sweep every 0.5 s, a heartbeat every third of the TTL: well within 5 s.
  assert.ok(took < 5_000, `the lease came back ${Math.round(took)} ms after the kill`);
  const ended = (await onB.listSessions({ includeEnded: true })).find((s) => s.id === session.id)!;
  assert.match(ended.endReason ?? '', /node lapsed/);
});

test("every daemon's event stream carries every node's events", async () => {
  const url = await postgres.databases.fresh();
  const a = await daemon(url);
  const b = await daemon(url);
  const seen: BatonEvent[] = [];
  const subscription = b.client().subscribe((e) => seen.push(e), { types: ['build.'] });
  await sleep(300);
  const publisher = a.client();
  for (let i = 0; i < 5; i++) await publisher.publish({ type: 'build.finished', data: { i } });
  const until = performance.now() + 5_000;
  while (seen.length < 5 && performance.now() < until) await sleep(20);
  subscription.close();
  assert.deepEqual(seen.map((e) => e.data.i), [0, 1, 2, 3, 4]);
  assert.deepEqual(seen.map((e) => e.seq), [...seen.map((e) => e.seq)].sort((x, y) => x - y));
});

test('two daemons starting at once on an empty database migrate it once; both serve', async () => {
  const url = await postgres.databases.empty();
  const [a, b] = await Promise.all([daemon(url), daemon(url)]);
  await a.client().addTasks([{ title: 'one' }]);
  assert.equal((await b.client().listTasks()).length, 1);
  const { rows } = await queryAt(url, 'SELECT version FROM baton.schema_migrations ORDER BY version');
  assert.deepEqual(rows.map((r) => r.version), migrations.map((_, i) => i + 1), 'each migration applied once');
});

test('baton status says which store the daemon is on, and its node', async () => {
  const url = await postgres.databases.fresh();
  const stateDir = join(dir, `state-${n++}`);
  const d = await startDaemon(stateDir, { cwd: dir, args: ['--store', url, '--node-ttl', '3'] });
  daemons.push(d);
  const withDaemon = { cwd: dir, env: { ...process.env, BATON_NO_DAEMON: '' } };
  const shown = await baton(['status', '--state-dir', stateDir], withDaemon);
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, new RegExp(`store postgres postgres@127\\.0\\.0\\.1:${postgres.server.port}/${new URL(url).pathname.slice(1)}, node [0-9a-f-]{36} \\(sessions end 3(\\.0)? ?s after it stops\\)`));
  assert.ok(!shown.stdout.includes('bench'), 'no password');
  const json = JSON.parse((await baton(['status', '--state-dir', stateDir, '--json'], withDaemon)).stdout);
  assert.equal(json.daemon.store.kind, 'postgres');
  assert.equal(json.daemon.node.ttlMs, 3000);
});

test('kill -9 of a client frees its lease and claim within 1 s, for a waiter on another daemon', async (t) => {
  const url = await postgres.databases.fresh();
  const a = await daemon(url);
  const b = await daemon(url);
  const onA = a.client();
  const task = (await onA.addTasks([{ title: 'held by the doomed client' }]))[0]!;
  const holder = startNode(worker('remote-holder'), [b.record.socket!, 'path:src/**']);
  t.after(() => holder.child.kill('SIGKILL'));
  const held = JSON.parse((await holder.line('held ')).slice(5)) as { sessionId: string; taskId: number };
  assert.equal(held.taskId, task.id);
  const killedAt = performance.now();
  holder.child.kill('SIGKILL');
  const lease = await onA.acquire('path:src/a.ts', { owner: 'next', timeoutMs: 5_000 });
  const freedMs = performance.now() - killedAt;
  t.diagnostic(`freed on the other daemon ${Math.round(freedMs)} ms after the kill`);
  assert.ok(freedMs < 1000, `the lease was free after ${freedMs.toFixed(0)} ms`);
  await onA.release(lease);
  // Whichever saw it first: the daemon the stream dropped on, or a sweep that found the process gone (same host).
  assert.match((await onA.getSession(held.sessionId)).endReason ?? '', /^(disconnected|process exited)$/);
  assert.equal((await onA.getTask(task.id)).status, 'ready');
});
