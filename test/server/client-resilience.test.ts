// A client that fails fast and isolates load, against a real daemon process:
// the circuit breaker (a daemon stopped with SIGSTOP, one stopped and
// restarted), the bulkhead (heartbeats through a client full of blocked
// acquires), and which failed requests are retried (a server that resets
// connections).
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import { RemoteCoordinator, isBatonError, type DaemonWait } from '../../src/client/index.ts';
import { HttpTransport } from '../../src/client/transport.ts';
import { startDaemon } from '../../support/daemon.ts';
import { tempDir } from '../helpers/procs.ts';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** How long a call took to fail, and its error. */
async function failure(call: () => Promise<unknown>): Promise<{ ms: number; error: Error & { code?: string; details?: Record<string, unknown> } }> {
  const started = performance.now();
  try {
    await call();
  } catch (error) {
    return { ms: performance.now() - started, error: error as Error };
  }
  assert.fail('the call succeeded');
}

const round = (ms: number): number => Math.round(ms);

test('breaker: with the daemon stopped (SIGSTOP) it opens after the threshold, calls then fail in well under the request timeout, and it closes after SIGCONT', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const daemon = await startDaemon(join(dir, 'state'), { cwd: dir });
  t.after(async () => {
    daemon.child.kill('SIGCONT'); // never leave a stopped daemon behind, whatever failed
    await daemon.stop();
  });
  const timeoutMs = 1500;
  // The default retry budget (10 s) stays: a breaker opened by unanswered requests fails at once all the same.
  const c = daemon.client({ requestTimeoutMs: timeoutMs, breaker: { failureThreshold: 3, coolDownMs: 2000, probeTimeoutMs: 300 } });
  const unguarded = daemon.client({ requestTimeoutMs: timeoutMs, breaker: false });
  await c.getLease('warm');
  await unguarded.getLease('warm');
  daemon.child.kill('SIGSTOP');
  try {
    // The threshold: three requests the stopped daemon accepted and never answered.
    const first = await Promise.all([1, 2, 3].map((i) => failure(() => c.getLease(`k${i}`))));
    for (const f of first) assert.match(f.error.message, new RegExp(`no answer from the daemon within ${timeoutMs} ms`));

    // Open: each call fails at once, naming the daemon and when it will be tried again.
    const open: number[] = [];
    for (let i = 0; i < 10; i++) {
      const f = await failure(() => c.getLease('k'));
      assert.equal(f.error.code, 'UNAVAILABLE');
      assert.match(f.error.message, /the baton daemon at baton\+unix:\/\/\S+ failed 3 requests in a row \(last: no answer from the daemon within 1500 ms\); failing at once until it answers: it will be tried again in \d/);
      assert.ok((f.error.details!.retryAt as number) > Date.now() - 50, 'retryAt is the time of the next probe');
      open.push(f.ms);
    }
    const worst = Math.max(...open);
    // Without a breaker, the same call waits out the whole timeout every time.
    const plain = await failure(() => unguarded.getLease('k'));
    console.log(`SIGSTOP: the threshold's calls failed after ${first.map((f) => round(f.ms)).join(', ')} ms; then ${open.length} calls with the breaker open failed after at most ${worst.toFixed(1)} ms (median ${open.sort((a, b) => a - b)[5]!.toFixed(1)} ms); without a breaker one took ${round(plain.ms)} ms`);
    assert.ok(worst < timeoutMs / 5, `calls with the breaker open took up to ${worst} ms, not well under the ${timeoutMs} ms timeout`);
    assert.ok(plain.ms >= timeoutMs - 10, `without a breaker the call failed after ${plain.ms} ms`);

    // After the cool-down one probe goes; unanswered, it opens the breaker again, in its own short deadline.
    await sleep(2100);
    const probed = await failure(() => c.getLease('k'));
    assert.match(probed.error.message, /last: no answer to a probe within 300 ms/);
    console.log(`SIGSTOP: the call that ran the probe failed after ${round(probed.ms)} ms (probe deadline 300 ms)`);
    assert.ok(probed.ms < timeoutMs, `the probing call took ${probed.ms} ms`);
  } finally {
    daemon.child.kill('SIGCONT');
  }

  // Continued: calls fail at once until the next probe, which the daemon answers; then they go through again.
  const resumed = performance.now();
  let failedMeanwhile = 0;
  for (;;) {
    try {
      assert.deepEqual((await c.getLease('k')).holders, []);
      break;
    } catch (error) {
      assert.ok(isBatonError(error, 'UNAVAILABLE'), String(error));
      failedMeanwhile++;
      assert.ok(performance.now() - resumed < 15_000, 'the client recovered after SIGCONT');
      await sleep(100);
    }
  }
  console.log(`SIGCONT: the first call succeeded ${round(performance.now() - resumed)} ms later (cool-down 2000 ms), after ${failedMeanwhile} calls that failed at once`);
  assert.ok(failedMeanwhile >= 1, 'the breaker stayed open until its probe');
  await c.getLease('k'); // and stays closed
});

