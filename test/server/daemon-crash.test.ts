// Crashes around the daemon: a client killed with -9 loses its leases and
// claims within a second; the daemon killed with -9 under load loses no
// acknowledged operation, and retries under the same idempotency keys act
// once; SIGTERM stops it cleanly and a restart finds everything.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { test } from 'node:test';
import { RemoteCoordinator } from '../../src/client/index.ts';
import { startDaemon } from '../../support/daemon.ts';
import { baton, sleep, startNode, tempDir, worker } from '../helpers/procs.ts';

test('kill -9 of a client: its session ends, its leases are free and its claims requeued within 1 s', async (t) => {
  const dir = tempDir(t);
  const daemon = await startDaemon(join(dir, 'state'), { cwd: dir });
  t.after(() => daemon.stop());
  const c = daemon.client();
  const task = await c.addTask({ title: 'work' });
  const holder = startNode(worker('remote-holder'), [daemon.record.socket!, 'path:src/**']);
  t.after(() => holder.child.kill('SIGKILL'));
  const held = JSON.parse((await holder.line('held ')).slice(5)) as { sessionId: string; taskId: number };
  assert.equal(held.taskId, task.id);
  assert.equal((await c.getLease('path:src/**')).holders.length, 1);

  const seen = c.subscribe(() => undefined); // a live stream must not hold anything up
  t.after(() => seen.close());
  const killedAt = performance.now();
  holder.child.kill('SIGKILL');
  // A waiter in the daemon gets the lease as soon as the session ends: no polling on our side either.
  const lease = await c.acquire('path:src/a.ts', { owner: 'next', timeoutMs: 5_000 });
  const freedMs = performance.now() - killedAt;
  assert.ok(freedMs < 1000, `the lease was free after ${freedMs.toFixed(0)} ms`);
  await c.release(lease);
  const session = await c.getSession(held.sessionId);
  assert.equal(session.endReason, 'disconnected');
  const after = await c.getTask(task.id);
  assert.equal(after.status, 'ready');
  assert.equal(after.attempts, 1, 'the lost claim counts as an attempt');
  const types = (await c.events({ after: 0 })).map((e) => e.type);
  assert.ok(types.includes('agent.ended'), 'an agent.ended event says so');
});

test('TCP clients: kill -9 frees their leases within 1 s; one that stops heartbeating (SIGSTOP) loses them after its TTL', async (t) => {
  const dir = tempDir(t);
  const stateDir = join(dir, 'state');
  const daemon = await startDaemon(stateDir, { cwd: dir, args: ['--listen', '127.0.0.1:0', '--no-socket'] });
  t.after(() => daemon.stop());
  const [host, port] = daemon.record.listen!.split(':') as [string, string];
  const created = await baton(['auth', 'token', 'create', 'holders', '--json', '--state-dir', stateDir]);
  const endpoint = { host, port: Number(port), token: (JSON.parse(created.stdout) as { token: string }).token };
  const c = new RemoteCoordinator(endpoint);
  t.after(() => c.close());

  const killed = startNode(worker('remote-holder'), [JSON.stringify(endpoint), 'path:a/**']);
  t.after(() => killed.child.kill('SIGKILL'));
  await killed.line('held ');
  const killedAt = performance.now();
  killed.child.kill('SIGKILL');
  await c.release(await c.acquire('path:a/x', { owner: 'next', timeoutMs: 5_000 }));
  const freedMs = performance.now() - killedAt;
  assert.ok(freedMs < 1000, `the lease was free after ${freedMs.toFixed(0)} ms`);

  // Stopped, not dead: its connection stays open, but its heartbeats stop and the session's TTL runs out.
  const stopped = startNode(worker('remote-holder'), [JSON.stringify(endpoint), 'path:b/**', '3000']);
  t.after(() => {
    stopped.child.kill('SIGCONT');
    stopped.child.kill('SIGKILL');
  });
  const held = JSON.parse((await stopped.line('held ')).slice(5)) as { sessionId: string };
  const stoppedAt = performance.now();
  stopped.child.kill('SIGSTOP');
  await c.release(await c.acquire('path:b/x', { owner: 'next', timeoutMs: 10_000 }));
  const lapsedMs = performance.now() - stoppedAt;
  assert.ok(lapsedMs >= 1500, `the lease outlived its holder's stop only ${lapsedMs.toFixed(0)} ms: the TTL applies, not the connection`);
  assert.equal((await c.getSession(held.sessionId)).endReason, 'heartbeat lapsed');
});

