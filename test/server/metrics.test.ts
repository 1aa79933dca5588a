// GET /metrics from a real daemon after a scripted workload: the counts match
// what the workload did (acquires, refusals, completed tasks, budget tokens),
// the text parses with a real Prometheus parser, no label carries a key, a
// session or a name, TCP needs the API's credentials, --metrics-listen
// serves a scraper without them, and --metrics off serves none. Request ids:
// a plain incoming X-Request-ID is echoed, anything else replaced, and each
// request has one access line with it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { request } from 'node:http';
import { join } from 'node:path';
import { isBatonError } from '../../src/errors.ts';
import { createToken } from '../../src/project/tokens.ts';
import { startDaemon } from '../../support/daemon.ts';
import { freePort } from '../../support/free-port.ts';
import { tempDir } from '../helpers/procs.ts';

interface Sample {
  value?: string;
  labels?: Record<string, string>;
  buckets?: Record<string, string>;
  count?: string;
  sum?: string;
}
interface Family {
  name: string;
  help: string;
  type: string;
  metrics: Sample[];
}
// The parser ships no types: its shape, as its README documents it.
const parsePrometheus = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => Family[];

type Where = { socketPath: string } | { host: string; port: number };

function get(where: Where, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request({ ...where, method: 'GET', path, headers: { host: 'baton', ...headers } }, async (res) => {
      let body = '';
      for await (const chunk of res) body += String(chunk);
      resolve({ status: res.statusCode!, body, headers: res.headers });
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * The parser folds a histogram's series into one unless it has no labels (its
 * README's shape): for the values, the same text with each histogram read as
 * untyped, so every _bucket, _sum and _count line is a sample of its own.
 */
function samples(text: string): Family[] {
  return parsePrometheus(text.replace(/^# TYPE (\S+) histogram$/gm, '# TYPE $1 untyped'));
}

/** The value of one sample, found by its name and labels. */
function sample(families: Family[], name: string, labels: Record<string, string> = {}): number {
  const all = families.filter((f) => f.name === name).flatMap((f) => f.metrics);
  assert.ok(all.length > 0, `no metric ${name}`);
  const found = all.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  assert.ok(found !== undefined, `no ${name} with ${JSON.stringify(labels)}: ${JSON.stringify(all)}`);
  return Number(found.value);
}

test('metrics after a scripted workload match what it did, parse as Prometheus text, and carry no unbounded label', async (t) => {
  const dir = tempDir(t);
  const stateDir = join(dir, '.baton');
  const scrapePort = await freePort();
  const daemon = await startDaemon(stateDir, { cwd: dir, args: ['--listen', '127.0.0.1:0', '--metrics-listen', `127.0.0.1:${scrapePort}`] });
  t.after(() => daemon.stop());
  const c = daemon.client();
  const socket = { socketPath: daemon.record.socket! };

  // Leases: 5 granted at once and released, 1 granted and held, 1 refused at once (LOCKED), 1 stale release.
  for (let i = 0; i < 5; i++) await c.release(await c.acquire(`wl/key-${i}`, { owner: 'worker-secret-name', ttlMs: 60_000 }));
  const held = await c.acquire('wl/held', { owner: 'worker-secret-name', ttlMs: 60_000 });
  await assert.rejects(c.acquire('wl/held', { owner: 'other', ttlMs: 60_000, timeoutMs: 0 }), (e) => isBatonError(e, 'LOCKED'));
  await assert.rejects(c.release({ key: 'wl/held', token: held.token - 1 }), (e) => isBatonError(e, 'STALE_TOKEN'));
  // Tasks: 3 added and claimed, 2 completed (one alone, one in a batch), 1 failed (retried: 3 attempts by default).
  const session = await c.register({ name: 'agent-secret-name', ttlMs: 60_000 });
  await c.addTasks([{ title: 'a', queue: 'wl' }, { title: 'b', queue: 'wl' }, { title: 'c', queue: 'wl' }]);
  const claims = await c.claim(session.id, { queue: 'wl', n: 3 });
  assert.equal(claims.length, 3);
  await c.complete(claims[0]!);
  await c.completeMany([{ taskId: claims[1]!.taskId, token: claims[1]!.token }]);
  await c.fail(claims[2]!, 'flaky');
  // Budget: a global one of 1000, 150 tokens reported, 200 reserved.
  await c.setBudget({ limit: 1000 });
  await c.report({ agent: 'agent-secret-name', model: 'm', promptTokens: 100, completionTokens: 50 });
  await c.reserve({ agent: 'agent-secret-name', estimate: 200 });
  // A rate limit of burst 1: the second take is not granted.
  assert.equal((await c.take('wl/rate', { rate: 0.01, burst: 1 })).granted, true);
  assert.equal((await c.take('wl/rate')).granted, false);

  const scraped = await get(socket, '/metrics');
  assert.equal(scraped.status, 200);
  assert.match(String(scraped.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  const families = parsePrometheus(scraped.body);
  // Every family is baton's (prefixed) or Node's default process metrics; the histograms are typed so.
  for (const f of families) assert.match(f.name, /^(baton_|process_|nodejs_)/, f.name);
  assert.ok(families.some((f) => f.name === 'process_cpu_user_seconds_total'), 'the default process metrics are there');
  assert.equal(families.find((f) => f.name === 'baton_lease_wait_seconds')?.type, 'HISTOGRAM');
  assert.equal(families.find((f) => f.name === 'baton_tasks_completed_total')?.type, 'COUNTER');
  const m = samples(scraped.body);

  assert.equal(sample(m, 'baton_lease_wait_seconds_count', { outcome: 'granted' }), 6);
  assert.equal(sample(m, 'baton_lease_wait_seconds_count', { outcome: 'refused' }), 1);
  assert.equal(sample(m, 'baton_request_duration_seconds_count', { operation: 'acquire', status: '200' }), 6);
  assert.equal(sample(m, 'baton_request_duration_seconds_count', { operation: 'acquire', status: '423' }), 1);
  assert.equal(sample(m, 'baton_request_errors_total', { operation: 'acquire', code: 'LOCKED' }), 1);
  assert.equal(sample(m, 'baton_fencing_refusals_total', { operation: 'release' }), 1);
  assert.equal(sample(m, 'baton_leases_held', { mode: 'exclusive' }), 1);
  assert.equal(sample(m, 'baton_tasks_claimed_total'), 3);
  assert.equal(sample(m, 'baton_tasks_completed_total'), 2);
  assert.equal(sample(m, 'baton_task_claim_to_complete_seconds_count'), 2);
  assert.equal(sample(m, 'baton_task_retries_total'), 1);
  assert.equal(sample(m, 'baton_task_dead_letters_total'), 0);
  assert.equal(sample(m, 'baton_tasks', { state: 'done' }), 2);
  assert.equal(sample(m, 'baton_tasks', { state: 'ready' }), 1);
  assert.equal(sample(m, 'baton_budget_tokens_used', { scope: 'global' }), 150);
  assert.equal(sample(m, 'baton_budget_tokens_reserved', { scope: 'global' }), 200);
  assert.equal(sample(m, 'baton_budget_tokens_limit', { scope: 'global' }), 1000);
  assert.equal(sample(m, 'baton_rate_limit_refusals_total', { operation: 'take' }), 1);
  assert.equal(sample(m, 'baton_sse_clients', { stream: 'attach' }), 1, 'the registered session holds its attach stream');
  assert.ok(sample(m, 'baton_writer_batch_size_count') >= 1);
  // No label value names a key, a session, an agent or a path.
  const labelValues = m.flatMap((f) => f.metrics.flatMap((s) => Object.values(s.labels ?? {})));
  for (const value of labelValues) assert.doesNotMatch(value, /wl\/|secret-name|\/v1\/|^[0-9a-f-]{36}$/, value);
  assert.ok(!scraped.body.includes(session.id));

  // TCP: the API's credentials; a scraper's own listener: none.
  const [host, port] = daemon.record.listen!.split(':') as [string, string];
  const tcp = { host, port: Number(port) };
  assert.equal((await get(tcp, '/metrics')).status, 401);
  const { token } = await createToken(stateDir, 'scraper', { scopes: ['read'] });
  const withToken = await get(tcp, '/metrics', { authorization: `Bearer ${token}` });
  assert.equal(withToken.status, 200);
  assert.ok(parsePrometheus(withToken.body).some((f) => f.name === 'baton_tasks'));
  const scraper = await get({ host: '127.0.0.1', port: scrapePort }, '/metrics');
  assert.equal(scraper.status, 200);
  assert.equal(sample(samples(scraper.body), 'baton_tasks_completed_total'), 2);
  assert.equal((await get({ host: '127.0.0.1', port: scrapePort }, '/v1/status')).status, 404);
});

test('request ids: a plain X-Request-ID is echoed, another is replaced, and each request has one access line; --access-log off, --metrics off', async (t) => {
  const dir = tempDir(t);
  const stateDir = join(dir, '.baton');
  const daemon = await startDaemon(stateDir, { cwd: dir });
  const socket = { socketPath: daemon.record.socket! };
  const echoed = await get(socket, '/v1/health', { 'x-request-id': 'req-42.a:b_c' });
  assert.equal(echoed.headers['x-request-id'], 'req-42.a:b_c');
  for (const bad of ['has space', 'x'.repeat(129), 'semi;colon', '"quoted"']) {
    const replaced = await get(socket, '/v1/health', { 'x-request-id': bad });
    assert.match(String(replaced.headers['x-request-id']), /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, bad);
  }
  const generated = await get(socket, '/v1/nowhere');
  assert.equal(generated.status, 404);
  const id = String(generated.headers['x-request-id']);
  assert.match(id, /^[0-9a-f-]{36}$/);
  const c = daemon.client();
  const session = await c.register({ name: 'logged', ttlMs: 60_000, autoHeartbeat: false });
  await c.heartbeat(session.id);
  assert.equal(await daemon.stop(), 0);

  const logs = join(stateDir, 'logs');
  const lines = readdirSync(logs)
    .filter((f) => f.endsWith('.log'))
    .flatMap((f) => readFileSync(join(logs, f), 'utf8').split('\n').filter((l) => l !== ''))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.message === 'request');
  const of = (requestId: string): Array<Record<string, unknown>> => lines.filter((l) => l.requestId === requestId);
  assert.equal(of('req-42.a:b_c').length, 1);
  assert.deepEqual(Object.keys(of('req-42.a:b_c')[0]!).filter((k) => !['at', 'level', 'pid', 'message'].includes(k)).sort(), ['code', 'ms', 'operation', 'requestId', 'status']);
  assert.deepEqual({ ...of(id)[0], at: 0, pid: 0, ms: 0 }, { at: 0, pid: 0, level: 'info', message: 'request', requestId: id, operation: 'unknown', code: 'NOT_FOUND', status: 404, ms: 0 });
  const heartbeat = lines.find((l) => l.operation === 'heartbeat');
  assert.equal(heartbeat?.sessionId, session.id, 'the line names the session the request names');
  assert.equal(heartbeat?.code, 'OK');

  // Both off: no access line, and no /metrics.
  const quiet = await startDaemon(stateDir, { cwd: dir, args: ['--access-log', 'off', '--metrics', 'off'] });
  const off = await get({ socketPath: quiet.record.socket! }, '/metrics', { 'x-request-id': 'quiet-1' });
  assert.equal(off.status, 404);
  assert.equal(off.headers['x-request-id'], 'quiet-1');
  assert.equal(await quiet.stop(), 0);
  const quietLog = readFileSync(join(logs, `daemon-${quiet.child.pid}.log`), 'utf8');
  assert.doesNotMatch(quietLog, /"message":"request"/);
});
