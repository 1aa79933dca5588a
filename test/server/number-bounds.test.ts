// Numbers a client may send are bounded (src/limits.ts) so that what the store
// computes from them stays a safe integer it can read back. Before the bounds,
// one acquire with ttlMs 2^53-1 made /v1/status and listLeases answer 500 for
// every client until that lease went, two huge reports broke usage for good,
// and a claim with a huge leaseMs answered 500.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { MAX_BURST, MAX_PID, MAX_RATE, MAX_TIME_MS, MAX_TOKEN_TOTAL, MAX_TOKENS, MAX_TTL_MS, MAX_WAIT_MS, MIN_RATE } from '../../src/limits.ts';
import { startDaemon, type RunningDaemon } from '../../support/daemon.ts';
import { errorOf, post, send, type Answer } from '../helpers/socket-http.ts';
import { tempDir } from '../helpers/procs.ts';

const huge = Number.MAX_SAFE_INTEGER;

function refused(answer: Answer, field: string, bound: number): void {
  const where = `${answer.status} ${answer.body}`;
  assert.equal(answer.status, 400, where);
  assert.equal(errorOf(answer)?.code, 'INVALID_ARGUMENT', where);
  assert.ok(errorOf(answer)!.message.includes(field), `names ${field}: ${where}`);
  assert.ok(errorOf(answer)!.message.includes(String(bound)), `names the bound ${bound}: ${where}`);
}

async function daemonIn(t: import('node:test').TestContext): Promise<RunningDaemon> {
  const dir = tempDir(t);
  const daemon = await startDaemon(join(dir, 'state'), { cwd: dir });
  t.after(() => daemon.stop());
  return daemon;
}

test('a huge ttlMs, token count or leaseMs is refused, and status, leases and usage still answer', async (t) => {
  const daemon = await daemonIn(t);
  const socket = daemon.record.socket!;

  refused(await post(socket, 'acquire', { key: 'repo', owner: 'a', ttlMs: huge }), 'body.ttlMs', MAX_TTL_MS);
  refused(await post(socket, 'report', { agent: 'a', model: 'm', promptTokens: huge, completionTokens: 0 }), 'body.promptTokens', MAX_TOKENS);
  refused(await post(socket, 'report', { agent: 'a', model: 'm', promptTokens: 0, completionTokens: huge }), 'body.completionTokens', MAX_TOKENS);
  const session = (await post(socket, 'register', { name: 'w' })).json as { id: string };
  assert.equal((await post(socket, 'addTask', { spec: { title: 't' } })).status, 200);
  refused(await post(socket, 'claim', { sessionId: session.id, leaseMs: huge }), 'body.leaseMs', MAX_TTL_MS);

  const status = await send(socket, 'GET', '/v1/status');
  assert.equal(status.status, 200, status.body);
  const leases = await post(socket, 'listLeases', {});
  assert.equal(leases.status, 200, leases.body);
  assert.deepEqual(leases.json, []);
  const usage = await post(socket, 'usage', {});
  assert.equal(usage.status, 200, usage.body);
  assert.deepEqual(usage.json, { byAgent: [], byModel: [] });
  const tasks = (await post(socket, 'listTasks', {})).json as Array<{ status: string }>;
  assert.deepEqual(tasks.map((task) => task.status), ['ready'], 'the refused claim took nothing');
});

