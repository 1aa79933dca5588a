// baton mcp: real MCP clients (the SDK's Client over stdio) drive `baton mcp`
// processes against one daemon; and the same tools over the daemon's
// streamable HTTP route with its token auth, closed when the daemon stops.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { mcpRoute } from '../../src/mcp/route.ts';
import { createToken } from '../../src/project/tokens.ts';
import { startDaemon as startDaemonHere } from '../../src/server/daemon.ts';
import type { DaemonRoute } from '../../src/server/routes.ts';
import { startDaemon } from '../../support/daemon.ts';
import { answer, mcpAgent, mcpProject, ok, type Answer } from '../helpers/mcp.ts';
import { sleep, tempDir } from '../helpers/procs.ts';

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 5_000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

function refused(a: Answer, code: string, mention?: RegExp): void {
  assert.equal(a.ok, false, `expected ${code}, got success ${a.text}`);
  assert.equal(a.code, code, a.text);
  assert.match(a.text, / — /, `the error carries a hint: ${a.text}`);
  if (mention !== undefined) assert.match(a.text, mention);
}

test('two agents on one daemon: conflicts name the holder, writes need a reservation, one claimer per task, a killed agent frees its paths within 1 s', { timeout: 60_000 }, async (t) => {
  const { root, stateDir, admin } = await mcpProject(t);
  const alice = await mcpAgent(t, { root, stateDir }, 'alice');
  const bob = await mcpAgent(t, { root, stateDir }, 'bob');

  const listed = await alice.client.listTools();
  assert.deepEqual(listed.tools.map((x) => x.name).sort(), [
    'ack_message', 'acquire_lock', 'answer_release', 'approval_status', 'budget_commit', 'budget_report', 'budget_reserve', 'budget_status', 'delete_file', 'git_commit', 'inbox', 'kv_delete', 'kv_get', 'kv_list', 'kv_put',
    'list_reservations', 'rate_limit_take', 'recent_events', 'release_lock', 'release_paths', 'rename_file', 'request_approval', 'request_release', 'reserve_paths', 'send_message', 'status', 'task_add', 'task_claim', 'task_complete', 'task_fail', 'task_list',
    'task_renew', 'write_file',
  ]);
  for (const x of listed.tools) assert.ok((x.description ?? '').length > 80, `${x.name} has a description written for an agent`);

  // Both agents are registered as sessions of kind mcp, bound to their connections.
  const sessions = await until('both agents registered', async () => {
    const s = (await admin.listSessions()).filter((x) => x.kind === 'mcp');
    return s.length === 2 ? s : undefined;
  });
  assert.deepEqual(sessions.map((s) => s.name).sort(), ['alice', 'bob']);

  // Conflicting exclusive reservations: the second is refused, naming the holder and the reason.
  ok(await alice.call('reserve_paths', { paths: ['src/auth/**', 'README.md'], reason: 'refactor auth' }));
  const conflict = await bob.call('reserve_paths', { paths: ['docs/**', 'src/auth/login.ts'] });
  refused(conflict, 'LOCKED', /alice/);
  assert.match(conflict.text, /refactor auth/);
  const bobs = (await admin.listLeases()).filter((l) => l.owner.startsWith('bob'));
  assert.deepEqual(bobs, [], 'all or nothing: the docs/** reservation taken before the conflict was released');

  // Writes without a reservation are refused, naming the holder when there is one.
  refused(await bob.call('write_file', { path: 'src/auth/login.ts', content: 'bob was here' }), 'LEASE_REQUIRED', /alice.* — another agent has reserved it/);
  const unreserved = await bob.call('write_file', { path: 'docs/a.md', content: 'x' });
  refused(unreserved, 'LEASE_REQUIRED', /reserve_paths/);
  assert.ok(!existsSync(join(root, 'src/auth/login.ts')) && !existsSync(join(root, 'docs/a.md')), 'refused writes wrote nothing');

  // The holder writes, renames and deletes under its reservation with no token in sight.
  assert.equal(ok(await alice.call('write_file', { path: 'src/auth/login.ts', content: 'export const login = 1;\n' })).written, 'src/auth/login.ts');
  assert.equal(readFileSync(join(root, 'src/auth/login.ts'), 'utf8'), 'export const login = 1;\n');
  ok(await alice.call('write_file', { path: join(root, 'src/auth/tmp.ts'), content: 'x' }));
  ok(await alice.call('rename_file', { from: 'src/auth/tmp.ts', to: 'src/auth/old.ts' }));
  ok(await alice.call('delete_file', { path: 'src/auth/old.ts' }));
  assert.deepEqual(readdirSync(join(root, 'src/auth')), ['login.ts']);

  // The intent map: who holds what and why.
  const map = ok(await bob.call('list_reservations', {})) as { reservations: Array<{ path: string; agent: string; reason: string | null; mine: boolean }> };
  assert.deepEqual(map.reservations.map((r) => [r.path, r.agent, r.reason, r.mine]).sort(), [['README.md', 'alice', 'refactor auth', false], ['src/auth/**', 'alice', 'refactor auth', false]]);

  // Commit under the git lease; a path another agent reserved is refused.
  refused(await bob.call('git_commit', { message: 'take it', paths: ['src/auth/login.ts'] }), 'LOCKED', /alice/);
  const commit = ok(await alice.call('git_commit', { message: 'add login', paths: ['src/auth/login.ts'] }));
  assert.match(String(commit.commit), /^[0-9a-f]{40}$/);
  assert.equal(execFileSync('git', ['-C', root, 'log', '--format=%s'], { encoding: 'utf8' }).trim(), 'add login');

  // A task is claimed by exactly one of two agents claiming at once.
  const added = ok(await alice.call('task_add', { title: 'fix login', payload: { file: 'src/auth/login.ts' } })) as { task: { id: number } };
  const claims = await Promise.all([alice.call('task_claim', {}), bob.call('task_claim', {})]);
  const winners = claims.map(ok).filter((c) => c.task !== null) as Array<{ task: { id: number } }>;
  assert.equal(winners.length, 1, JSON.stringify(claims.map((c) => c.data)));
  assert.equal(winners[0]!.task.id, added.task.id);
  const aliceHasIt = claims[0]!.data.task !== null;
  if (!aliceHasIt) {
    // Make alice the claimer, so her death requeues it.
    ok(await bob.call('task_fail', { task_id: added.task.id, error: 'handing over', retry_in_seconds: 0 }));
    assert.notEqual(ok(await alice.call('task_claim', { task_id: added.task.id })).task, null);
  }
  refused(await bob.call('task_complete', { task_id: added.task.id }), 'NOT_FOUND', /task_claim/);

  // Bob queues for alice's path; alice's baton mcp process is killed; bob gets it within 1 s.
  const waiting = bob.call('reserve_paths', { paths: ['src/auth/login.ts'], reason: 'take over', wait_seconds: 10 });
  await sleep(100);
  const killedAt = performance.now();
  process.kill(alice.transport.pid!, 'SIGKILL');
  const took = await waiting;
  const freedMs = performance.now() - killedAt;
  ok(took);
  assert.ok(freedMs < 1000, `alice's reservation was freed ${Math.round(freedMs)} ms after the kill`);
  t.diagnostic(`reservation freed ${Math.round(freedMs)} ms after kill -9 of the holder's baton mcp`);
  ok(await bob.call('write_file', { path: 'src/auth/login.ts', content: 'export const login = 2;\n' }));
  assert.equal(readFileSync(join(root, 'src/auth/login.ts'), 'utf8'), 'export const login = 2;\n');
  // Alice's claim came back to the queue, and bob can take it.
  const requeued = ok(await bob.call('task_claim', { task_id: added.task.id })) as { task: { id: number; attempts: number } };
  assert.equal(requeued.task.id, added.task.id);
  ok(await bob.call('task_complete', { task_id: added.task.id, result: { done: true } }));
  ok(await bob.call('release_paths', { all: true }));
  assert.deepEqual(await admin.listLeases({ prefix: 'path:' }), []);
});

