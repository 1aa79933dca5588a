// Scoped and expiring API tokens: a token is refused outside its scopes with
// 403 PERMISSION_DENIED naming it, its scopes and the operation; an expired one
// with 401 UNAUTHENTICATED saying when; bad flags are one line naming the value;
// no token bytes in any refusal.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { RemoteCoordinator } from '../../src/client/index.ts';
import { isBatonError } from '../../src/errors.ts';
import { createToken, listTokens } from '../../src/project/tokens.ts';
import { Authenticator } from '../../src/server/auth.ts';
import { startDaemon, type RunningDaemon } from '../../support/daemon.ts';
import { baton, sleep, tempDir } from '../helpers/procs.ts';

interface Target {
  host: string;
  port: number;
}

/** A git repository served by a daemon on its socket and on TCP, with a stand-in build of the dashboard. */
async function project(t: TestContext): Promise<Target & { root: string; stateDir: string; daemon: RunningDaemon }> {
  const root = tempDir(t);
  execFileSync('git', ['init', '-q', root]);
  const stateDir = join(root, '.git', 'baton');
  const uiDir = join(tempDir(t), 'ui-build');
  mkdirSync(uiDir, { recursive: true });
  writeFileSync(join(uiDir, 'index.html'), '<!doctype html><title>baton</title>');
  const daemon = await startDaemon(stateDir, { cwd: root, args: ['--listen', '127.0.0.1:0'], env: { BATON_UI_DIR: uiDir } });
  t.after(() => daemon.stop());
  const listen = daemon.record.listen!;
  return { root, stateDir, daemon, host: listen.slice(0, listen.lastIndexOf(':')), port: Number(listen.slice(listen.lastIndexOf(':') + 1)) };
}

async function tokenClient(t: TestContext, p: Target & { stateDir: string }, name: string, scopes: string[]) {
  const created = await createToken(p.stateDir, name, { scopes });
  const client = new RemoteCoordinator({ host: p.host, port: p.port, token: created.token, retryForMs: 0 });
  t.after(() => client.close());
  return { ...created, client };
}

/** `promise` fails with 403 PERMISSION_DENIED naming the token, its scopes and the operation. */
async function outOfScope(promise: Promise<unknown>, id: string, scopes: string, operation: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isBatonError(error, 'PERMISSION_DENIED'), String(error));
    assert.equal(error.details.status, 403);
    assert.match(error.message, new RegExp(`^token:${id} has scope ${scopes}: it cannot call ${operation}\\b.*; that needs scope full( or [a-z]+)*$`));
    return true;
  });
}

interface Answer {
  status: number;
  body: string;
  headers: Record<string, unknown>;
}

/** Opens an event stream (GET, 200 expected); `ended` says when the daemon ended it. (Wrapped: a promise resolved with a promise would wait for it.) */
function openStream(p: Target, path: string, headers: Record<string, string>): Promise<{ ended: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: p.host, port: p.port, method: 'GET', path, headers }, (res) => {
      if (res.statusCode !== 200) {
        let text = '';
        res.on('data', (c) => (text += String(c)));
        res.on('end', () => reject(new Error(`stream ${path}: ${res.statusCode} ${text}`)));
        return;
      }
      res.resume();
      resolve({ ended: new Promise<number>((ended) => res.once('end', () => ended(Date.now()))) });
    });
    req.on('error', reject);
    req.end();
  });
}