test('kill -9 of the daemon under load: no acknowledged write is lost; idempotent retries act once', async (t) => {
  const dir = tempDir(t);
  const stateDir = join(dir, 'state');
  let daemon = await startDaemon(stateDir, { cwd: dir });
  t.after(() => daemon.stop());
  const socketPath = daemon.record.socket!;
  const keys = Array.from({ length: 600 }, () => randomUUID());
  const acked = new Map<string, number>();
  const clients = Array.from({ length: 4 }, () => new RemoteCoordinator({ socketPath, retryForMs: 15_000 }));
  t.after(() => Promise.all(clients.map((c) => c.close())));
  let next = 0;
  const load = Promise.all(
    clients.map(async (c) => {
      while (next < keys.length) {
        const key = keys[next++]!;
        const task = await c.addTask({ title: key }, { idempotencyKey: key });
        acked.set(key, task.id);
      }
    }),
  );
  while (acked.size < 150) await sleep(2);
  await daemon.kill();
  const ackedBeforeCrash = new Map(acked);
  await sleep(200);
  daemon = await startDaemon(stateDir, { cwd: dir });
  await load; // the clients retried through the restart
  const c = daemon.client();
  const tasks = await c.listTasks({ limit: 100_000 });
  const byTitle = new Map(tasks.map((task) => [task.title, task.id]));
  for (const [key, id] of ackedBeforeCrash) assert.equal(byTitle.get(key), id, `acknowledged task ${key} survived the crash`);
  for (const [key, id] of acked) assert.equal(byTitle.get(key), id);
  assert.equal(tasks.length, keys.length, 'each key made exactly one task, retries included');
  // Retrying every request again under its key acts once more: not at all.
  for (const key of keys.slice(0, 100)) assert.equal((await c.addTask({ title: key }, { idempotencyKey: key })).id, acked.get(key));
  assert.equal((await c.listTasks({ limit: 100_000 })).length, keys.length);
});

test('SIGTERM drains and stops cleanly; after a restart every lease, task, budget and idempotency record is there', async (t) => {
  const dir = tempDir(t);
  const stateDir = join(dir, 'state');
  const first = await startDaemon(stateDir, { cwd: dir });
  const c = first.client();
  const lease = await c.acquire('repo', { owner: 'me', ttlMs: 600_000 });
  const task = await c.addTask({ title: 't' }, { idempotencyKey: 'task-key' });
  await c.setBudget({ limit: 1000 });
  await c.report({ agent: 'a', model: 'm', promptTokens: 10, completionTokens: 5 });
  // Writes in flight when SIGTERM comes are committed before the daemon exits.
  const inFlight = Promise.allSettled(Array.from({ length: 50 }, (_, i) => c.publish({ type: 'late.write', data: { i } })));
  await sleep(1);
  assert.equal(await first.stop(), 0, `exit code 0; stderr: ${first.stderr()}`);
  const settled = await inFlight;
  const delivered = settled.filter((s) => s.status === 'fulfilled').length;

  const second = await startDaemon(stateDir, { cwd: dir });
  t.after(() => second.stop());
  const d = second.client();
  assert.equal((await d.checkLease(lease)).owner, 'me');
  assert.equal((await d.addTask({ title: 't' }, { idempotencyKey: 'task-key' })).id, task.id, 'the idempotency record survived');
  assert.equal((await d.budgetStatus())[0]!.used, 15);
  assert.ok((await d.events({ types: ['late.'] })).length >= delivered, 'every acknowledged late write is there');
});