test('every number a client sends has a bound: one past it is a 400 naming the field and the bound, the bound itself passes the check', async (t) => {
  const daemon = await daemonIn(t);
  const socket = daemon.record.socket!;
  const lease = { key: 'k', token: 1 };
  const claim = { taskId: 1, token: 1 };
  // [operation, body with the value, field as the message names it, bound, past the bound]
  const cases: Array<[string, (v: number) => unknown, string, number, number]> = [
    ['acquire', (v) => ({ key: 'held for a year', owner: 'a', ttlMs: v }), 'body.ttlMs', MAX_TTL_MS, MAX_TTL_MS + 1],
    ['acquire', (v) => ({ key: 'free', owner: 'a', timeoutMs: v }), 'body.timeoutMs', MAX_WAIT_MS, MAX_WAIT_MS + 1],
    ['renew', (v) => ({ lease, ttlMs: v }), 'body.ttlMs', MAX_TTL_MS, MAX_TTL_MS + 1],
    ['register', (v) => ({ name: 'w', pid: v }), 'body.pid', MAX_PID, MAX_PID + 1],
    ['register', (v) => ({ name: 'w', ttlMs: v }), 'body.ttlMs', MAX_TTL_MS, MAX_TTL_MS + 1],
    ['addTask', (v) => ({ spec: { title: 't', runAt: v } }), 'body.spec.runAt', MAX_TIME_MS, MAX_TIME_MS + 1],
    ['updateTask', (v) => ({ id: 1, version: 1, patch: { runAt: v } }), 'body.patch.runAt', MAX_TIME_MS, MAX_TIME_MS + 1],
    ['claim', (v) => ({ sessionId: 's', leaseMs: v }), 'body.leaseMs', MAX_TTL_MS, MAX_TTL_MS + 1],
    ['claimByIds', (v) => ({ sessionId: 's', ids: [1], leaseMs: v }), 'body.leaseMs', MAX_TTL_MS, MAX_TTL_MS + 1],
    ['renewClaim', (v) => ({ claim, leaseMs: v }), 'body.leaseMs', MAX_TTL_MS, MAX_TTL_MS + 1],
    ['fail', (v) => ({ claim, error: 'e', retryInMs: v }), 'body.retryInMs', MAX_TTL_MS, MAX_TTL_MS + 1],
    ['setBudget', (v) => ({ limit: v }), 'body.limit', MAX_TOKEN_TOTAL, MAX_TOKEN_TOTAL + 1],
    ['report', (v) => ({ agent: 'a', model: 'm', promptTokens: v, completionTokens: 0 }), 'body.promptTokens', MAX_TOKENS, MAX_TOKENS + 1],
    ['reserve', (v) => ({ agent: 'a', estimate: v }), 'body.estimate', MAX_TOKENS, MAX_TOKENS + 1],
    ['reserve', (v) => ({ agent: 'a', estimate: 1, ttlMs: v }), 'body.ttlMs', MAX_TTL_MS, MAX_TTL_MS + 1],
    ['commitReservation', (v) => ({ reservationId: 'r', actual: { promptTokens: 0, completionTokens: v } }), 'body.actual.completionTokens', MAX_TOKENS, MAX_TOKENS + 1],
    ['usage', (v) => ({ since: v }), 'body.since', MAX_TIME_MS, MAX_TIME_MS + 1],
    ['setRateLimit', (v) => ({ key: 'r', rate: v, burst: 1 }), 'body.rate', MAX_RATE, MAX_RATE * 2],
    ['setRateLimit', (v) => ({ key: 'r', rate: v, burst: 1 }), 'body.rate', MIN_RATE, MIN_RATE / 2],
    ['setRateLimit', (v) => ({ key: 'r', rate: 1, burst: v }), 'body.burst', MAX_BURST, MAX_BURST * 2],
    ['take', (v) => ({ key: 'r', cost: v }), 'body.cost', MAX_BURST, MAX_BURST * 2],
    ['take', (v) => ({ key: 'no such limit', wait: true, timeoutMs: v }), 'body.timeoutMs', MAX_WAIT_MS, MAX_WAIT_MS + 1],
  ];
  for (const [operation, body, field, bound, past] of cases) {
    refused(await post(socket, operation, body(past)), field, bound);
    // At the bound the body is well-formed; what follows (a missing session, task or lease) is another answer.
    const at = await post(socket, operation, body(bound));
    assert.ok(!(at.status === 400 && errorOf(at)?.message.includes(field)), `${operation} takes ${field} = ${bound}: ${at.status} ${at.body}`);
  }
});