/** A request with a bearer token (or these headers); an event stream that opens is answered 200 and not read. */
function call(p: Target, method: 'GET' | 'POST', path: string, credentials: string | Record<string, string>, body = ''): Promise<Answer> {
  const headers = typeof credentials === 'string' ? { authorization: `Bearer ${credentials}` } : credentials;
  return new Promise((resolve, reject) => {
    const req = request({ host: p.host, port: p.port, method, path, headers: { ...headers, ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += String(c)));
      if (res.statusCode === 200 && path.startsWith('/v1/events')) {
        res.destroy();
        resolve({ status: 200, body: '', headers: res.headers });
      }
      res.on('end', () => resolve({ status: res.statusCode!, body: text, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('a tasks-only token works a queue and is refused leases and files; a files-only token the reverse', async (t) => {
  const p = await project(t);
  const tasks = await tokenClient(t, p, 'worker', ['tasks']);
  const files = await tokenClient(t, p, 'editor', ['files']);

  // A queue worker: a session (attached: its stream is a session route), tasks in, claimed, done.
  const session = await tasks.client.register({ name: 'worker-1' });
  const added = await tasks.client.addTask({ title: 'fix login' });
  const [claim] = await tasks.client.claim(session.id, { n: 1 });
  assert.equal(claim!.task.id, added.id);
  await tasks.client.complete(claim!, { ok: true });
  assert.equal((await tasks.client.getTask(added.id)).status, 'done');
  assert.equal((await tasks.client.taskCounts()).done, 1);
  await outOfScope(tasks.client.acquire('path:src/**', { owner: 'worker-1', timeoutMs: 0 }), tasks.id, 'tasks', 'acquire');
  await outOfScope(tasks.client.listLeases(), tasks.id, 'tasks', 'listLeases');
  await outOfScope(tasks.client.readFile('README.md'), tasks.id, 'tasks', 'readFile');
  await outOfScope(tasks.client.setBudget({ agent: 'x', limit: 1 }), tasks.id, 'tasks', 'setBudget');
  for (const path of ['/v1/status', '/v1/events']) {
    const answer = await call(p, 'GET', path, tasks.token);
    assert.equal(answer.status, 403, path);
    assert.match(JSON.parse(answer.body).error.message, new RegExp(`^token:${tasks.id} has scope tasks: it cannot read the (status|event stream); that needs scope full or read$`));
  }
  assert.deepEqual(JSON.parse((await call(p, 'GET', '/v1/whoami', tasks.token)).body), { principal: `token:${tasks.id}`, readOnly: false, scopes: ['tasks'] });

  // An editor: a session, a path lease, a file written and read back.
  const editor = await files.client.register({ name: 'editor-1' });
  const lease = await files.client.acquire('path:src/**', { owner: 'editor-1', sessionId: editor.id });
  await files.client.writeFile('src/a.ts', 'export {};\n', lease);
  assert.equal(readFileSync(join(p.root, 'src/a.ts'), 'utf8'), 'export {};\n');
  assert.equal(Buffer.from(await files.client.readFile('src/a.ts')).toString(), 'export {};\n');
  assert.equal((await files.client.listLeases()).length, 1);
  await files.client.release(lease);
  await outOfScope(files.client.addTask({ title: 'nope' }), files.id, 'files', 'addTask');
  await outOfScope(files.client.claim(editor.id, { n: 1 }), files.id, 'files', 'claim');
  await outOfScope(files.client.listTasks(), files.id, 'files', 'listTasks');

  // Scopes add up; read alone is --read-only.
  const watcher = await tokenClient(t, p, 'watcher', ['tasks', 'read']);
  assert.equal((await watcher.client.listLeases()).length, 0);
  assert.equal((await call(p, 'GET', '/v1/events', watcher.token)).status, 200);
  await outOfScope(watcher.client.acquire('path:x', { owner: 'w', timeoutMs: 0 }), watcher.id, 'read,tasks', 'acquire');
  const reader = await tokenClient(t, p, 'reader', ['read']);
  await assert.rejects(reader.client.addTask({ title: 'x' }), (e: unknown) => isBatonError(e, 'PERMISSION_DENIED') && new RegExp(`token:${reader.id} is read-only: it cannot call addTask`).test((e as Error).message));

  // The dashboard shows every part: a token narrower than read gets no link, one with read a read-only one.
  const denied = await call(p, 'POST', '/v1/ui/link', tasks.token, '{}');
  assert.equal(denied.status, 403);
  assert.match(JSON.parse(denied.body).error.message, new RegExp(`^token:${tasks.id} has scope tasks: it cannot open the dashboard`));
  const readOnly = await call(p, 'POST', '/v1/ui/link', watcher.token, '{}');
  assert.equal(readOnly.status, 200, readOnly.body);
  assert.equal(JSON.parse(readOnly.body).readOnly, true, 'tasks,read gets a read-only dashboard');

  // Nothing the refused calls asked for happened.
  assert.equal((await p.daemon.client().listTasks()).length, 1);
});

test('an expired token gets 401 saying when it expired; list marks it; its dashboard sessions end with it', async (t) => {
  const p = await project(t);
  const brief = await createToken(p.stateDir, 'brief', { expiresInMs: 8000, scopes: ['read'] }); // long enough to sign in and open streams on a loaded machine
  const expiresAt = brief.expiresAt!;
  const lasting = await createToken(p.stateDir, 'lasting', { expiresInMs: 3_600_000 });
  const client = new RemoteCoordinator({ host: p.host, port: p.port, token: brief.token, retryForMs: 0 });
  t.after(() => client.close());
  // A dashboard session signed in with the token lives as long as the token does.
  const minted = await call(p, 'POST', '/v1/ui/link', brief.token, '{}');
  assert.equal(minted.status, 200, minted.body);
  const url = new URL(JSON.parse(minted.body).url as string);
  const signIn = await call({ host: url.hostname, port: Number(url.port) }, 'GET', `${url.pathname}${url.search}`, {});
  assert.equal(signIn.status, 303);
  const session = { cookie: String(signIn.headers['set-cookie']).split(';')[0]!, 'x-baton-session': /#session=(.+)$/.exec(String(signIn.headers.location))![1]! };
  assert.equal((await call(p, 'GET', '/v1/whoami', session)).status, 200);
  // Streams opened before the expiry: the token's own and its dashboard session's. They end with the token.
  const streams = [await openStream(p, `/v1/events?access_token=${brief.token}`, {}), await openStream(p, '/v1/events', session)];

  while (Date.now() < expiresAt + 50) await sleep(100);
  for (const [i, { ended }] of streams.entries()) {
    const at = await Promise.race([ended, sleep(10_000).then(() => undefined)]);
    assert.ok(at !== undefined, `${i === 0 ? "the token's" : "the dashboard session's"} open stream ended once the token expired`);
    assert.ok(at >= expiresAt, 'and not before');
  }
  await assert.rejects(client.listTasks(), (error: unknown) => {
    assert.ok(isBatonError(error, 'UNAUTHENTICATED'), String(error));
    assert.equal(error.message, `token ${brief.id} expired at ${new Date(expiresAt).toISOString()}; make a new one with baton auth token create`);
    return true;
  });
  assert.equal((await call(p, 'GET', '/v1/whoami', session)).status, 401, "the expired token's dashboard session ended with it");
  const other = new RemoteCoordinator({ host: p.host, port: p.port, token: lasting.token, retryForMs: 0 });
  t.after(() => other.close());
  assert.deepEqual(await other.listTasks(), []);

  const listed = await baton(['auth', 'token', 'list', '--state-dir', p.stateDir]);
  assert.equal(listed.code, 0, listed.stderr);
  const rows = listed.stdout.trimEnd().split('\n');
  assert.match(rows.find((r) => r.startsWith(brief.id))!, /\sbrief\s+read\s+\(default\)\s+\S+ \([^)]+\)\s+EXPIRED \S+ \(\S+ ago\)$/);
  assert.match(rows.find((r) => r.startsWith(lasting.id))!, /\slasting\s+full\s+\(default\)\s+\S+ \([^)]+\)\s+\S+ \(in 59m\d+s\)$/);
  const json = JSON.parse((await baton(['auth', 'token', 'list', '--json', '--state-dir', p.stateDir])).stdout) as Array<{ id: string; expired: boolean; expiresAt: number }>;
  assert.deepEqual(json.map((x) => [x.id, x.expired, x.expiresAt]), [
    [brief.id, true, expiresAt],
    [lasting.id, false, lasting.expiresAt],
  ]);
  // Written as version 2: a daemon from before scopes and expiry refuses the file rather than take these for full tokens.
  assert.equal(JSON.parse(readFileSync(join(p.stateDir, 'tokens.json'), 'utf8')).version, 2);
});

test('tokens.json from before scopes: no scopes is full, readOnly is read; --scope read is --read-only', async (t) => {
  const stateDir = join(tempDir(t), 'state');
  const full = await createToken(stateDir, 'old-full');
  const ro = await createToken(stateDir, 'old-ro', { readOnly: true });
  const doc = JSON.parse(readFileSync(join(stateDir, 'tokens.json'), 'utf8')) as { version: number; tokens: Array<Record<string, unknown>> };
  assert.equal(doc.version, 1, 'plain and read-only tokens still fit version 1');
  assert.deepEqual(doc.tokens.map((x) => Object.keys(x).sort()), [
    ['createdAt', 'hash', 'id', 'name'],
    ['createdAt', 'hash', 'id', 'name', 'readOnly'],
  ]);
  assert.deepEqual((await listTokens(stateDir)).map((x) => [x.id, x.scopes, x.readOnly]), [
    [full.id, ['full'], false],
    [ro.id, ['read'], true],
  ]);
  const viaScope = await baton(['auth', 'token', 'create', 'r', '--scope', 'read', '--json', '--state-dir', stateDir]);
  assert.equal(viaScope.code, 0, viaScope.stderr);
  assert.equal(JSON.parse(viaScope.stdout).readOnly, true, '--scope read is --read-only');
  const both = await baton(['auth', 'token', 'create', 'x', '--scope', 'full,tasks', '--expires', '90d', '--json', '--state-dir', stateDir]);
  assert.equal(both.code, 0, both.stderr);
  const made = JSON.parse(both.stdout) as { scopes: string[]; expiresAt: number; createdAt: number };
  assert.deepEqual(made.scopes, ['full'], 'full holds the rest');
  assert.equal(made.expiresAt - made.createdAt, 90 * 86_400_000);
});

test('bad --scope and --expires are one line naming the value; no token bytes in any refusal', async (t) => {
  const stateDir = join(tempDir(t), 'state');
  const cases: Array<[string[], string]> = [
    [['--scope', 'nope'], '--scope has no scope "nope"'],
    [['--scope', 'tasks,'], '--scope has no scope ""'],
    [['--scope', 'taks'], 'did you mean "tasks"?'],
    [['--expires', '-1'], '--expires must be a duration > 0: seconds, or a number with a unit ms, s, m, h, d or w (90d, 12h), got "-1"'],
    [['--expires', '0'], 'got "0"'],
    [['--expires', 'soon'], 'got "soon"'],
    [['--read-only', '--scope', 'tasks'], '--read-only is --scope read: give one of them'],
  ];
  for (const [args, says] of cases) {
    const run = await baton(['auth', 'token', 'create', 'x', ...args, '--state-dir', stateDir]);
    assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, /^baton: [^\n]*\[INVALID_ARGUMENT\]\n$/, `${args.join(' ')}: one line`);
    assert.ok(run.stderr.includes(says), `${args.join(' ')}: ${run.stderr}`);
  }
  assert.deepEqual(await listTokens(stateDir), [], 'nothing made');

  // Refusals name ids, never secrets: a forged secret for a real id, a damaged token, an expired one.
  const auth = new Authenticator({ stateDir });
  const real = await createToken(stateDir, 'real', { expiresInMs: 200 });
  const secret = real.token.slice(`baton_${real.id}_`.length);
  const forged = `baton_${real.id}_${'A'.repeat(43)}`;
  const messages: string[] = [];
  const refusal = async (authorization: string): Promise<void> => {
    try {
      await auth.authenticate({ method: 'GET', path: '/v1/whoami', headers: { authorization }, body: Buffer.alloc(0) });
      assert.fail(`accepted ${authorization.slice(0, 12)}...`);
    } catch (error) {
      messages.push((error as Error).message);
    }
  };
  await refusal(`Bearer ${forged}`);
  await refusal(`Bearer ${real.token}x`);
  await refusal(`Basic ${real.token}`);
  while (Date.now() <= real.expiresAt!) await sleep(50);
  await refusal(`Bearer ${real.token}`);
  assert.match(messages.at(-1)!, new RegExp(`^token ${real.id} expired at`));
  for (const m of messages) assert.ok(!m.includes(secret) && !m.includes('A'.repeat(43)), `a secret in ${JSON.stringify(m)}`);
});

test('a credentials-scoped token may ask for a provider credential; read, tasks and files tokens may not', async (t) => {
  const p = await project(t);
  const isolated = { GEMINI_API_KEY: process.env.GEMINI_API_KEY, GOOGLE_API_KEY: process.env.GOOGLE_API_KEY };
  delete process.env.GEMINI_API_KEY; // the client would answer from its own environment first
  delete process.env.GOOGLE_API_KEY;
  t.after(() => Object.assign(process.env, Object.fromEntries(Object.entries(isolated).filter(([, v]) => v !== undefined))));
  const agent = await tokenClient(t, p, 'gemini-agent', ['tasks', 'credentials']);
  // Allowed: the daemon answers for itself (no login here: LOGIN_REQUIRED, 424), not PERMISSION_DENIED.
  await assert.rejects(agent.client.credential('gemini'), (error: unknown) => isBatonError(error, 'LOGIN_REQUIRED'));
  await agent.client.addTask({ title: 'still a tasks token' });
  for (const scope of ['tasks', 'files']) {
    const other = await tokenClient(t, p, `no-credentials-${scope}`, [scope]);
    await outOfScope(other.client.credential('gemini'), other.id, scope, 'credential');
  }
  // An onlooker's token reads everything but this: the credential is a secret.
  const reader = await tokenClient(t, p, 'monitor', ['read']);
  await assert.rejects(reader.client.credential('gemini'), (error: unknown) => isBatonError(error, 'PERMISSION_DENIED') && /is read-only: it cannot call credential/.test(error.message));
});
