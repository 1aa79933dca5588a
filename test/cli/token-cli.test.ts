import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Authenticator } from '../../src/server/auth.ts';
import { baton, tempDir } from '../helpers/procs.ts';

test('baton auth token create, list, revoke with BATON_HOME', async (t) => {
  const home = join(tempDir(t, 'baton-token-cli-'), 'state');
  const env = { BATON_HOME: home };

  const empty = await baton(['auth', 'token', 'list'], { env });
  assert.equal(empty.code, 0, empty.stderr);
  assert.equal(empty.stdout, 'no tokens\n');

  // The token alone on stdout, the warning on stderr.
  const created = await baton(['auth', 'token', 'create', 'ci runner'], { env });
  assert.equal(created.code, 0, created.stderr);
  const token = created.stdout.trim();
  assert.match(token, /^baton_[0-9a-f]{8}_[A-Za-z0-9_-]{32,}$/);
  assert.equal(created.stdout, `${token}\n`);
  assert.match(created.stderr, /will not be shown again/);
  const id = token.slice('baton_'.length, 'baton_'.length + 8);
  assert.equal(statSync(home).mode & 0o777, 0o700, 'the state directory is made, mode 0700');
  const file = join(home, 'tokens.json');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.ok(!readFileSync(file, 'utf8').includes(token));

  const json = await baton(['auth', 'token', 'create', 'dashboard', '--json'], { env });
  assert.equal(json.code, 0, json.stderr);
  const second = JSON.parse(json.stdout) as { id: string; name: string; token: string; createdAt: number; readOnly: boolean; scopes: string[]; expiresAt: number | null };
  assert.deepEqual(Object.keys(second).sort(), ['admin', 'createdAt', 'expiresAt', 'id', 'name', 'projects', 'readOnly', 'scopes', 'token']);
  assert.equal(second.name, 'dashboard');
  assert.equal(second.readOnly, false);
  assert.deepEqual(second.scopes, ['full']);
  assert.equal(second.expiresAt, null);

  const monitor = await baton(['auth', 'token', 'create', 'monitor', '--read-only', '--json'], { env });
  assert.equal(monitor.code, 0, monitor.stderr);
  const readOnly = JSON.parse(monitor.stdout) as { id: string; token: string; readOnly: boolean };
  assert.equal(readOnly.readOnly, true);
  assert.deepEqual(await new Authenticator({ stateDir: home }).authenticate({ method: 'GET', path: '/', headers: { authorization: `Bearer ${readOnly.token}` }, body: Buffer.alloc(0) }), {
    principal: `token:${readOnly.id}`,
    readOnly: true,
  });

  // The daemon's side accepts what the CLI made.
  const auth = new Authenticator({ stateDir: home });
  assert.deepEqual(await auth.authenticate({ method: 'GET', path: '/', headers: { authorization: `Bearer ${token}` }, body: Buffer.alloc(0) }), { principal: `token:${id}` });

  const table = await baton(['auth', 'token', 'list'], { env });
  assert.equal(table.code, 0, table.stderr);
  const lines = table.stdout.trimEnd().split('\n');
  assert.match(lines[0]!, /^ID\s+NAME\s+SCOPES\s+PROJECTS\s+CREATED\s+EXPIRES$/);
  assert.match(lines[1]!, new RegExp(`^${id}\\s+ci runner\\s+full\\s+\\(default\\)\\s+\\d{4}-.*\\)\\s+-$`));
  assert.match(lines[3]!, new RegExp(`^${readOnly.id}\\s+monitor\\s+read\\s+\\(default\\)\\s+\\d{4}-`));
  assert.ok(!table.stdout.includes(token), 'list never shows a token');
  const listed = await baton(['auth', 'token', 'list', '--json'], { env });
  assert.deepEqual(
    (JSON.parse(listed.stdout) as Array<{ id: string; name: string; readOnly: boolean }>).map((x) => [x.id, x.name, x.readOnly]),
    [
      [id, 'ci runner', false],
      [second.id, 'dashboard', false],
      [readOnly.id, 'monitor', true],
    ],
  );

  const revoked = await baton(['auth', 'token', 'revoke', id], { env });
  assert.equal(revoked.code, 0, revoked.stderr);
  assert.equal(revoked.stdout, `revoked token ${id}\n`);
  await assert.rejects(auth.authenticate({ method: 'GET', path: '/', headers: { authorization: `Bearer ${token}` }, body: Buffer.alloc(0) }), /unknown or revoked/);

  const again = await baton(['auth', 'token', 'revoke', id], { env });
  assert.equal(again.code, 1);
  assert.match(again.stderr, new RegExp(`^baton: no token with id "${id}" .*\\[NOT_FOUND\\]\\n$`));
  const againJson = await baton(['auth', 'token', 'revoke', id, '--json'], { env });
  assert.equal((JSON.parse(againJson.stderr) as { error: { code: string } }).error.code, 'NOT_FOUND');

  const revokedJson = await baton(['auth', 'token', 'revoke', second.id, '--json'], { env });
  assert.deepEqual(JSON.parse(revokedJson.stdout), { id: second.id, revoked: true });
  assert.equal((await baton(['auth', 'token', 'revoke', readOnly.id], { env })).code, 0);
  assert.equal((await baton(['auth', 'token', 'list'], { env })).stdout, 'no tokens\n');
});

test('baton auth token: --state-dir, --help, usage errors', async (t) => {
  const dir = join(tempDir(t, 'baton-token-cli-'), 'elsewhere');
  const created = await baton(['auth', 'token', 'create', 'x', '--state-dir', dir, '--json'], { env: { BATON_HOME: '' } });
  assert.equal(created.code, 0, created.stderr);
  const { id } = JSON.parse(created.stdout) as { id: string };
  const listed = await baton(['auth', 'token', 'list', '--state-dir', dir, '--json']);
  assert.deepEqual((JSON.parse(listed.stdout) as Array<{ id: string }>).map((x) => x.id), [id]);

  for (const args of [['auth', 'token', '--help'], ['auth', 'token', 'create', '--help'], ['auth', 'token', 'revoke', '--help'], ['auth', 'token', 'list', '--help'], ['auth', 'help', 'token'], ['auth', 'token', 'help', 'create']]) {
    const r = await baton(args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stdout, /usage: baton auth token/);
  }
  // auth's help lists its actions: providers' logins, the API tokens, the key rotation.
  for (const args of [['auth', '--help'], ['help', 'auth']]) {
    const r = await baton(args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stdout, /^usage: baton auth <login\|logout\|status\|token\|rotate-key> \[options\]\n/);
    assert.match(r.stdout, /\n {2}token .*\n +baton auth token <create\|list\|revoke> \[options\]\n/);
  }
  for (const args of [['auth'], ['auth', 'frob'], ['auth', 'token'], ['auth', 'token', 'create'], ['auth', 'token', 'create', 'a', 'b'], ['auth', 'token', 'revoke'], ['auth', 'token', 'frob'], ['auth', 'token', 'list', '--bogus'], ['auth', 'token', 'create', '', '--state-dir', dir]]) {
    const r = await baton(args, { env: { BATON_HOME: dir } });
    assert.equal(r.code, 2, `${args.join(' ')} exits 2: ${r.stderr}`);
    assert.equal(r.stdout.includes('baton_'), false);
  }
  // `token` (now `auth token`) is gone, not an alias.
  const gone = await baton(['token', 'create', 'x'], { env: { BATON_HOME: dir } });
  assert.equal(gone.code, 2);
  assert.match(gone.stderr, /^baton: unknown command "token"/);
  assert.equal(gone.stdout, '');
});
