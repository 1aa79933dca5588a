import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { isBatonError } from '../../src/errors.ts';
import { ensureHmacSecret } from '../../src/project/hmac-key.ts';
import { createToken, listTokens, revokeToken } from '../../src/project/tokens.ts';
import { hmacKeyId, signRequest } from '../../src/protocol/signing.ts';
import { Authenticator, type AuthRequest } from '../../src/server/auth.ts';

function stateDir(t: TestContext): string {
  const base = mkdtempSync(join(tmpdir(), 'baton-auth-'));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  // A missing state directory is made on first use.
  return join(base, 'state');
}

function request(method: string, path: string, headers: AuthRequest['headers'] = {}, body = ''): AuthRequest {
  return { method, path, headers, body: Buffer.from(body) };
}

async function refused(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isBatonError(error, 'UNAUTHENTICATED'), `want UNAUTHENTICATED, got ${String(error)}`);
    assert.match((error as Error).message, pattern);
    assert.ok(!(error as Error).message.includes('\n'), 'the reason is one line');
    return true;
  });
}

test('tokens: create, list, revoke; only hashes on disk, mode 0600', async (t) => {
  const dir = stateDir(t);
  const a = await createToken(dir, 'ci');
  const b = await createToken(dir, 'dashboard');
  assert.match(a.id, /^[0-9a-f]{8}$/);
  assert.match(a.token, new RegExp(`^baton_${a.id}_[A-Za-z0-9_-]{32,}$`));
  assert.notEqual(a.id, b.id);
  assert.equal(a.name, 'ci');
  assert.ok(Math.abs(a.createdAt - Date.now()) < 10_000);

  assert.equal(statSync(dir).mode & 0o777, 0o700);
  const file = join(dir, 'tokens.json');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const text = readFileSync(file, 'utf8');
  assert.ok(!text.includes(a.token) && !text.includes(b.token), 'no plain token in tokens.json');
  assert.ok(!text.includes(a.token.slice(`baton_${a.id}_`.length)), 'not even the secret part');
  const doc = JSON.parse(text) as { version: number; tokens: Array<Record<string, unknown>> };
  assert.equal(doc.version, 1);
  assert.deepEqual(Object.keys(doc.tokens[0]!).sort(), ['createdAt', 'hash', 'id', 'name']);
  assert.match(String(doc.tokens[0]!.hash), /^[0-9a-f]{64}$/);

  assert.deepEqual(await listTokens(dir), [
    { id: a.id, name: 'ci', createdAt: a.createdAt, readOnly: false, scopes: ['full'], expiresAt: null, projects: null, admin: false },
    { id: b.id, name: 'dashboard', createdAt: b.createdAt, readOnly: false, scopes: ['full'], expiresAt: null, projects: null, admin: false },
  ]);
  assert.equal(await revokeToken(dir, a.id), true);
  assert.equal(await revokeToken(dir, a.id), false, 'a second revoke finds nothing');
  assert.equal(await revokeToken(dir, 'nothex!'), false);
  assert.deepEqual((await listTokens(dir)).map((x) => x.id), [b.id]);
  assert.equal(statSync(file).mode & 0o777, 0o600, 'still 0600 after a rewrite');

  await assert.rejects(createToken(dir, ''), (e: unknown) => isBatonError(e, 'INVALID_ARGUMENT'));
  await assert.rejects(createToken(dir, 'a\nb'), (e: unknown) => isBatonError(e, 'INVALID_ARGUMENT'));
});

test('tokens: nothing stored yet', async (t) => {
  const dir = stateDir(t);
  assert.deepEqual(await listTokens(dir), []);
  assert.equal(await revokeToken(dir, '0123abcd'), false);
});

test('tokens: concurrent creates lose none', async (t) => {
  const dir = stateDir(t);
  const created = await Promise.all(Array.from({ length: 12 }, (_, i) => createToken(dir, `agent-${i}`)));
  const listed = await listTokens(dir);
  assert.equal(listed.length, 12);
  assert.deepEqual(new Set(listed.map((x) => x.id)), new Set(created.map((x) => x.id)));
});