test('every tool validates its input: a missing field, a wrong type, a path outside the project is a tool error with a code, and nothing changes', { timeout: 60_000 }, async (t) => {
  const { root, stateDir, admin } = await mcpProject(t);
  const a = await mcpAgent(t, { root, stateDir }, 'validator');
  await until('the agent registered', async () => ((await admin.listSessions()).some((s) => s.name === 'validator') ? true : undefined));
  // Something to protect: a reservation, a file, a task.
  ok(await a.call('reserve_paths', { paths: ['src/**'] }));
  ok(await a.call('write_file', { path: 'src/keep.ts', content: 'keep\n' }));
  ok(await a.call('task_add', { title: 'existing' }));

  type Case = [label: string, args: Record<string, unknown>, code: string];
  const cases: Record<string, Case[]> = {
    reserve_paths: [['missing', {}, 'INVALID_ARGUMENT'], ['wrong type', { paths: 'src' }, 'INVALID_ARGUMENT'], ['outside', { paths: ['../elsewhere/**'] }, 'OUTSIDE_ROOT'], ['absolute outside', { paths: ['/etc/**'] }, 'OUTSIDE_ROOT']],
    release_paths: [['missing', {}, 'INVALID_ARGUMENT'], ['wrong type', { all: 'yes' }, 'INVALID_ARGUMENT'], ['outside', { paths: ['../src/**'] }, 'OUTSIDE_ROOT']],
    list_reservations: [['wrong type', { mine: 1 }, 'INVALID_ARGUMENT'], ['outside', { path: '/etc' }, 'OUTSIDE_ROOT']],
    write_file: [['missing', { path: 'src/keep.ts' }, 'INVALID_ARGUMENT'], ['wrong type', { path: 'src/keep.ts', content: 5 }, 'INVALID_ARGUMENT'], ['outside', { path: 'src/../../evil.txt', content: 'x' }, 'OUTSIDE_ROOT']],
    delete_file: [['missing', {}, 'INVALID_ARGUMENT'], ['wrong type', { path: ['src/keep.ts'] }, 'INVALID_ARGUMENT'], ['outside', { path: '/etc/hostname' }, 'OUTSIDE_ROOT']],
    rename_file: [['missing', { from: 'src/keep.ts' }, 'INVALID_ARGUMENT'], ['wrong type', { from: 'src/keep.ts', to: 7 }, 'INVALID_ARGUMENT'], ['outside', { from: 'src/keep.ts', to: '../evil.txt' }, 'OUTSIDE_ROOT']],
    acquire_lock: [['missing', {}, 'INVALID_ARGUMENT'], ['wrong type', { name: 'deploy', wait_seconds: '1' }, 'INVALID_ARGUMENT'], ['a path', { name: 'path:src/**' }, 'INVALID_ARGUMENT']],
    release_lock: [['missing', {}, 'INVALID_ARGUMENT'], ['wrong type', { name: 3 }, 'INVALID_ARGUMENT']],
    request_release: [['missing', { key: 'deploy' }, 'INVALID_ARGUMENT'], ['wrong type', { key: 'deploy', reason: 'r', ttl_seconds: 'soon' }, 'INVALID_ARGUMENT']],
    answer_release: [['missing', { id: 1 }, 'INVALID_ARGUMENT'], ['wrong type', { id: 'one', answer: 'declined' }, 'INVALID_ARGUMENT'], ['neither id nor key', { answer: 'declined' }, 'INVALID_ARGUMENT']],
    git_commit: [['missing', { message: 'm' }, 'INVALID_ARGUMENT'], ['wrong type', { message: 'm', paths: 'src/keep.ts' }, 'INVALID_ARGUMENT'], ['outside', { message: 'm', paths: ['../x'] }, 'OUTSIDE_ROOT']],
    task_add: [['missing', {}, 'INVALID_ARGUMENT'], ['wrong type', { title: 'x', priority: 'high' }, 'INVALID_ARGUMENT']],
    task_claim: [['wrong type', { task_id: 'one' }, 'INVALID_ARGUMENT'], ['unknown field', { taskId: 1 }, 'INVALID_ARGUMENT']],
    task_renew: [['missing', {}, 'INVALID_ARGUMENT'], ['wrong type', { task_id: 1.5 }, 'INVALID_ARGUMENT']],
    task_complete: [['missing', {}, 'INVALID_ARGUMENT'], ['wrong type', { task_id: '1' }, 'INVALID_ARGUMENT']],
    task_fail: [['missing', { task_id: 1 }, 'INVALID_ARGUMENT'], ['wrong type', { task_id: 1, error: 5 }, 'INVALID_ARGUMENT']],
    task_list: [['wrong type', { status: 'ready' }, 'INVALID_ARGUMENT']],
    request_approval: [['missing', {}, 'INVALID_ARGUMENT'], ['wrong type', { title: 'x', wait_seconds: 'long' }, 'INVALID_ARGUMENT']],
    approval_status: [['missing', {}, 'INVALID_ARGUMENT'], ['wrong type', { task_id: 'one' }, 'INVALID_ARGUMENT']],
    budget_status: [['wrong type', { agent: 5 }, 'INVALID_ARGUMENT']],
    budget_reserve: [['missing', {}, 'INVALID_ARGUMENT'], ['wrong type', { estimate: 'lots' }, 'INVALID_ARGUMENT']],
    budget_commit: [['missing', { reservation_id: 'r' }, 'INVALID_ARGUMENT'], ['wrong type', { reservation_id: 'r', prompt_tokens: '1', completion_tokens: 1 }, 'INVALID_ARGUMENT']],
    budget_report: [['missing', { model: 'm' }, 'INVALID_ARGUMENT'], ['wrong type', { model: 'm', prompt_tokens: 1.5, completion_tokens: 1 }, 'INVALID_ARGUMENT']],
    rate_limit_take: [['missing', {}, 'INVALID_ARGUMENT'], ['wrong type', { key: 'api', cost: 'x' }, 'INVALID_ARGUMENT']],
    kv_get: [['missing', {}, 'INVALID_ARGUMENT'], ['wrong type', { key: 5 }, 'INVALID_ARGUMENT']],
    kv_put: [['missing', { key: 'k' }, 'INVALID_ARGUMENT'], ['wrong type', { key: 'k', value: 1, expect_revision: '1' }, 'INVALID_ARGUMENT']],
    kv_delete: [['missing', {}, 'INVALID_ARGUMENT'], ['wrong type', { key: 'k', expect_revision: -1 }, 'INVALID_ARGUMENT']],
    kv_list: [['wrong type', { limit: 'ten' }, 'INVALID_ARGUMENT']],
    send_message: [['missing', { to: 'validator' }, 'INVALID_ARGUMENT'], ['wrong type', { to: 'validator', subject: 's', importance: 'critical' }, 'INVALID_ARGUMENT']],
    inbox: [['wrong type', { limit: 'ten' }, 'INVALID_ARGUMENT']],
    ack_message: [['missing', {}, 'INVALID_ARGUMENT'], ['wrong type', { ids: ['1'] }, 'INVALID_ARGUMENT']],
    status: [['unknown field', { verbose: true }, 'INVALID_ARGUMENT']],
    recent_events: [['wrong type', { limit: 'ten' }, 'INVALID_ARGUMENT']],
  };
  const listed = (await a.client.listTools()).tools.map((x) => x.name).sort();
  assert.deepEqual(Object.keys(cases).sort(), listed, 'every tool has its invalid inputs tested');

  const snapshot = async () => ({
    leases: (await admin.listLeases()).map((l) => [l.key, l.token]),
    tasks: (await admin.listTasks()).map((x) => [x.id, x.status, x.version]),
    events: (await admin.events({ limit: 100_000 })).filter((e) => e.type !== 'fs.changed').length,
    files: readdirSync(root).sort(),
    parent: readdirSync(dirname(root)).sort(),
    keep: readFileSync(join(root, 'src/keep.ts'), 'utf8'),
  });
  const before = await snapshot();
  for (const [tool, list] of Object.entries(cases)) {
    for (const [label, args, code] of list) {
      const result = await a.call(tool, args);
      assert.equal(result.ok, false, `${tool} (${label}) was accepted: ${result.text}`);
      assert.equal(result.code, code, `${tool} (${label}): ${result.text}`);
      assert.match(result.text, / — .*nothing was changed|— fix|— use a path/, `${tool} (${label}) says what to do: ${result.text}`);
      if (code === 'INVALID_ARGUMENT' && label !== 'a path') assert.match(result.text, new RegExp(`for ${tool}:`), result.text);
    }
  }
  assert.deepEqual(await snapshot(), before, 'the refused calls changed nothing');
  assert.ok(!existsSync(join(dirname(root), 'evil.txt')));
});