test('usage and reservations are refused past what the store can add up, and its totals stay exact', async (t) => {
  const daemon = await daemonIn(t);
  const socket = daemon.record.socket!;
  const most = { agent: 'a', model: 'm', promptTokens: MAX_TOKENS, completionTokens: MAX_TOKENS };
  const reports = MAX_TOKEN_TOTAL / (2 * MAX_TOKENS);
  for (let sent = 0; sent < reports; sent += 50) {
    const answers = await Promise.all(Array.from({ length: Math.min(50, reports - sent) }, () => post(socket, 'report', most)));
    for (const a of answers) assert.equal(a.status, 200, a.body);
  }
  const over = await post(socket, 'report', { agent: 'b', model: 'n', promptTokens: 1, completionTokens: 0 });
  refused(over, 'promptTokens + completionTokens', MAX_TOKEN_TOTAL);
  const usage = await post(socket, 'usage', {});
  assert.equal(usage.status, 200, usage.body);
  assert.deepEqual(usage.json, {
    byAgent: [{ agent: 'a', promptTokens: MAX_TOKEN_TOTAL / 2, completionTokens: MAX_TOKEN_TOTAL / 2, total: MAX_TOKEN_TOTAL }],
    byModel: [{ model: 'm', promptTokens: MAX_TOKEN_TOTAL / 2, completionTokens: MAX_TOKEN_TOTAL / 2, total: MAX_TOKEN_TOTAL }],
  });

  // Live reservations are a sum too (every budget's `reserved`).
  const reservations = MAX_TOKEN_TOTAL / MAX_TOKENS;
  for (let sent = 0; sent < reservations; sent += 50) {
    const answers = await Promise.all(Array.from({ length: Math.min(50, reservations - sent) }, () => post(socket, 'reserve', { agent: 'a', estimate: MAX_TOKENS })));
    for (const a of answers) assert.equal(a.status, 200, a.body);
  }
  refused(await post(socket, 'reserve', { agent: 'b', estimate: 1 }), 'estimate', MAX_TOKEN_TOTAL);
  assert.equal((await post(socket, 'setBudget', { limit: MAX_TOKEN_TOTAL })).status, 200);
  const budgets = await post(socket, 'budgetStatus', {});
  assert.equal(budgets.status, 200, budgets.body);
  const [global] = budgets.json as Array<{ used: number; reserved: number; remaining: number }>;
  assert.deepEqual({ used: global!.used, reserved: global!.reserved, remaining: global!.remaining }, { used: 0, reserved: MAX_TOKEN_TOTAL, remaining: 0 });
});

test('a waiting take never books a wait longer than a timer can count', async (t) => {
  const daemon = await daemonIn(t);
  const socket = daemon.record.socket!;
  assert.equal((await post(socket, 'setRateLimit', { key: 'slow', rate: MIN_RATE, burst: 1000 })).status, 200);
  assert.deepEqual((await post(socket, 'take', { key: 'slow', cost: 1000 })).json, { granted: true, waitedMs: 0 });
  // The refill takes 10^12 ms: past a timer's 2^31-1, which Node would fire after 1 ms, granting at once.
  const started = performance.now();
  const waiting = await post(socket, 'take', { key: 'slow', cost: 1000, wait: true });
  assert.equal(waiting.status, 200, waiting.body);
  const answer = waiting.json as { granted: boolean; retryAfterMs: number };
  assert.equal(answer.granted, false, waiting.body);
  assert.ok(answer.retryAfterMs > MAX_WAIT_MS && answer.retryAfterMs <= (1000 * 1000) / MIN_RATE, waiting.body);
  assert.ok(performance.now() - started < 5_000);
  const [bucket] = (await post(socket, 'rateLimitStatus', { key: 'slow' })).json as Array<{ available: number }>;
  assert.ok(bucket!.available >= 0 && bucket!.available < 1, `nothing was booked: ${bucket!.available}`);
});
