// A library caller gets the refusals the daemon gives (its schemas are one
// check; the engine's own are the other): numbers past their bounds, JSON too
// deep or carrying an own "__proto__", strings the store would change.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { Coordinator } from '../../src/coordinator.ts';
import { openCoordinator } from '../../src/engine/open.ts';
import { isBatonError } from '../../src/errors.ts';
import { MAX_JSON_DEPTH, MAX_PID, MAX_TOKEN_TOTAL, MAX_TOKENS, MAX_TTL_MS, MAX_WAIT_MS, MIN_RATE } from '../../src/limits.ts';

async function coordinator(t: TestContext): Promise<Coordinator> {
  const c = await openCoordinator({ url: 'sqlite::memory:' });
  t.after(() => c.close());
  return c;
}

function invalid(...words: string[]): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(isBatonError(e, 'INVALID_ARGUMENT'), String(e));
    for (const word of words) assert.ok(e.message.includes(word), `names ${JSON.stringify(word)}: ${e.message}`);
    return true;
  };
}

const huge = Number.MAX_SAFE_INTEGER;
const nested = (levels: number): unknown => JSON.parse('{"a":'.repeat(levels) + '1' + '}'.repeat(levels));

test('numbers past their bounds are refused by the engine, naming the field and the bound', async (t) => {
  const c = await coordinator(t);
  await assert.rejects(c.acquire('k', { owner: 'a', ttlMs: huge }), invalid('ttlMs', String(MAX_TTL_MS)));
  await assert.rejects(c.acquire('k', { owner: 'a', timeoutMs: MAX_WAIT_MS + 1 }), invalid('timeoutMs', String(MAX_WAIT_MS)));
  await assert.rejects(c.report({ agent: 'a', model: 'm', promptTokens: huge, completionTokens: 0 }), invalid('promptTokens', String(MAX_TOKENS)));
  await assert.rejects(c.reserve({ agent: 'a', estimate: huge }), invalid('estimate', String(MAX_TOKENS)));
  await assert.rejects(c.setBudget({ limit: huge }), invalid('limit', String(MAX_TOKEN_TOTAL)));
  await assert.rejects(c.register({ name: 'w', pid: MAX_PID + 1, autoHeartbeat: false }), invalid('pid', String(MAX_PID)));
  await assert.rejects(c.addTask({ title: 't', runAt: huge }), invalid('runAt'));
  await assert.rejects(c.setRateLimit('r', { rate: MIN_RATE / 2, burst: 1 }), invalid('rate', String(MIN_RATE)));
  const session = await c.register({ name: 'w', autoHeartbeat: false });
  await c.addTask({ title: 't' });
  await assert.rejects(c.claim(session.id, { leaseMs: huge }), invalid('leaseMs', String(MAX_TTL_MS)));
  assert.deepEqual((await c.listTasks()).map((task) => task.status), ['ready']);
  assert.deepEqual(await c.listLeases(), []);
});

test('a session that beats rarely beats on time: its interval is no longer than a timer can count', async (t) => {
  const c = await coordinator(t);
  // ttlMs / 3 is about 122 days: a timer that long overflows, and Node fires it every millisecond.
  const session = await c.register({ name: 'slow', ttlMs: MAX_TTL_MS });
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal((await c.getSession(session.id)).heartbeatAt, session.heartbeatAt, 'no heartbeat yet');
});

test('a waiting take with no timeout never books past what a timer can count', async (t) => {
  const c = await coordinator(t);
  await c.setRateLimit('slow', { rate: MIN_RATE, burst: 10 });
  assert.deepEqual(await c.take('slow', { cost: 10 }), { granted: true, waitedMs: 0 });
  const started = performance.now();
  const result = await c.take('slow', { cost: 10, wait: true, timeoutMs: Infinity });
  assert.equal(result.granted, false);
  assert.ok(!result.granted && result.retryAfterMs > MAX_WAIT_MS);
  assert.ok(performance.now() - started < 5_000);
});

test('JSON values: too deep, or with an own __proto__ anywhere, or a lone surrogate in a name, are refused', async (t) => {
  const c = await coordinator(t);
  await assert.rejects(c.publish({ type: 'x', data: { deep: nested(5000) } }), invalid('data', `${MAX_JSON_DEPTH} levels`));
  await assert.rejects(c.addTask({ title: 't', payload: nested(MAX_JSON_DEPTH + 1) }), invalid('payload', `${MAX_JSON_DEPTH} levels`));
  // JSON.parse makes "__proto__" an own key; copied by assignment it would become a prototype.
  const poisoned = JSON.parse('{"list":[{"__proto__":{"polluted":true}}]}') as unknown;
  await assert.rejects(c.addTask({ title: 't', payload: poisoned }), invalid('payload.list[0].__proto__'));
  await assert.rejects(c.publish({ type: 'x', data: JSON.parse('{"__proto__":{}}') as Record<string, unknown> }), invalid('data.__proto__'));
  await assert.rejects(c.register({ name: 'w', labels: JSON.parse('{"__proto__":"x"}') as Record<string, string>, autoHeartbeat: false }), invalid('labels.__proto__'));
  await assert.rejects(c.acquire('k\ud800', { owner: 'a' }), invalid('key', 'surrogate'));
  await assert.rejects(c.register({ name: 'w\udfff', autoHeartbeat: false }), invalid('name', 'surrogate'));
  assert.deepEqual(await c.listTasks(), []);
  assert.deepEqual(await c.listLeases(), []);
  assert.deepEqual(await c.listSessions(), []);
  // At the limit, and inherited names as plain keys, are fine.
  const task = await c.addTask({ title: 't', payload: { v: nested(MAX_JSON_DEPTH - 1), constructor: 'c', toString: 1 } });
  assert.deepEqual(task.payload, { v: nested(MAX_JSON_DEPTH - 1), constructor: 'c', toString: 1 });
});