test('baton mcp exits promptly when its client closes stdin, and the agent\'s session and reservations end with it', { timeout: 30_000 }, async (t) => {
  const { root, stateDir, admin } = await mcpProject(t);
  const a = await mcpAgent(t, { root, stateDir }, 'leaver');
  ok(await a.call('reserve_paths', { paths: ['lib/**'] }));
  ok(await a.call('acquire_lock', { name: 'deploy', reason: 'release 1.2' }));
  assert.equal((await admin.listLeases()).length, 2);
  const pid = a.transport.pid!;
  const started = performance.now();
  await a.client.close(); // ends stdin, waits for the exit (SIGTERM after 2 s)
  const ms = performance.now() - started;
  assert.throws(() => process.kill(pid, 0), 'the process is gone');
  assert.ok(ms < 1500, `baton mcp took ${Math.round(ms)} ms to exit after stdin closed`);
  t.diagnostic(`baton mcp exited ${Math.round(ms)} ms after stdin closed`);
  assert.deepEqual(await admin.listLeases(), []);
  assert.deepEqual((await admin.listSessions()).filter((s) => s.kind === 'mcp'), []);
});

test('the status resource, recent events, locks, budgets and rate limits', { timeout: 30_000 }, async (t) => {
  const { root, stateDir } = await mcpProject(t);
  const a = await mcpAgent(t, { root, stateDir });
  const resources = await a.client.listResources();
  assert.ok(resources.resources.some((r) => r.uri === 'baton://status'));
  ok(await a.call('reserve_paths', { paths: ['src/x.ts'], mode: 'shared', reason: 'reading' }));
  const read = await a.client.readResource({ uri: 'baton://status' });
  const status = JSON.parse(String((read.contents[0] as { text: string }).text)) as { you: { agent: string }; daemon: { pid: number }; leases: Array<{ key: string }> };
  assert.match(status.you.agent, /^test-agent-\d+$/, 'the default name is the MCP client\'s name and the pid');
  assert.equal(status.leases[0]!.key, 'path:src/x.ts');
  assert.ok(status.daemon.pid > 0);
  // A shared reservation does not allow writing.
  refused(await a.call('write_file', { path: 'src/x.ts', content: 'x' }), 'LEASE_REQUIRED', /shared|exclusive/);

  const events = ok(await a.call('recent_events', { types: ['lease.', 'agent.'], limit: 5 })) as { events: Array<{ type: string; seq: number }>; last_seq: number };
  assert.deepEqual(events.events.map((e) => e.type), ['agent.registered', 'lease.acquired']);
  ok(await a.call('release_paths', { paths: ['src/x.ts'] }));
  const newer = ok(await a.call('recent_events', { after: events.last_seq })) as { events: Array<{ type: string }> };
  assert.deepEqual(newer.events.map((e) => e.type), ['lease.released']);

  // Calls sent together take effect in the order sent: the write finds the reservation made just before it.
  const [reserved, written] = await Promise.all([a.call('reserve_paths', { paths: ['ordered.txt'] }), a.call('write_file', { path: 'ordered.txt', content: 'in order\n' })]);
  ok(reserved);
  ok(written);
  ok(await a.call('release_paths', { paths: ['ordered.txt'] }));


  ok(await a.call('acquire_lock', { name: 'deploy' }));
  refused(await a.call('acquire_lock', { name: 'git' }), 'INVALID_ARGUMENT', /git_commit/);
  ok(await a.call('release_lock', { name: 'deploy' }));
  refused(await a.call('release_lock', { name: 'deploy' }), 'NOT_FOUND');

  assert.deepEqual(ok(await a.call('budget_status', {})).budgets, []);
  const reservation = ok(await a.call('budget_reserve', { estimate: 1000, model: 'opus' }));
  ok(await a.call('budget_commit', { reservation_id: reservation.reservation_id, prompt_tokens: 600, completion_tokens: 100 }));
  ok(await a.call('budget_report', { model: 'opus', prompt_tokens: 10, completion_tokens: 5 }));
  assert.deepEqual(ok(await a.call('rate_limit_take', { key: 'api', rate: 1, burst: 1 })), { granted: true, waited_ms: 0 });
  const second = ok(await a.call('rate_limit_take', { key: 'api' }));
  assert.equal(second.granted, false);
  assert.ok(Number(second.retry_after_ms) > 0);
});