test('breaker: a daemon that is down (its socket refused) makes a call with a retry budget wait for the next probe, not hammer it; without a budget it fails at once', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const stateDir = join(dir, 'state');
  let daemon = await startDaemon(stateDir, { cwd: dir });
  t.after(() => daemon.stop());
  const socketPath = daemon.record.socket!;
  const waits: string[] = [];
  const onDaemonWait = (w: DaemonWait | undefined): void => void (w !== undefined && waits.push(w.reason));
  const c = new RemoteCoordinator({ socketPath, retryForMs: 20_000, breaker: { failureThreshold: 3, coolDownMs: 500 }, onDaemonWait });
  const quick = new RemoteCoordinator({ socketPath, retryForMs: 0, breaker: { failureThreshold: 1, coolDownMs: 60_000 } });
  t.after(() => Promise.all([c.close(), quick.close()]));
  await c.getLease('warm');
  await daemon.stop();

  // No retry budget: the first refusal opens this client's breaker, and the next call fails without trying.
  const refused = await failure(() => quick.getLease('k'));
  assert.match(refused.error.message, /cannot reach the baton daemon/);
  const fast = await failure(() => quick.getLease('k'));
  assert.match(fast.error.message, /failed 1 request in a row .*it will be tried again in/);

  // With a budget: the call rides through the restart, waiting for the breaker's probes in between.
  const started = performance.now();
  const call = c.addTask({ title: 'through the restart' }, { idempotencyKey: 'restart-1' });
  await sleep(1500);
  daemon = await startDaemon(stateDir, { cwd: dir });
  assert.equal(daemon.record.socket, socketPath);
  const task = await call;
  assert.equal(task.title, 'through the restart');
  const probes = waits.filter((r) => /trying again in/.test(r)).length;
  console.log(`down: the call succeeded after ${round(performance.now() - started)} ms; ${waits.length} waits reported, ${probes} of them for the breaker's next probe`);
  assert.ok(probes >= 1, `the call waited for the breaker: ${JSON.stringify(waits)}`);
  // Plain backoff alone would have retried every 10..1000 ms; the breaker spaced the tries a cool-down apart.
  assert.ok(waits.length - probes <= 3 * 2, `tries before the breaker opened: ${JSON.stringify(waits)}`);
});

test('bulkhead: with the client full of blocked acquires a heartbeat still goes through and the session lives; with no liveness lane it lapses', { timeout: 90_000 }, async (t) => {
  const dir = tempDir(t);
  const daemon = await startDaemon(join(dir, 'state'), { cwd: dir });
  t.after(() => daemon.stop());
  const other = daemon.client();
  await other.acquire('held', { owner: 'holder', ttlMs: 600_000 });
  const ttlMs = 1200;

  /** A client whose 4 general places are held by acquires waiting on `held`, with 6 more in line. */
  async function flooded(lane: number, maxQueued: number): Promise<{ c: RemoteCoordinator; sessionId: string; flood: Promise<unknown[]> }> {
    const c = daemon.client({ requestTimeoutMs: 1000, bulkhead: { maxInFlight: 4, livenessInFlight: lane, maxQueued } });
    const session = await c.register({ name: `agent-lane-${lane}`, ttlMs });
    const flood = Promise.all(Array.from({ length: 10 }, (_, i) => c.acquire('held', { owner: `waiter-${i}`, timeoutMs: 60_000 }).catch((error: unknown) => error)));
    while ((await other.getLease('held')).waiters.filter((w) => w.owner.startsWith('waiter-')).length < 4) await sleep(20);
    return { c, sessionId: session.id, flood };
  }

  // The line is bounded: one call more than maxQueued fails at once.
  const withLane = await flooded(4, 6);
  const full = await failure(() => withLane.c.getLease('anything'));
  assert.equal(full.error.code, 'OVERLOADED');
  assert.match(full.error.message, /this client has 4 requests in flight to the baton daemon at \S+, its limit \(bulkhead\.maxInFlight\), and the call found 6 more waiting \(bulkhead\.maxQueued\)/);
  const beats: number[] = [];
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    await withLane.c.heartbeat(withLane.sessionId);
    beats.push(performance.now() - started);
    await sleep(ttlMs / 2);
  }
  // Three TTLs under the flood, the client's own heartbeats included: the session lives.
  const lives = await other.getSession(withLane.sessionId);
  assert.equal(lives.endedAt, null, `the session ended: ${lives.endReason}`);
  assert.equal((await other.getLease('held')).waiters.filter((w) => w.owner.startsWith('waiter-')).length, 4, 'the flood still holds its places');
  console.log(`bulkhead: 4 acquires in flight and 6 in line; heartbeats through the liveness lane took ${beats.map((ms) => ms.toFixed(1)).join(', ')} ms; the session lived ${Math.round((5 * ttlMs) / 2)} ms (TTL ${ttlMs} ms)`);
  await withLane.c.close();
  await withLane.flood;

  // No lane: heartbeats wait in line behind the acquires, give up at their deadline, and the session lapses.
  const noLane = await flooded(0, 100);
  const starved = await failure(() => noLane.c.heartbeat(noLane.sessionId));
  assert.equal(starved.error.code, 'OVERLOADED');
  assert.match(starved.error.message, /the call waited 1000 ms \(its deadline\) for one to finish/);
  let session = await other.getSession(noLane.sessionId);
  const since = performance.now();
  while (session.endedAt === null && performance.now() - since < 20_000) {
    await sleep(100);
    session = await other.getSession(noLane.sessionId);
  }
  console.log(`bulkhead without a liveness lane: a heartbeat failed after ${round(starved.ms)} ms in line; the session ended: ${session.endReason}`);
  assert.equal(session.endReason, 'heartbeat lapsed');
  await noLane.c.close();
  await noLane.flood;
});