test('bearer: a valid token; a wrong, revoked or malformed one and no credentials are refused', async (t) => {
  const dir = stateDir(t);
  const auth = new Authenticator({ stateDir: dir });
  await refused(auth.authenticate(request('GET', '/v1/leases')), /^no credentials/);

  const { id, token } = await createToken(dir, 'ci');
  const bearer = (value: string) => request('POST', '/v1/leases', { authorization: `Bearer ${value}` }, '{}');
  assert.deepEqual(await auth.authenticate(bearer(token)), { principal: `token:${id}` });
  // Header names in any case.
  assert.deepEqual(await auth.authenticate(request('GET', '/', { Authorization: `bearer ${token}` })), { principal: `token:${id}` });

  const wrong = token.slice(0, -4) + (token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
  await refused(auth.authenticate(bearer(wrong)), new RegExp(`token ${id} is unknown or revoked`));
  await refused(auth.authenticate(bearer('baton_00000000_' + 'x'.repeat(43))), /unknown or revoked/);
  await refused(auth.authenticate(bearer('hunter2')), /malformed bearer token/);
  await refused(auth.authenticate(request('GET', '/', { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` })), /unsupported Authorization/);

  // Revocation is seen on the next request: the file is re-read when it changes.
  const other = await createToken(dir, 'other');
  assert.deepEqual(await auth.authenticate(bearer(other.token)), { principal: `token:${other.id}` });
  assert.equal(await revokeToken(dir, id), true);
  await refused(auth.authenticate(bearer(token)), /unknown or revoked/);
  assert.deepEqual(await auth.authenticate(bearer(other.token)), { principal: `token:${other.id}` });
});

test('bearer: access_token in the query for GET only', async (t) => {
  const dir = stateDir(t);
  const auth = new Authenticator({ stateDir: dir });
  const { id, token } = await createToken(dir, 'browser');
  assert.deepEqual(await auth.authenticate(request('GET', `/v1/events?since=4&access_token=${token}`)), { principal: `token:${id}` });
  await refused(auth.authenticate(request('POST', `/v1/leases?access_token=${token}`, {}, '{}')), /GET requests only/);
  await refused(auth.authenticate(request('GET', `/v1/events?access_token=${token}&access_token=${token}`)), /more than one access_token/);
  await refused(auth.authenticate(request('GET', '/v1/events?access_token=nope')), /malformed bearer token/);
});

test('hmac: the secret is made once, 0600, and shared by concurrent callers', async (t) => {
  const dir = stateDir(t);
  const keys = await Promise.all(Array.from({ length: 8 }, () => ensureHmacSecret(dir)));
  assert.equal(keys[0]!.length, 32);
  for (const k of keys) assert.ok(k.equals(keys[0]!));
  const file = join(dir, 'hmac.key');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(readFileSync(file, 'utf8').trim(), keys[0]!.toString('hex'));
  assert.ok((await ensureHmacSecret(dir)).equals(keys[0]!));
});

test('hmac: processes racing to make the secret all get the same one', async (t) => {
  const dir = stateDir(t);
  const module = new URL('../../src/project/hmac-key.ts', import.meta.url).href;
  const script = `const { ensureHmacSecret } = await import(${JSON.stringify(module)}); process.stdout.write((await ensureHmacSecret(process.argv[1])).toString('hex'));`;
  const run = (): Promise<string> =>
    new Promise((resolve, reject) => {
      execFile(process.execPath, ['--input-type=module', '-e', script, dir], (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout)));
    });
  const keys = await Promise.all(Array.from({ length: 6 }, run));
  for (const k of keys) assert.match(k, /^[0-9a-f]{64}$/);
  assert.equal(new Set(keys).size, 1, 'one secret');
  assert.equal(readFileSync(join(dir, 'hmac.key'), 'utf8'), keys[0]);
  // The .gitignore is baton's mark on every state directory it makes (it keeps one in a working tree out of git).
  assert.deepEqual(readdirSync(dir).filter((n) => n !== '.gitignore'), ['hmac.key'], 'no temp files left');
});

test('hmac: a signed request passes; bad signature, old timestamp, tampered body and replays are refused', async (t) => {
  const dir = stateDir(t);
  const secret = await ensureHmacSecret(dir);
  const auth = new Authenticator({ stateDir: dir, replayWindowMs: 60_000 });
  const body = JSON.stringify({ key: 'deploy', ttlMs: 1000 });
  const path = '/v1/leases?wait=1';

  const headers = signRequest(secret, 'POST', path, body);
  assert.match(headers['X-Baton-Timestamp']!, /^\d+$/);
  assert.match(headers['X-Baton-Signature']!, /^v1=[0-9a-f]{64}$/);
  assert.deepEqual(await auth.authenticate(request('POST', path, headers, body)), { principal: 'hmac', keyId: hmacKeyId(secret), admin: true });

  // The same signature again: a replay.
  await refused(auth.authenticate(request('POST', path, headers, body)), /already used/);
  // Node hands header names over in lower case; a fresh signature passes.
  const fresh = signRequest(secret.toString('hex'), 'POST', path, body, Date.now() + 1);
  const lower = Object.fromEntries(Object.entries(fresh).map(([k, v]) => [k.toLowerCase(), v]));
  assert.deepEqual(await auth.authenticate(request('POST', path, lower, body)), { principal: 'hmac', keyId: hmacKeyId(secret), admin: true });

  // Tampering with anything signed.
  const signed = signRequest(secret, 'POST', path, body, Date.now() + 2);
  await refused(auth.authenticate(request('POST', path, signed, body.replace('deploy', 'prod'))), /does not match/);
  await refused(auth.authenticate(request('PUT', path, signed, body)), /does not match/);
  await refused(auth.authenticate(request('POST', '/v1/leases?wait=0', signed, body)), /does not match/);
  await refused(auth.authenticate(request('POST', path, { ...signed, 'X-Baton-Timestamp': String(Date.now() + 3) }, body)), /does not match/);
  // ...a refused attempt does not use the signature up.
  assert.deepEqual(await auth.authenticate(request('POST', path, signed, body)), { principal: 'hmac', keyId: hmacKeyId(secret), admin: true });

  // The wrong secret.
  const wrongKey = signRequest(Buffer.alloc(32, 7), 'POST', path, body);
  await refused(auth.authenticate(request('POST', path, wrongKey, body)), /does not match/);

  // Outside the window, either way.
  const old = signRequest(secret, 'POST', path, body, Date.now() - 61_000);
  await refused(auth.authenticate(request('POST', path, old, body)), /old, outside the 60 s replay window/);
  const future = signRequest(secret, 'POST', path, body, Date.now() + 120_000);
  await refused(auth.authenticate(request('POST', path, future, body)), /in the future/);

  // Signed before this daemon (authenticator) started: possibly seen by the one before a restart.
  const beforeRestart = signRequest(secret, 'POST', path, body, Date.now() - 10);
  const restarted = new Authenticator({ stateDir: auth.stateDir, replayWindowMs: auth.replayWindowMs });
  await refused(restarted.authenticate(request('POST', path, beforeRestart, body)), /from before this daemon started/);
  assert.deepEqual(await restarted.authenticate(request('POST', path, signRequest(secret, 'POST', path, body, Date.now() + 1), body)), { principal: 'hmac', keyId: hmacKeyId(secret), admin: true });

  // Malformed or half present.
  await refused(auth.authenticate(request('POST', path, { 'X-Baton-Signature': headers['X-Baton-Signature'] }, body)), /without X-Baton-Timestamp/);
  await refused(auth.authenticate(request('POST', path, { 'X-Baton-Timestamp': String(Date.now()) }, body)), /without X-Baton-Signature/);
  await refused(auth.authenticate(request('POST', path, { ...signRequest(secret, 'POST', path, body), 'X-Baton-Signature': 'v2=abc' }, body)), /malformed X-Baton-Signature/);
  await refused(auth.authenticate(request('POST', path, { ...signRequest(secret, 'POST', path, body), 'X-Baton-Timestamp': 'yesterday' }, body)), /malformed X-Baton-Timestamp/);

  // An empty body signs as sha256 of nothing; GET works the same way.
  const get = signRequest(secret, 'GET', '/v1/events', '');
  assert.deepEqual(await auth.authenticate(request('GET', '/v1/events', get)), { principal: 'hmac', keyId: hmacKeyId(secret), admin: true });
});

test('hmac: concurrent copies of one signed request: exactly one passes', async (t) => {
  const dir = stateDir(t);
  const secret = await ensureHmacSecret(dir);
  const auth = new Authenticator({ stateDir: dir });
  const headers = signRequest(secret, 'POST', '/v1/tasks', '{"a":1}');
  const results = await Promise.allSettled(Array.from({ length: 10 }, () => auth.authenticate(request('POST', '/v1/tasks', headers, '{"a":1}'))));
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
});

test('hmac: the seen-signature cache is bounded', async (t) => {
  const dir = stateDir(t);
  const secret = await ensureHmacSecret(dir);
  const auth = new Authenticator({ stateDir: dir, maxSeenSignatures: 3 });
  const now = Date.now();
  for (let i = 0; i < 3; i++) await auth.authenticate(request('GET', '/', signRequest(secret, 'GET', '/', '', now + i)));
  assert.equal(auth.seenSignatures, 3);
  await assert.rejects(auth.authenticate(request('GET', '/', signRequest(secret, 'GET', '/', '', now + 3))), (e: unknown) => isBatonError(e, 'OVERLOADED'));
});