test('the same tools over the daemon\'s streamable HTTP route, with its token auth', { timeout: 30_000 }, async (t) => {
  const root = tempDir(t, 'baton-mcp-http-');
  execFileSync('git', ['init', '-q', root]);
  const stateDir = join(root, '.git', 'baton');
  const { token } = await createToken(stateDir, 'remote-agent');
  const daemon = await startDaemon(stateDir, { cwd: root, args: ['--listen', '127.0.0.1:0'] });
  t.after(() => daemon.stop());
  const url = new URL(`http://${daemon.record.listen}/v1/mcp`);

  const anonymous = new Client({ name: 'anonymous', version: '1' });
  await assert.rejects(anonymous.connect(new StreamableHTTPClientTransport(url)), /401|UNAUTHENTICATED/);

  const transport = new StreamableHTTPClientTransport(url, { requestInit: { headers: { authorization: `Bearer ${token}` } } });
  const client = new Client({ name: 'remote', version: '1' });
  await client.connect(transport);
  t.after(() => client.close());
  const admin = daemon.client();
  ok(await answer(client, 'reserve_paths', { paths: ['src/**'], reason: 'remote work' }));
  refused(await answer(client, 'reserve_paths', { paths: [join(root, 'src/a.ts')] }), 'OUTSIDE_ROOT');
  ok(await answer(client, 'write_file', { path: 'src/a.ts', content: 'remote\n' }));
  assert.equal(readFileSync(join(root, 'src/a.ts'), 'utf8'), 'remote\n');
  refused(await answer(client, 'write_file', { path: 'lib/b.ts', content: 'x' }), 'LEASE_REQUIRED', /reserve_paths/);
  refused(await answer(client, 'task_add', { title: 5 }), 'INVALID_ARGUMENT');
  const sessions = (await admin.listSessions()).filter((s) => s.kind === 'mcp');
  assert.equal(sessions.length, 1);
  assert.match(sessions[0]!.name, /^remote-/);
  assert.equal((await admin.listLeases({ prefix: 'path:' }))[0]?.owner, `${sessions[0]!.name}: remote work`);
  // Closing the MCP session (DELETE) ends the agent: its reservations are released.
  await transport.terminateSession();
  await until('the reservation released', async () => ((await admin.listLeases({ prefix: 'path:' })).length === 0 ? true : undefined));
});