test('retries: a reset connection is retried for a read or a keyed mutation, never for a request without a key', async (t) => {
  const socketPath = join(tempDir(t), 'reset.sock');
  const seen = new Map<string, number>();
  // Resets the first request of each path (the daemon died with it in hand), answers the next.
  const server = createServer((req, res) => {
    const n = (seen.get(req.url!) ?? 0) + 1;
    seen.set(req.url!, n);
    if (n === 1) req.socket.destroy();
    else res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  t.after(() => server.close());
  const transport = new HttpTransport({ socketPath });
  t.after(() => transport.close());
  const ask = { method: 'POST' as const, body: {}, timeoutMs: 2000, retryForMs: 5000 };

  const once = await failure(() => transport.request('/v1/once', ask));
  assert.equal(once.error.code, 'UNAVAILABLE');
  assert.match(once.error.message, /cannot reach the baton daemon at baton\+unix:\/\/.*socket hang up/);
  assert.equal(seen.get('/v1/once'), 1, 'a request without an idempotency key is sent once: the first may have acted');

  assert.deepEqual(await transport.request('/v1/keyed', { ...ask, headers: { 'idempotency-key': 'k-1' } }), { ok: true });
  assert.equal(seen.get('/v1/keyed'), 2, 'a keyed mutation is sent again: its key makes it act once');
  assert.deepEqual(await transport.request('/v1/read', { ...ask, idempotent: true }), { ok: true });
  assert.equal(seen.get('/v1/read'), 2);
  assert.deepEqual(await transport.request('/v1/get', { method: 'GET', timeoutMs: 2000, retryForMs: 5000 }), { ok: true });
  assert.equal(seen.get('/v1/get'), 2, 'a GET is a read');
  assert.equal(transport.breakerState, 'closed', 'each answer closed the count again');
});

test('options: bad breaker and bulkhead settings are refused, naming the option and the value', () => {
  const bad: Array<[ConstructorParameters<typeof RemoteCoordinator>[0], RegExp]> = [
    [{ socketPath: '/nowhere', breaker: { failureThreshold: 0 } }, /breaker\.failureThreshold must be an integer of at least 1, not 0/],
    [{ socketPath: '/nowhere', breaker: { coolDownMs: 1.5 } }, /breaker\.coolDownMs must be an integer/],
    [{ socketPath: '/nowhere', bulkhead: { maxInFlight: -1 } }, /bulkhead\.maxInFlight must be an integer of at least 1, not -1/],
    [{ socketPath: '/nowhere', bulkhead: { livenessInFlight: -1 } }, /bulkhead\.livenessInFlight must be an integer of at least 0/],
  ];
  for (const [options, message] of bad) assert.throws(() => new RemoteCoordinator(options), (error: Error & { code?: string }) => error.code === 'INVALID_ARGUMENT' && message.test(error.message));
});