test('stopping the daemon closes its MCP route: a session open on it is gone', { timeout: 30_000 }, async (t) => {
  const root = tempDir(t, 'baton-mcp-stop-');
  execFileSync('git', ['init', '-q', root]);
  const stateDir = join(root, '.git', 'baton');
  const { token } = await createToken(stateDir, 'remote-agent');
  let route: DaemonRoute | undefined;
  // In this process, so the stopped daemon's route can still be asked about the session.
  const daemon = await startDaemonHere({
    stateDir,
    root,
    version: '1',
    socket: false,
    watch: false,
    listen: { host: '127.0.0.1', port: 0 },
    routes: { '/v1/mcp': (ctx) => (route = mcpRoute(ctx)) },
  });
  t.after(() => daemon.stop());
  const transport = new StreamableHTTPClientTransport(new URL(`http://${daemon.record.listen}/v1/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } } });
  const client = new Client({ name: 'remote', version: '1' });
  await client.connect(transport);
  t.after(() => client.close());
  const sessionId = transport.sessionId!;

  // The route itself, behind a server of the test's own: it answers for the session while it is open.
  const direct = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => void route!.handle(req, res, Buffer.concat(chunks)));
  });
  await new Promise<void>((resolve) => direct.listen(0, '127.0.0.1', resolve));
  t.after(() => direct.close());
  const listTools = () =>
    fetch(`http://127.0.0.1:${(direct.address() as AddressInfo).port}/v1/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': sessionId },
      body: JSON.stringify({ jsonrpc: '2.0', id: 100, method: 'tools/list' }),
    });
  assert.equal((await listTools()).status, 200, 'the session is open');

  await daemon.stop();
  const after = await listTools();
  assert.equal(after.status, 404, 'the daemon closed its MCP sessions when it stopped');
  assert.match(await after.text(), /Session not found/);
});
